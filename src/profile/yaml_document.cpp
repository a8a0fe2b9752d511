#include "profile/yaml_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "profile/profile_loader.h"
#include "profile/validators.h"

namespace firstboot {

namespace {

using nlohmann::json;
using profile_rules::printable;

SourcePosition to_position(const YAML::Mark& mark) {
  if (mark.is_null()) return SourcePosition{1, 1};
  return SourcePosition{mark.line + 1, mark.column + 1};
}

// Thrown to stop reading at the first hostile construct.
struct StopReading {};

bool is_digits(const std::string& s, std::size_t from, bool hex = false, bool octal = false) {
  if (from >= s.size()) return false;
  for (std::size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    bool ok = octal ? (c >= '0' && c <= '7')
                    : (c >= '0' && c <= '9') ||
                          (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    if (!ok) return false;
  }
  return true;
}

bool looks_like_float(const std::string& s) {
  // [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?  (YAML 1.2 core schema)
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// A plain (unquoted) scalar, resolved by the YAML 1.2 core schema. "yes"/"no"/"on"/"off" stay
// strings: a profile says true or false.
json resolve_plain(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (is_digits(s, sign)) {
    std::int64_t value = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size()) return value;
    return std::strtod(s.c_str(), nullptr);  // too large for an integer: a number
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    bool hex = s[1] == 'x';
    if (is_digits(s, 2, hex, !hex)) {
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), value, hex ? 16 : 8);
      if (ec == std::errc() && end == s.data() + s.size()) return value;
    }
  }
  if (looks_like_float(s)) {
    double value = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(value)) return value;
  }
  return s;
}

