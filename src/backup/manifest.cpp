#include "backup/manifest.h"

#include <nlohmann/json.hpp>
#include <set>

#include "backup/contents.h"
#include "engine/error.h"

namespace firstboot::backup {

using nlohmann::json;

std::size_t Manifest::file_count() const {
  std::size_t n = 0;
  for (auto& e : entries) n += e.directory ? 0 : 1;
  return n;
}

std::uint64_t Manifest::total_bytes() const {
  std::uint64_t n = 0;
  for (auto& e : entries) n += e.size;
  return n;
}

namespace {

std::string octal(mode_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

template <typename T>
T field(const json& obj, const char* key, const char* what) {
  auto it = obj.find(key);
  if (it == obj.end()) throw Error(std::string("manifest: ") + what + " has no '" + key + "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(std::string("manifest: ") + what + ": '" + key + "' has the wrong type");
  }
}

}  // namespace

std::string manifest_to_json(const Manifest& m) {
  json entries = json::array();
  for (auto& e : m.entries) {
    json j = {{"path", e.path},        {"type", e.directory ? "dir" : "file"},
              {"mode", octal(e.mode)}, {"owner", e.owner},
              {"group", e.group},      {"uid", e.uid},
              {"gid", e.gid},          {"mtime", e.mtime}};
    if (!e.directory) {
      j["size"] = e.size;
      j["sha256"] = e.sha256;
    }
    entries.push_back(std::move(j));
  }
  json doc = {{"format", m.format},
              {"created", m.created},
              {"created_unix", m.created_unix},
              {"hostname", m.hostname},
              {"firstboot_version", m.firstboot_version},
              {"profile_digest", m.profile_digest},
              {"database", m.database},
              {"skipped", m.skipped},
              {"files", m.file_count()},
              {"bytes", m.total_bytes()},
              {"entries", std::move(entries)}};
  return doc.dump(1) + "\n";
}

Manifest manifest_from_json(const std::string& text) {
  if (text.size() > kMaxManifestBytes) throw Error("manifest: larger than 512 MiB");
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw Error("manifest: not valid JSON");
  Manifest m;
  m.format = field<int>(doc, "format", "the manifest");
  if (m.format != 1)
    throw Error("manifest: format " + std::to_string(m.format) +
                " is not known to this firstboot (it reads format 1)");
  m.created = field<std::string>(doc, "created", "the manifest");
  m.created_unix = field<std::int64_t>(doc, "created_unix", "the manifest");
  m.hostname = field<std::string>(doc, "hostname", "the manifest");
  m.firstboot_version = field<std::string>(doc, "firstboot_version", "the manifest");
  m.profile_digest = field<std::string>(doc, "profile_digest", "the manifest");
  m.database = field<std::string>(doc, "database", "the manifest");
  m.skipped = field<std::uint64_t>(doc, "skipped", "the manifest");
  auto it = doc.find("entries");
  if (it == doc.end() || !it->is_array()) throw Error("manifest: no entries list");
  if (it->size() > kMaxEntries)
    throw Error("manifest: more than " + std::to_string(kMaxEntries) + " entries");
  std::set<std::string> seen;
  for (auto& j : *it) {
    if (!j.is_object()) throw Error("manifest: an entry is not an object");
    ManifestEntry e;
    e.path = field<std::string>(j, "path", "an entry");
    std::string why = entry_path_problem(e.path);
    if (!why.empty() || e.path != normalized_entry(e.path) || e.path == kManifestEntry ||
        e.path == kManifestSumEntry)
      throw Error("manifest: refusing entry '" + e.path.substr(0, 200) +
                  "': " + (why.empty() ? "a name reserved for the manifest" : why));
    if (!seen.insert(e.path).second) throw Error("manifest: '" + e.path + "' listed twice");
    std::string type = field<std::string>(j, "type", e.path.c_str());
    if (type != "dir" && type != "file") throw Error("manifest: " + e.path + ": unknown type");
    e.directory = type == "dir";
    std::string mode = field<std::string>(j, "mode", e.path.c_str());
    if (mode.size() != 4 || mode.find_first_not_of("01234567") != std::string::npos)
      throw Error("manifest: " + e.path + ": bad mode");
    e.mode = static_cast<mode_t>(std::stoul(mode, nullptr, 8));
    e.owner = field<std::string>(j, "owner", e.path.c_str());
    e.group = field<std::string>(j, "group", e.path.c_str());
    e.uid = field<uid_t>(j, "uid", e.path.c_str());
    e.gid = field<gid_t>(j, "gid", e.path.c_str());
    e.mtime = field<std::int64_t>(j, "mtime", e.path.c_str());
    if (!e.directory) {
      e.size = field<std::uint64_t>(j, "size", e.path.c_str());
      e.sha256 = field<std::string>(j, "sha256", e.path.c_str());
      if (!is_hex64(e.sha256)) throw Error("manifest: " + e.path + ": bad sha256");
    }
    m.entries.push_back(std::move(e));
  }
  return m;
}

std::string compare_with_manifest(const Manifest& manifest,
                                  const std::map<std::string, ManifestEntry>& read) {
  std::string out;
  int shown = 0;
  auto note = [&](const std::string& line) {
    if (++shown <= 5) out += line + "\n";
  };
  std::set<std::string> listed;
  for (auto& e : manifest.entries) {
    listed.insert(e.path);
    auto it = read.find(e.path);
    if (it == read.end()) {
      note(e.path + ": listed in the manifest but missing from the archive");
      continue;
    }
    const ManifestEntry& r = it->second;
    if (r.directory != e.directory)
      note(e.path + ": a " + (r.directory ? "directory" : "file") + " in the archive, a " +
           (e.directory ? "directory" : "file") + " in the manifest");
    else if (!e.directory && r.size != e.size)
      note(e.path + ": " + std::to_string(r.size) + " bytes in the archive, " +
           std::to_string(e.size) + " in the manifest");
    else if (!e.directory && r.sha256 != e.sha256)
      note(e.path + ": sha256 " + r.sha256 + " does not match the manifest's " + e.sha256);
  }
  for (auto& [path, r] : read)
    if (!listed.count(path)) note(path + ": in the archive but not in the manifest");
  if (shown > 5) out += "(" + std::to_string(shown - 5) + " more difference(s))\n";
  return out;
}

}  // namespace firstboot::backup
