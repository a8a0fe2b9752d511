// Renders templates/<module>/<file> with mustache. Data is JSON. Every interpolated value passes an
// escaper that refuses control characters (a newline in a host name can never inject a directive);
// values are validated for their target syntax by the profile checks before they get here.
// Templates use {{name}} only: triple mustaches and {{& }} (unescaped) are refused at load.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace firstboot {

class TemplateRenderer {
 public:
  explicit TemplateRenderer(std::filesystem::path templates_dir);

  // name is relative to the templates directory, e.g. "mail/main.cf".
  std::string render(std::string_view name, const nlohmann::json& data) const;
  // Renders a template given as text (for tests and inline snippets).
  static std::string render_text(std::string_view text, const nlohmann::json& data,
                                 std::string_view name_for_errors = "<inline>");

  const std::filesystem::path& directory() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace firstboot
