// YAML text -> JSON document + source map, through yaml-cpp's event parser so that every node keeps
// its line:column and hostile input is refused before it costs anything: anchors and aliases (alias
// bombs), explicit tags, too many nodes, too deep nesting, duplicate keys, binary data, invalid
// UTF-8, tabs in indentation and control characters in values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "profile/source_map.h"

namespace firstboot {

// A problem found while reading; pointer "" with a position for problems not tied to a value.
struct DocumentIssue {
  std::string pointer;
  std::string field;
  SourcePosition position;
  std::string message;
  // Per field, only the issues of the lowest rank are shown: 0 unreadable value (control
  // characters, duplicates), 1 structure and semantics, 2 format (a schema pattern or length) that
  // a semantic check may explain better.
  int rank = 0;
};

struct YamlDocument {
  nlohmann::json json;  // null when the text could not be read as one YAML document
  SourceMap sources;
  std::vector<DocumentIssue> issues;
  // When set, the document is unusable (parse error, hostile input); only issues matter.
  bool fatal = false;
};

inline constexpr std::size_t kMaxScalarBytes = 1024;
inline constexpr int kMaxProfileDepth = 32;

YamlDocument parse_yaml_document(const std::string& text);

}  // namespace firstboot
