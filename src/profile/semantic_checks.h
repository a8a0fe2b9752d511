// Rules the JSON Schema cannot express: host names and addresses checked strictly (nothing that
// could inject a directive into a config file passes), unique users, aliases that lead somewhere,
// addresses inside the listed domains, distinct ports, files that must exist, sizes, intervals and
// what each mode needs. Works on a document that may also have failed the schema: a value of the
// wrong type is skipped here (the schema already reported it).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "profile/source_map.h"
#include "profile/yaml_document.h"

namespace firstboot {

// base_dir: the profile's directory, against which relative paths are resolved.
std::vector<DocumentIssue> check_semantics(const nlohmann::json& doc, const SourceMap& sources,
                                           const std::filesystem::path& base_dir);

// A path from the profile made absolute against the profile's directory.
std::filesystem::path resolve_profile_path(const std::string& path,
                                           const std::filesystem::path& base_dir);

// Pointers of every path-valued field present in doc (for resolving them in the model).
std::vector<nlohmann::json::json_pointer> profile_path_fields(const nlohmann::json& doc);

// Size and interval bounds (bytes, seconds).
inline constexpr std::uint64_t kMinMessageSize = 1024;
inline constexpr std::uint64_t kMaxMessageSize = 2ULL * 1024 * 1024 * 1024;
inline constexpr std::uint64_t kMinInterval = 10;
inline constexpr std::uint64_t kMaxInterval = 7 * 24 * 3600;

}  // namespace firstboot
