// The state journal: per module, whether it is done, in progress, failed or skipped, with timings
// and validation results. A module is done only after apply and validate succeeded; a module found
// in_progress at start was interrupted and is simply run again (apply converges).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/check.h"

namespace firstboot {

enum class ModuleState { pending, in_progress, done, failed, skipped };
const char* to_string(ModuleState state);
ModuleState module_state_from_string(const std::string& text);

struct StepTiming {
  std::string name;
  double ms = 0;
};

struct ModuleRecord {
  ModuleState state = ModuleState::pending;
  std::string profile_digest;  // the profile this state is for
  std::string engine_version;
  std::string started_at;  // ISO 8601 UTC
  std::string finished_at;
  double duration_ms = 0;
  std::vector<StepTiming> steps;
  std::vector<CheckResult> checks;
  std::string error;  // why it failed, or why it was skipped
  std::size_t files_changed = 0;
  std::vector<std::string> services_changed;
};

class Journal {
 public:
  explicit Journal(std::filesystem::path file);

  // Loads the journal; a missing file is an empty journal. Throws Error on a corrupt file.
  void load();
  // Atomically writes the journal (temp + fsync + rename).
  void save() const;

  bool exists() const;
  const std::filesystem::path& file() const { return file_; }

  std::optional<ModuleRecord> get(const std::string& module) const;
  void put(const std::string& module, const ModuleRecord& record);
  const std::map<std::string, ModuleRecord>& modules() const { return modules_; }

  std::string last_run_started_at;  // of the whole run
  std::string profile_file;

 private:
  std::filesystem::path file_;
  std::map<std::string, ModuleRecord> modules_;
};

std::string now_iso8601();

}  // namespace firstboot
