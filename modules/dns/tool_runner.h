// Runs a short-lived checking tool (named-checkzone, nsd-checkconf, ...) with a time bound and
// captures what it printed. Daemons are never started this way: they go through the supervisor.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace firstboot::dns {

struct ToolResult {
  int exit_code = -1;  // -1: could not run, or killed after the timeout
  std::string output;  // stdout and stderr together, at most 16 KiB
  bool ok() const { return exit_code == 0; }
};

using ToolRunner = std::function<ToolResult(const std::vector<std::string>& argv)>;

ToolResult run_tool(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace firstboot::dns
