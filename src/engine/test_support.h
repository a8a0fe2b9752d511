// Test helpers shared by the unit tests: a scratch directory and a fake supervisor.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "service/supervisor.h"

namespace firstboot::testing {

// A fresh directory under the build tree (not /tmp: some daemons refuse world-writable parents),
// removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// Records what it was asked; "running" services are a set of names.
class FakeSupervisor : public ServiceSupervisor {
 public:
  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) override;
  void stop(const std::vector<std::string>& names) override;
  void stop_all() override { running.clear(); }
  ServiceStatus status(const std::string& name) override;
  std::vector<ServiceStatus> status_all() override;

  std::map<std::string, int> starts;
  std::map<std::string, int> restarts;
  std::map<std::string, bool> running;
};

}  // namespace firstboot::testing
