// The only way the engine and modules change files. Every write is atomic (temp file, fsync, mode
// and owner set, rename, fsync of the directory), a file it replaces is first copied to the run's
// backup directory, and an unchanged file is never touched. In dry-run mode nothing is written: the
// writer records what would change, with a short diff.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace firstboot {

struct FileAttrs {
  mode_t mode = 0644;
  std::string owner;  // user name; empty: leave as created (the running user)
  std::string group;  // group name; empty: the owner's primary group, or unchanged
};

enum class FileChange { unchanged, created, updated, removed };
const char* to_string(FileChange change);

struct FileEvent {
  std::filesystem::path path;
  FileChange change;
  std::string diff;  // short unified-style diff for plan output; empty for secrets and binary data
  bool secret = false;
  // What the replaced file had, so a rollback restores it exactly.
  mode_t previous_mode = 0;
  uid_t previous_uid = static_cast<uid_t>(-1);
  gid_t previous_gid = static_cast<gid_t>(-1);
};

class FileWriter {
 public:
  // backup_root: where replaced files are copied, as backup_root/<run_id>/<path>.
  FileWriter(std::filesystem::path backup_root, std::string run_id, bool dry_run);

  bool dry_run() const { return dry_run_; }

  // Writes content when it differs from what is on disk (or mode/owner differ).
  // secret: never shown in diffs or backed up in clear elsewhere than the 0700 backup directory.
  FileChange write(const std::filesystem::path& path, std::string_view content,
                   const FileAttrs& attrs, bool secret = false);

  // Creates the file with generate() only when it does not exist yet; an existing file (a key, a
  // certificate) is never regenerated, only its mode and owner are corrected.
  FileChange create_once(const std::filesystem::path& path,
                         const std::function<std::string()>& generate, const FileAttrs& attrs,
                         bool secret = true);

  // Creates the directory (and parents) when missing, and sets mode and owner.
  FileChange ensure_directory(const std::filesystem::path& path, const FileAttrs& attrs);

  // Removes a file this engine manages (backed up first). Missing: unchanged.
  FileChange remove(const std::filesystem::path& path);

  // Events since construction, in order. checkpoint()/rollback_to() undo the writes made after a
  // checkpoint by restoring the backups (used when a rendered config fails its check).
  const std::vector<FileEvent>& events() const { return events_; }
  std::size_t checkpoint() const { return events_.size(); }
  void rollback_to(std::size_t checkpoint);

  // Number of files created, updated or removed.
  std::size_t changed_count() const;

  // Called once, just before the first real change on disk (the runner marks the module
  // in progress in the journal then, so a run that changes nothing writes nothing at all).
  void on_first_change(std::function<void()> hook) { first_change_hook_ = std::move(hook); }

 private:
  void about_to_change();

  void backup(const std::filesystem::path& path);
  std::filesystem::path backup_path(const std::filesystem::path& path) const;

  std::filesystem::path backup_root_;
  std::string run_id_;
  bool dry_run_;
  std::vector<FileEvent> events_;
  std::function<void()> first_change_hook_;
};

// Reads a whole file; throws Error with the path on failure.
std::string read_file(const std::filesystem::path& path);

// Atomic write without backup or events, for the engine's own bookkeeping (journal, pid files).
void write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);
// The temporary file an atomic write of path goes through (".NAME.firstboot-tmp" beside it), and
// its removal: a write killed before its rename leaves that file; the next run cleans it up.
std::filesystem::path temp_path_for(const std::filesystem::path& path);
void remove_stale_temp(const std::filesystem::path& path);

// Sets owner and group by name when running as root; a no-op otherwise. Throws on unknown names.
void set_owner(const std::filesystem::path& path, const std::string& owner,
               const std::string& group);

}  // namespace firstboot
