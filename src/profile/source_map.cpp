#include "profile/source_map.h"

#include <nlohmann/json.hpp>

namespace firstboot {

void SourceMap::add(const std::string& pointer, const std::string& field, SourcePosition value,
                    SourcePosition key) {
  by_pointer_[pointer] = Entry{field, value, key};
  pointer_by_field_[field] = pointer;
}

SourcePosition SourceMap::value_position(const std::string& pointer) const {
  std::string p = pointer;
  for (int guard = 0; guard < 1000; ++guard) {
    auto it = by_pointer_.find(p);
    if (it != by_pointer_.end()) return it->second.value;
    if (p.empty()) break;
    p = pointer_parent(p);
  }
  return SourcePosition{1, 1};
}

SourcePosition SourceMap::key_position(const std::string& pointer) const {
  auto it = by_pointer_.find(pointer);
  if (it != by_pointer_.end() && it->second.key.line > 0) return it->second.key;
  return value_position(pointer);
}

SourcePosition SourceMap::field_position(const std::string& field) const {
  std::string f = field;
  for (int guard = 0; guard < 1000; ++guard) {
    auto it = pointer_by_field_.find(f);
    if (it != pointer_by_field_.end()) return key_position(it->second);
    if (f.empty()) break;
    f = field_parent(f);
  }
  return SourcePosition{1, 1};
}

std::string SourceMap::field(const std::string& pointer) const {
  auto it = by_pointer_.find(pointer);
  return it == by_pointer_.end() ? std::string() : it->second.field;
}

std::string pointer_child(const std::string& pointer, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return pointer + "/" + escaped;
}

std::string pointer_index(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

namespace {
bool is_plain_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

std::string field_child(const std::string& field, const std::string& key) {
  if (is_plain_key(key)) return field.empty() ? key : field + "." + key;
  // Keys with dots or other characters (relay.mappings entries) are quoted, JSON style.
  return field + "[" + nlohmann::json(key).dump(-1, ' ', true) + "]";
}

std::string field_index(const std::string& field, std::size_t index) {
  return field + "[" + std::to_string(index) + "]";
}

std::string pointer_parent(const std::string& pointer) {
  auto slash = pointer.rfind('/');
  return slash == std::string::npos ? std::string() : pointer.substr(0, slash);
}

std::string field_parent(const std::string& field) {
  if (field.empty()) return "";
  if (field.back() == ']') {
    // "[12]" or ["quoted"]: find the '[' that opens the last element.
    if (field.size() >= 2 && field[field.size() - 2] == '"') {
      auto open = field.rfind("[\"");
      return open == std::string::npos ? std::string() : field.substr(0, open);
    }
    auto open = field.rfind('[');
    return open == std::string::npos ? std::string() : field.substr(0, open);
  }
  auto dot = field.find_last_of(".]");
  if (dot == std::string::npos) return "";
  if (field[dot] == ']') return field.substr(0, dot + 1);
  return field.substr(0, dot);
}

}  // namespace firstboot
