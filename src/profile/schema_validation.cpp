#include "profile/schema_validation.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "engine/error.h"
#include "engine/layout.h"
#include "profile/validators.h"

namespace firstboot {

namespace {

using nlohmann::json;
using profile_rules::printable;

struct LoadedSchema {
  json document;
  valijson::Schema schema;
};

const LoadedSchema& load_schema() {
  static std::mutex mutex;
  static std::map<std::filesystem::path, std::unique_ptr<LoadedSchema>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  std::filesystem::path path = profile_schema_path();
  auto& slot = cache[path];
  if (!slot) {
    std::ifstream in(path);
    if (!in) throw Error("cannot read the profile schema " + path.string());
    auto loaded = std::make_unique<LoadedSchema>();
    try {
      loaded->document = json::parse(in);
      valijson::SchemaParser parser;
      valijson::adapters::NlohmannJsonAdapter adapter(loaded->document);
      parser.populateSchema(adapter, loaded->schema);
    } catch (const std::exception& e) {
      throw Error("the profile schema " + path.string() + " is broken: " + e.what());
    }
    slot = std::move(loaded);
  }
  return *slot;
}

// One step of a valijson context ("[hostname]", "[0]").
std::string context_key(const std::string& element) {
  if (element.size() >= 2 && element.front() == '[' && element.back() == ']')
    return element.substr(1, element.size() - 2);
  return element;
}

const json* resolve_ref(const json& schema_doc, const json* node) {
  for (int guard = 0; node && guard < 16 && node->is_object() && node->contains("$ref"); ++guard) {
    const std::string ref = (*node)["$ref"].get<std::string>();
    if (ref.rfind("#/", 0) != 0) return nullptr;
    try {
      node = &schema_doc.at(json::json_pointer(ref.substr(1)));
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  return node;
}

// The subschema for a child of a value described by schema (key for objects, index for arrays).
const json* child_schema(const json& schema_doc, const json* schema, const json& value,
                         const std::string& key) {
  schema = resolve_ref(schema_doc, schema);
  if (!schema || !schema->is_object()) return nullptr;
  if (value.is_object()) {
    if (schema->contains("properties") && (*schema)["properties"].contains(key))
      return resolve_ref(schema_doc, &(*schema)["properties"][key]);
    if (schema->contains("additionalProperties") && (*schema)["additionalProperties"].is_object())
      return resolve_ref(schema_doc, &(*schema)["additionalProperties"]);
    return nullptr;
  }
  if (value.is_array() && schema->contains("items"))
    return resolve_ref(schema_doc, &(*schema)["items"]);
  return nullptr;
}

std::string json_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "nothing (null)";
    case json::value_t::boolean:
      return "true/false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "a mapping";
    default:
      return "something else";
  }
}

std::string schema_type_name(const std::string& type) {
  if (type == "string") return "a string";
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "boolean") return "true or false";
  if (type == "array") return "a list";
  if (type == "object") return "a mapping";
  if (type == "null") return "nothing";
  return type;
}

std::string quoted_value(const json& value) {
  if (value.is_string()) return "\"" + printable(value.get<std::string>()) + "\"";
  if (value.is_object()) return "a mapping";
  if (value.is_array()) return "a list";
  return printable(value.dump());
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(const std::string& key, const json* schema) {
  std::vector<std::string> allowed;
  if (schema && schema->contains("properties"))
    for (auto& [name, _] : (*schema)["properties"].items()) allowed.push_back(name);
  std::string message = "unknown key '" + printable(key) + "'";
  std::string best;
  std::size_t best_distance = 3;
  for (auto& name : allowed) {
    std::size_t d = edit_distance(key, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  if (!best.empty()) return message + " (did you mean '" + best + "'?)";
  if (!allowed.empty()) message += "; allowed: " + join(allowed, ", ");
  return message;
}

std::string between_quotes(const std::string& text) {
  auto last = text.rfind('\'');
  if (last == std::string::npos || last == 0) return "";
  auto first = text.rfind('\'', last - 1);
  if (first == std::string::npos) return "";
  return text.substr(first + 1, last - first - 1);
}

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

std::filesystem::path profile_schema_path() {
  return data_dir() / "schema" / "profile.schema.json";
}

std::vector<DocumentIssue> validate_against_schema(const json& doc, const SourceMap& sources) {
  const LoadedSchema& loaded = load_schema();
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(loaded.schema, target, &results)) return {};

  std::vector<DocumentIssue> issues;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    const std::string& d = error.description;
    // valijson repeats each failure at every enclosing level; the innermost one says it all.
    if (starts_with(d, "Failed to validate against schema associated with") ||
        starts_with(d, "Failed to validate item #") || starts_with(d, "Cannot validate item #") ||
        starts_with(d, "Failed to validate against additional properties schema"))
      continue;

    // Walk the document and the schema along the context.
    const json* value = &doc;
    const json* schema = resolve_ref(loaded.document, &loaded.document);
    std::string pointer;
    for (std::size_t i = 1; i < error.context.size() && value; ++i) {
      std::string key = context_key(error.context[i]);
      schema = child_schema(loaded.document, schema, *value, key);
      if (value->is_object() && value->contains(key)) {
        pointer = pointer_child(pointer, key);
        value = &(*value)[key];
      } else if (value->is_array() && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10) {
        std::size_t index = std::stoul(key);
        if (index >= value->size()) break;
        pointer = pointer_index(pointer, index);
        value = &(*value)[index];
      } else {
        break;
      }
    }
    if (!value) continue;
    std::string field = sources.field(pointer);
    SourcePosition position = sources.value_position(pointer);
    int rank = 1;
    std::string message;
    if (starts_with(d, "Object contains a property that could not be validated")) {
      std::string key = between_quotes(d);
      std::string child = pointer_child(pointer, key);
      issues.push_back(DocumentIssue{child, field_child(field, key), sources.key_position(child),
                                     unknown_key_message(key, schema), 1});
      continue;
    }
    if (starts_with(d, "Missing required property")) {
      message = "missing required key '" + between_quotes(d) + "'";
    } else if (starts_with(d, "Value type not permitted")) {
      std::vector<std::string> wanted;
      if (schema && schema->contains("type")) {
        const json& type = (*schema)["type"];
        if (type.is_string()) wanted.push_back(schema_type_name(type.get<std::string>()));
        if (type.is_array())
          for (auto& t : type) wanted.push_back(schema_type_name(t.get<std::string>()));
      }
      message = "expected " +
                (wanted.empty() ? std::string("another type") : join(wanted, " or ")) + ", got " +
                json_type_name(*value);
      if (value->is_string() || value->is_number() || value->is_boolean())
        message += " (" + quoted_value(*value) + ")";
    } else if (starts_with(d, "Failed to match against any enum values")) {
      std::vector<std::string> allowed;
      if (schema && schema->contains("enum"))
        for (auto& v : (*schema)["enum"])
          allowed.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      message = "must be one of " + join(allowed, ", ") + " (got " + quoted_value(*value) + ")";
    } else if (starts_with(d, "Failed to match regex")) {
      rank = 2;
      std::string what = schema && schema->contains("description")
                             ? (*schema)["description"].get<std::string>()
                             : std::string("in the documented format");
      message = "must be " + what + " (got " + quoted_value(*value) + ")";
    } else if (starts_with(d, "Expected number greater than")) {
      std::string bound = schema && schema->contains("minimum") ? (*schema)["minimum"].dump() : "";
      message = "must be at least " + bound + " (got " + quoted_value(*value) + ")";
    } else if (starts_with(d, "Expected number less than")) {
      std::string bound = schema && schema->contains("maximum") ? (*schema)["maximum"].dump() : "";
      message = "must be at most " + bound + " (got " + quoted_value(*value) + ")";
    } else if (starts_with(d, "String should be no more than")) {
      rank = 2;
      std::string bound =
          schema && schema->contains("maxLength") ? (*schema)["maxLength"].dump() : "";
      message = "is too long (" + std::to_string(value->get<std::string>().size()) +
                " characters; at most " + bound + ")";
    } else if (starts_with(d, "String should be no fewer than")) {
      rank = 2;
      message = value->get<std::string>().empty() ? "must not be empty"
                                                  : "is too short (" + quoted_value(*value) + ")";
    } else if (starts_with(d, "Array should contain no fewer than")) {
      std::string bound =
          schema && schema->contains("minItems") ? (*schema)["minItems"].dump() : "1";
      message = "needs at least " + bound + (bound == "1" ? " entry" : " entries");
    } else if (starts_with(d, "Array should contain no more than") ||
               starts_with(d, "Object should have no more than")) {
      std::string key = starts_with(d, "Array") ? "maxItems" : "maxProperties";
      std::string bound = schema && schema->contains(key) ? (*schema)[key].dump() : "";
      message = "has too many entries (at most " + bound + ")";
    } else if (starts_with(d, "Elements at indexes #")) {
      message = "lists the same value more than once";
      // "Elements at indexes #i and #j violate uniqueness constraint."
      auto second = d.find('#', d.find('#') + 1);
      if (second != std::string::npos && value->is_array()) {
        std::size_t index = std::strtoul(d.c_str() + second + 1, nullptr, 10);
        if (index < value->size()) {
          message = quoted_value((*value)[index]) + " is listed more than once";
          pointer = pointer_index(pointer, index);
          field = sources.field(pointer);
          position = sources.value_position(pointer);
        }
      }
    } else {
      message = d;
    }
    issues.push_back(DocumentIssue{pointer, field, position, message, rank});
  }
  return issues;
}

}  // namespace firstboot
