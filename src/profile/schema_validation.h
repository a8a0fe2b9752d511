// JSON Schema validation (valijson, nlohmann adapter) of a profile document against
// schema/profile.schema.json, with valijson's generic errors turned into messages that say which
// key, which type, which values are allowed, placed at the line:column of the offending node.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "profile/source_map.h"
#include "profile/yaml_document.h"

namespace firstboot {

// The schema's path: data_dir()/schema/profile.schema.json.
std::filesystem::path profile_schema_path();

// Validates doc; throws Error when the schema itself cannot be read.
std::vector<DocumentIssue> validate_against_schema(const nlohmann::json& doc,
                                                   const SourceMap& sources);

}  // namespace firstboot
