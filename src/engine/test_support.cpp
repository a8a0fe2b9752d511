#include "engine/test_support.h"

#include <unistd.h>

#include <atomic>

namespace firstboot::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  static std::atomic<int> counter{0};
  path_ = fs::current_path() / "scratch" /
          ("t" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ServiceAction FakeSupervisor::ensure_running(const ServiceSpec& spec, ConfigChange change) {
  if (!running[spec.name]) {
    running[spec.name] = true;
    ++starts[spec.name];
    return ServiceAction::started;
  }
  if (change == ConfigChange::none) return ServiceAction::none;
  ++restarts[spec.name];
  return ServiceAction::restarted;
}

void FakeSupervisor::stop(const std::vector<std::string>& names) {
  for (auto& n : names) running[n] = false;
}

ServiceStatus FakeSupervisor::status(const std::string& name) {
  return {name, running[name], running[name] ? 1 : 0, running[name] ? "running" : "stopped"};
}

std::vector<ServiceStatus> FakeSupervisor::status_all() {
  std::vector<ServiceStatus> out;
  for (auto& [name, up] : running) out.push_back(status(name));
  return out;
}

}  // namespace firstboot::testing
