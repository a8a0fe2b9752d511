// The firstboot commands, one function each; main.cpp only parses arguments.
// Each returns the process exit code: 0 ok, 1 a module or check failed, 2 bad usage or profile.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/layout.h"
#include "service/supervisor.h"

namespace firstboot::cli {

struct TargetOptions {
  std::string sandbox;  // --sandbox DIR
  std::string root;     // --root DIR
};

struct RunCommand {
  std::string profile;
  TargetOptions target;
  std::optional<std::string> only;
  bool force = false;
  bool dry_run = false;  // `plan`
  // Receives the progress lines instead of stdout (the wizard's progress screen).
  std::function<void(const std::string& line)> progress;
};

int run(const RunCommand& cmd);
int check_profile(const std::string& file);
int status(const TargetOptions& target, bool json, bool wait, int timeout_seconds);
int check(const TargetOptions& target, bool json);
int stop(const TargetOptions& target);
int analyze(const TargetOptions& target);
int hash_password_command();  // hash_password_command.cpp

// The layout and supervisor a target means (commands.cpp).
Layout target_layout(const TargetOptions& target);
std::unique_ptr<ServiceSupervisor> target_supervisor(const Layout& layout);

// status_command.cpp: colors only on a terminal (and not with NO_COLOR or TERM=dumb).
bool color_output();

}  // namespace firstboot::cli
