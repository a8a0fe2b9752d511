#include "metrics.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/file_writer.h"

namespace firstboot {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

int check_status_value(CheckStatus status) {
  switch (status) {
    case CheckStatus::pass:
      return 0;
    case CheckStatus::warn:
      return 1;
    case CheckStatus::fail:
      return 2;
    case CheckStatus::skipped:
      return 3;
  }
  return 2;
}

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string num(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

std::string render_metrics(const MetricsInput& in) {
  std::string out;
  header(out, "firstboot_ready", "gauge",
         "1 when every required check passed in the last check run, else 0.");
  out += fmt::format("firstboot_ready {}\n", in.ready ? 1 : 0);
  header(out, "firstboot_check_status", "gauge",
         "Result of each check: 0 pass, 1 warn, 2 fail, 3 skipped.");
  for (auto& c : in.checks)
    out += fmt::format("firstboot_check_status{{check=\"{}\",module=\"{}\",severity=\"{}\"}} {}\n",
                       escape_label(c.id), escape_label(c.module), to_string(c.severity),
                       check_status_value(c.status));
  header(out, "firstboot_check_duration_seconds", "gauge", "Time the check's probe took.");
  for (auto& c : in.checks)
    out += fmt::format("firstboot_check_duration_seconds{{check=\"{}\"}} {}\n", escape_label(c.id),
                       num(c.duration_ms / 1000.0));
  header(out, "firstboot_checks_last_run_timestamp_seconds", "gauge",
         "When the last check run finished (Unix time).");
  out += fmt::format("firstboot_checks_last_run_timestamp_seconds {}\n",
                     static_cast<long long>(in.run_at));
  header(out, "firstboot_checks_run_duration_seconds", "gauge",
         "Wall time of the last check run (all checks in parallel).");
  out += fmt::format("firstboot_checks_run_duration_seconds {}\n", num(in.run_seconds));

  header(out, "firstboot_module_done", "gauge", "1 when the module's last run ended done, else 0.");
  for (auto& m : in.modules)
    out += fmt::format("firstboot_module_done{{module=\"{}\",state=\"{}\"}} {}\n",
                       escape_label(m.name), escape_label(m.state), m.state == "done" ? 1 : 0);
  header(out, "firstboot_module_duration_seconds", "gauge",
         "Duration of the module's last recorded run.");
  for (auto& m : in.modules)
    out += fmt::format("firstboot_module_duration_seconds{{module=\"{}\"}} {}\n",
                       escape_label(m.name), num(m.duration_ms / 1000.0));

  header(out, "firstboot_certificate_expiry_timestamp_seconds", "gauge",
         "notAfter of the installed certificate per mail host name (Unix time).");
  for (auto& [host, t] : in.certificate_not_after)
    out += fmt::format("firstboot_certificate_expiry_timestamp_seconds{{host=\"{}\"}} {}\n",
                       escape_label(host), static_cast<long long>(t));

  header(out, "firstboot_dkim_key_age_seconds", "gauge",
         "Age of each DKIM private key (since the key file was written).");
  for (auto& k : in.dkim_keys)
    out += fmt::format(
        "firstboot_dkim_key_age_seconds{{domain=\"{}\",selector=\"{}\",algorithm=\"{}\"}} {}\n",
        escape_label(k.domain), escape_label(k.selector), escape_label(k.algorithm),
        num(std::max(0.0, k.age_seconds)));

  if (in.queue.readable) {
    header(out, "firstboot_mail_queue_messages", "gauge", "Messages in each Postfix queue.");
    for (auto& [queue, count] : in.queue.messages)
      out += fmt::format("firstboot_mail_queue_messages{{queue=\"{}\"}} {}\n", escape_label(queue),
                         count);
    header(out, "firstboot_mail_queue_oldest_age_seconds", "gauge",
           "Age of the oldest queued message (0 when the queue is empty).");
    out += fmt::format("firstboot_mail_queue_oldest_age_seconds {}\n",
                       num(in.queue.oldest_age_seconds));
  }

  header(out, "firstboot_mail_deliveries_total", "counter",
         "Delivery results from the mail log, per recipient domain and status.");
  // The busiest domains by name; the rest summed, so a flood of domains cannot blow up the series.
  std::vector<std::pair<std::uint64_t, std::string>> busiest;
  for (auto& [domain, statuses] : in.deliveries.by_domain) {
    std::uint64_t total = 0;
    for (auto& [s, n] : statuses) total += n;
    busiest.emplace_back(total, domain);
  }
  std::sort(busiest.begin(), busiest.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::map<std::string, std::map<std::string, std::uint64_t>> shown;
  for (std::size_t i = 0; i < busiest.size(); ++i) {
    const std::string& domain = busiest[i].second;
    const std::string label = i < in.max_domains ? domain : "other";
    for (auto& [status, n] : in.deliveries.by_domain.at(domain)) shown[label][status] += n;
  }
  for (auto& [domain, statuses] : shown)
    for (auto& [status, n] : statuses)
      out += fmt::format("firstboot_mail_deliveries_total{{domain=\"{}\",status=\"{}\"}} {}\n",
                         escape_label(domain), escape_label(status), n);
  return out;
}

void write_metrics_file(const std::filesystem::path& dir, const std::string& text) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "firstboot.prom", text, 0644);
}

}  // namespace firstboot
