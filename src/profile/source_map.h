// Where each value of a profile came from: JSON pointer -> line:column in the YAML file, plus the
// dotted field path used in messages ("domains[0].dkim.selector").
#pragma once

#include <string>
#include <unordered_map>

namespace firstboot {

struct SourcePosition {
  int line = 0;    // 1-based; 0: unknown
  int column = 0;  // 1-based
};

class SourceMap {
 public:
  // Records a node: its JSON pointer, its field path, where its value starts and (for a mapping
  // value) where its key is.
  void add(const std::string& pointer, const std::string& field, SourcePosition value,
           SourcePosition key);

  // Where the value at pointer starts; the nearest recorded ancestor when the pointer is unknown.
  SourcePosition value_position(const std::string& pointer) const;
  // Where the key of the value at pointer is (unknown keys are reported there).
  SourcePosition key_position(const std::string& pointer) const;
  // The same for a dotted field path (module issues carry only the field).
  SourcePosition field_position(const std::string& field) const;
  // The field path of a pointer; "" for the root or an unknown pointer.
  std::string field(const std::string& pointer) const;

 private:
  struct Entry {
    std::string field;
    SourcePosition value;
    SourcePosition key;
  };
  std::unordered_map<std::string, Entry> by_pointer_;
  std::unordered_map<std::string, std::string> pointer_by_field_;
};

// Helpers to build paths while walking a document.
std::string pointer_child(const std::string& pointer, const std::string& key);
std::string pointer_index(const std::string& pointer, std::size_t index);
std::string field_child(const std::string& field, const std::string& key);
std::string field_index(const std::string& field, std::size_t index);
// The pointer and field one level up ("" for the root).
std::string pointer_parent(const std::string& pointer);
std::string field_parent(const std::string& field);

}  // namespace firstboot