class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(YamlDocument& doc) : doc_(doc) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) fatal("", "", to_position(mark), "only one YAML document is allowed");
  }
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    fatal_here(mark, "YAML anchors (&" + printable(name) +
                         ") are not allowed in a profile; write each value out");
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(mark, anchor);
    if (expecting_key()) {
      fatal_here(mark, "a mapping key is missing or empty");
    }
    // yaml-cpp marks an empty value where the next token starts; its key is the better place.
    Slot slot = take_slot(mark, true);
    if (slot.target) *slot.target = nullptr;
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fatal_here(mark, "YAML aliases (*name) are not allowed in a profile");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count(mark, anchor);
    if (expecting_key()) {
      take_key(mark, tag, value);
      return;
    }
    Slot slot = take_slot(mark);
    if (!slot.target) return;
    check_tag(mark, tag, slot);
    if (value.size() > kMaxScalarBytes) {
      issue(slot.pointer, slot.field, to_position(mark),
            "is " + std::to_string(value.size()) + " bytes long; values are limited to " +
                std::to_string(kMaxScalarBytes) + " bytes");
      // Only the reported prefix goes on: no later check ever sees a huge string.
      *slot.target = value.substr(0, kMaxScalarBytes);
      return;
    }
    if (has_control_chars(value)) {
      issue(slot.pointer, slot.field, to_position(mark),
            "contains a control character (\"" + printable(value) +
                "\"); control characters are not allowed in any value");
    }
    *slot.target = tag == "?" ? resolve_plain(value) : json(value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    open(mark, tag, anchor, false, style);
  }
  void OnSequenceEnd() override { stack_.pop_back(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open(mark, tag, anchor, true, style);
  }
  void OnMapEnd() override { stack_.pop_back(); }

  json& root() { return root_; }
  bool empty() const { return documents_ == 0; }

 private:
  struct Frame {
    json* node = nullptr;  // nullptr: a discarded subtree (the value of a duplicate key)
    std::string pointer;
    std::string field;
    bool is_map = false;
    bool have_key = false;
    bool discard_value = false;
    std::string key;
    SourcePosition key_position;
  };
  struct Slot {
    json* target = nullptr;  // nullptr: discard
    std::string pointer;
    std::string field;
  };

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().is_map && !stack_.back().have_key;
  }

  void count(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != 0) fatal_here(mark, "YAML anchors are not allowed in a profile");
    if (++nodes_ > kMaxProfileNodes)
      fatal_here(mark, "the profile has more than " + std::to_string(kMaxProfileNodes) +
                           " YAML nodes; refusing to read further");
  }

  void take_key(const YAML::Mark& mark, const std::string& tag, const std::string& key) {
    Frame& top = stack_.back();
    top.have_key = true;
    top.key = key;
    top.key_position = to_position(mark);
    top.discard_value = top.node == nullptr;
    if (!top.node) return;
    std::string field = field_child(top.field, key);
    if (tag != "?" && tag != "!") {
      issue(pointer_child(top.pointer, key), field, top.key_position,
            "explicit YAML tags are not supported");
    }
    if (has_control_chars(key) || key.size() > 256) {
      issue(top.pointer, top.field, top.key_position,
            "has a key with control characters or over 256 bytes (\"" + printable(key) + "\")");
      top.discard_value = true;
    } else if (top.node->contains(key)) {
      SourcePosition first = doc_.sources.key_position(pointer_child(top.pointer, key));
      issue(pointer_child(top.pointer, key), field, top.key_position,
            "duplicate key '" + printable(key) + "' (first given at line " +
                std::to_string(first.line) + ")");
      top.discard_value = true;
    }
  }

  Slot take_slot(const YAML::Mark& mark, bool at_key = false) {
    SourcePosition position = to_position(mark);
    if (at_key && !stack_.empty() && stack_.back().is_map) position = stack_.back().key_position;
    if (stack_.empty()) {
      doc_.sources.add("", "", position, SourcePosition{});
      return Slot{&root_, "", ""};
    }
    Frame& top = stack_.back();
    if (top.is_map) {
      top.have_key = false;
      if (top.discard_value || !top.node) return Slot{};
      std::string pointer = pointer_child(top.pointer, top.key);
      std::string field = field_child(top.field, top.key);
      doc_.sources.add(pointer, field, position, top.key_position);
      return Slot{&(*top.node)[top.key], pointer, field};
    }
    if (!top.node) return Slot{};
    std::size_t index = top.node->size();
    top.node->push_back(nullptr);
    std::string pointer = pointer_index(top.pointer, index);
    std::string field = field_index(top.field, index);
    doc_.sources.add(pointer, field, position, SourcePosition{});
    return Slot{&top.node->back(), pointer, field};
  }

  void check_tag(const YAML::Mark& mark, const std::string& tag, const Slot& slot) {
    if (tag == "?" || tag == "!") return;
    std::string shown = tag;
    const std::string core = "tag:yaml.org,2002:";
    if (shown.rfind(core, 0) == 0) shown = "!!" + shown.substr(core.size());
    issue(slot.pointer, slot.field, to_position(mark),
          "explicit YAML tags (" + printable(shown) + ") are not supported");
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, bool is_map,
            YAML::EmitterStyle::value style) {
    count(mark, anchor);
    if (expecting_key())
      fatal_here(mark, "a mapping key must be a plain value, not a " +
                           std::string(is_map ? "mapping" : "list"));
    if (stack_.size() >= static_cast<std::size_t>(kMaxProfileDepth))
      fatal_here(mark,
                 "the profile nests deeper than " + std::to_string(kMaxProfileDepth) + " levels");
    // A block mapping or list "starts" at its first entry, on the line after its key; problems
    // with it as a whole are better shown at the key.
    Slot slot = take_slot(mark, style == YAML::EmitterStyle::Block);
    if (slot.target) {
      check_tag(mark, tag, slot);
      *slot.target = is_map ? json::object() : json::array();
    }
    Frame frame;
    frame.node = slot.target;
    frame.pointer = slot.pointer;
    frame.field = slot.field;
    frame.is_map = is_map;
    stack_.push_back(std::move(frame));
  }

  void issue(const std::string& pointer, const std::string& field, SourcePosition position,
             const std::string& message) {
    doc_.issues.push_back(DocumentIssue{pointer, field, position, message});
  }

  // Stops reading: the rest of the document is not trusted.
  [[noreturn]] void fatal(const std::string& pointer, const std::string& field,
                          SourcePosition position, const std::string& message) {
    issue(pointer, field, position, message);
    throw StopReading{};
  }
  [[noreturn]] void fatal_here(const YAML::Mark& mark, const std::string& message) {
    std::string pointer, field;
    if (!stack_.empty() && stack_.back().node) {
      const Frame& top = stack_.back();
      if (top.is_map && top.have_key) {
        pointer = pointer_child(top.pointer, top.key);
        field = field_child(top.field, top.key);
      } else {
        pointer = top.pointer;
        field = top.field;
      }
    }
    fatal(pointer, field, to_position(mark), message);
  }

  YamlDocument& doc_;
  json root_;
  std::vector<Frame> stack_;
  std::size_t nodes_ = 0;
  int documents_ = 0;
};

