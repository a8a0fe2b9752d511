// firstboot.prom: the Prometheus text exposition (format 0.0.4) that node-exporter's textfile
// collector serves. Rendering is pure; writing is atomic (temp file + rename).
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/check.h"
#include "mail_log.h"
#include "mail_queue.h"

namespace firstboot {

struct ModuleTiming {
  std::string name;
  std::string state;  // "done", "failed", ...
  double duration_ms = 0;
};

struct DkimKeyAge {
  std::string domain, selector, algorithm;
  double age_seconds = 0;
};

struct MetricsInput {
  std::vector<CheckResult> checks;
  bool ready = false;
  double run_seconds = 0;
  std::time_t run_at = 0;
  std::vector<ModuleTiming> modules;
  std::map<std::string, std::time_t> certificate_not_after;  // host -> expiry
  std::vector<DkimKeyAge> dkim_keys;
  QueueStats queue;
  DeliveryCounts deliveries;
  std::size_t max_domains = 50;  // beyond this, deliveries are summed under domain="other"
};

std::string render_metrics(const MetricsInput& in);
// A label value escaped for the text format (\\, \", \n).
std::string escape_label(const std::string& value);
// Writes dir/firstboot.prom atomically (0644); creates dir when missing.
void write_metrics_file(const std::filesystem::path& dir, const std::string& text);

// Value of firstboot_check_status for a status.
int check_status_value(CheckStatus status);

}  // namespace firstboot
