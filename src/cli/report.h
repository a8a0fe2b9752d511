// What the commands print: the run summary, the plan, the status table and the timing analysis.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "engine/journal.h"
#include "engine/runner.h"

namespace firstboot::cli {

std::string format_run_summary(const RunReport& report);
std::string format_plan(const RunReport& report);
std::string format_status(const Journal& journal, bool color);
nlohmann::json status_json(const Journal& journal);
std::string format_analyze(const Journal& journal);
// Exit code for a journal: 0 when every module is done and every required check passed.
int status_exit_code(const Journal& journal);

}  // namespace firstboot::cli
