// Loading a profile: YAML (yaml-cpp) -> JSON with a line:column per JSON pointer -> JSON Schema
// (valijson, schema/profile.schema.json) -> semantic checks -> the Profile model.
// Every problem is reported at once as FILE:LINE:COL: field.path: what is wrong.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "profile/profile.h"

namespace firstboot {

class Module;

struct ProfileIssue {
  std::string file;
  int line = 0;       // 1-based; 0 when unknown
  int column = 0;     // 1-based
  std::string field;  // dotted path: "domains[0].dkim.selector"; "" for the document itself
  std::string message;

  std::string format() const;  // "FILE:LINE:COL: field: message"
};

struct LoadedProfile {
  std::optional<Profile> profile;  // set only when issues is empty
  std::vector<ProfileIssue> issues;
};

// Limits that keep a hostile file from exhausting the machine.
inline constexpr std::size_t kMaxProfileBytes = 1024 * 1024;
inline constexpr std::size_t kMaxProfileNodes = 100000;

// Loads and validates. Modules' check_profile() add their semantic rules.
LoadedProfile load_profile(const std::filesystem::path& file,
                           const std::vector<const Module*>& modules);
// The same from text (tests, the wizard); file names the source in messages.
LoadedProfile load_profile_text(const std::string& text, const std::string& file,
                                const std::vector<const Module*>& modules);

// Validators shared by the schema checks, modules and the wizard.
bool is_valid_hostname(const std::string& name);  // RFC 1123, FQDN, <= 253, labels <= 63
bool is_valid_domain(const std::string& name);    // same rules, at least two labels
bool is_valid_email(const std::string& address);  // local@domain, conservative local part
bool is_valid_dkim_selector(const std::string& selector);
bool has_control_chars(const std::string& value);

}  // namespace firstboot