SourcePosition position_of_offset(const std::string& text, std::size_t offset) {
  SourcePosition pos{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

// The offset of the first byte that is not valid UTF-8, or npos.
std::size_t invalid_utf8_offset(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string::npos;
}

// Problems visible in the raw bytes: not text at all, or tabs used for indentation.
bool check_raw_text(const std::string& text, YamlDocument& doc) {
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    doc.issues.push_back(DocumentIssue{"", "", position_of_offset(text, nul),
                                       "the file contains NUL bytes; it is binary data, not a "
                                       "YAML profile"});
    return false;
  }
  if (auto bad = invalid_utf8_offset(text); bad != std::string::npos) {
    doc.issues.push_back(DocumentIssue{"", "", position_of_offset(text, bad),
                                       "the file is not valid UTF-8 (byte \\x" +
                                           printable(text.substr(bad, 1)).substr(2) +
                                           "); a profile is UTF-8 text"});
    return false;
  }
  bool ok = true;
  int line = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    // yaml-cpp refuses a tab even on an otherwise blank line; say why, at the tab.
    for (std::size_t i = start; i < end && (text[i] == ' ' || text[i] == '\t'); ++i) {
      if (text[i] == '\t') {
        doc.issues.push_back(
            DocumentIssue{"", "", SourcePosition{line, static_cast<int>(i - start) + 1},
                          "a tab is used for indentation; YAML indents with spaces"});
        ok = false;
        break;
      }
    }
    ++line;
    start = end + 1;
  }
  return ok;
}

}  // namespace

YamlDocument parse_yaml_document(const std::string& text) {
  YamlDocument doc;
  if (!check_raw_text(text, doc)) {
    doc.fatal = true;
    return doc;
  }
  // CRLF line ends become LF (positions stay the same); a byte order mark is dropped.
  std::string normalized;
  normalized.reserve(text.size());
  std::size_t from = text.rfind("\xef\xbb\xbf", 0) == 0 ? 3 : 0;
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    normalized += text[i];
  }
  JsonBuilder builder(doc);
  try {
    std::istringstream in(normalized);
    YAML::Parser parser(in);
    // A second document is refused by the builder as soon as it starts.
    for (int i = 0; i < 2 && parser.HandleNextDocument(builder); ++i) {
    }
  } catch (const StopReading&) {
    doc.fatal = true;
  } catch (const YAML::ParserException& e) {
    doc.issues.push_back(DocumentIssue{"", "", to_position(e.mark), "YAML syntax error: " + e.msg});
    doc.fatal = true;
  } catch (const YAML::Exception& e) {
    doc.issues.push_back(DocumentIssue{"", "", to_position(e.mark), "YAML error: " + e.msg});
    doc.fatal = true;
  }
  if (doc.fatal) return doc;
  doc.json = std::move(builder.root());
  if (builder.empty() || doc.json.is_null()) {
    doc.issues.push_back(DocumentIssue{"", "", SourcePosition{1, 1},
                                       "the profile is empty; expected a mapping of settings "
                                       "(hostname: ..., mode: ..., ...)"});
    doc.fatal = true;
  } else if (!doc.json.is_object()) {
    doc.issues.push_back(
        DocumentIssue{"", "", doc.sources.value_position(""),
                      std::string("the profile must be a mapping of settings (key: value), not ") +
                          (doc.json.is_array() ? "a list" : "a single value")});
    doc.fatal = true;
  }
  return doc;
}

}  // namespace firstboot
