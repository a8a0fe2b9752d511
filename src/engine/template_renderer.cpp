#include "engine/template_renderer.h"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/file_writer.h"

namespace firstboot {

namespace ms = kainjow::mustache;

namespace {

ms::data to_mustache(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      ms::data out{ms::data::type::object};
      for (auto& [key, item] : value.items()) out.set(key, to_mustache(item));
      return out;
    }
    case nlohmann::json::value_t::array: {
      ms::data out{ms::data::type::list};
      for (auto& item : value) out.push_back(to_mustache(item));
      return out;
    }
    case nlohmann::json::value_t::string:
      return ms::data(value.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? ms::data(ms::data::type::bool_true)
                               : ms::data(ms::data::type::bool_false);
    case nlohmann::json::value_t::null:
      return ms::data(ms::data::type::bool_false);
    default:
      return ms::data(value.dump());  // numbers
  }
}

// Values are validated for their syntax before rendering; this is the last line of defence: no
// value may carry a control character into a config file (a newline would start a new directive).
std::string refuse_control_chars(const std::string& value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f)
      throw Error("a template value contains a control character (refused to render): '" +
                  nlohmann::json(value).dump() + "'");
  }
  return value;
}

}  // namespace

TemplateRenderer::TemplateRenderer(std::filesystem::path templates_dir)
    : dir_(std::move(templates_dir)) {}

std::string TemplateRenderer::render(std::string_view name, const nlohmann::json& data) const {
  std::filesystem::path file = dir_ / std::string(name);
  return render_text(read_file(file), data, file.string());
}

std::string TemplateRenderer::render_text(std::string_view text, const nlohmann::json& data,
                                          std::string_view name_for_errors) {
  std::string where(name_for_errors);
  if (text.find("{{{") != std::string_view::npos || text.find("{{&") != std::string_view::npos)
    throw Error("template " + where +
                ": unescaped interpolation ({{{ }}} or {{& }}) is not allowed");
  ms::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) throw Error("template " + where + ": " + tmpl.error_message());
  tmpl.set_custom_escape(refuse_control_chars);
  std::string out;
  try {
    out = tmpl.render(to_mustache(data));
  } catch (const Error& e) {
    throw Error("rendering " + where + ": " + e.what());
  }
  if (!tmpl.is_valid()) throw Error("rendering " + where + ": " + tmpl.error_message());
  return out;
}

}  // namespace firstboot
