// Host probes: disk and memory headroom, the mail queue, and whether outbound port 25 is open
// (many providers block it; a warning only, with a bounded timeout).
#include <sys/statvfs.h>

#include <fmt/format.h>

#include <set>

#include "check_state.h"
#include "checks.h"
#include "engine/file_writer.h"
#include "mail_queue.h"
#include "probe/connection.h"
#include "probe/dns.h"

namespace firstboot {

namespace {

using probe::Deadline;

// The nearest existing directory at or above path.
std::filesystem::path existing_parent(std::filesystem::path p) {
  std::error_code ec;
  for (int i = 0; i < 64 && !p.empty(); ++i) {
    if (std::filesystem::exists(p, ec)) return p;
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return "/";
}

}  // namespace

void add_system_probes(const std::shared_ptr<const CheckEnvironment>& env,
                       std::vector<ProbeSpec>& probes) {
  const MonitorConfig& c = env->config;
  ProbeSpec host;
  host.name = "host resources";
  host.timeout = env->timeout;
  host.checks = {{"system.disk", "system", CheckSeverity::required,
                  "free disk space: old logs, the mail queue (`postqueue -p`) or mailboxes"},
                 {"system.memory", "system", CheckSeverity::required,
                  "free memory: stop what you do not need, or add memory"},
                 {"mail.queue", "mail", CheckSeverity::warning,
                  "read the deferred reasons with `postqueue -p` (or `mailq`) and the mail log"}};
  host.run = [env](Deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    // The fullest of the filesystems that hold state, queue and mail.
    DiskVerdict worst{CheckStatus::pass, ""};
    std::set<unsigned long> seen;
    for (auto& path : c.disk_paths) {
      auto dir = existing_parent(path);
      struct statvfs st {};
      if (::statvfs(dir.c_str(), &st) != 0) continue;
      if (!seen.insert(st.f_fsid).second) continue;
      auto v = disk_verdict(dir.string(), static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize,
                            static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize);
      if (worst.detail.empty() || static_cast<int>(v.status) > static_cast<int>(worst.status))
        worst = v;
    }
    if (worst.detail.empty())
      sink.fail("system.disk", "cannot stat any of the mail filesystems");
    else if (worst.status == CheckStatus::pass)
      sink.pass("system.disk", worst.detail);
    else if (worst.status == CheckStatus::warn)
      sink.warn("system.disk", worst.detail);
    else
      sink.fail("system.disk", worst.detail);

    std::string meminfo;
    try {
      meminfo = read_file("/proc/meminfo");
    } catch (const std::exception&) {
    }
    auto [total, available] = parse_meminfo(meminfo);
    auto m = memory_verdict(available, total);
    if (m.status == CheckStatus::pass)
      sink.pass("system.memory", m.detail);
    else if (m.status == CheckStatus::warn)
      sink.warn("system.memory", m.detail);
    else
      sink.fail("system.memory", m.detail);

    auto q = read_queue(c.queue_dir, env->now);
    if (!q.readable) {
      sink.fail("mail.queue", "cannot read the queue at " + c.queue_dir);
      return;
    }
    std::string detail = fmt::format("{} message(s) queued ({} deferred, {} active)", q.total,
                                     q.messages["deferred"], q.messages["active"]);
    if (q.total > 0) detail += fmt::format(", oldest {:.0f} min", q.oldest_age_seconds / 60);
    auto history = load_monitor_state(c.state_dir).queue_history;
    history.push_back({std::chrono::system_clock::to_time_t(env->now), q.total});
    if (q.total >= 100)
      sink.fail("mail.queue", detail);
    else if (q.total > 0 && q.oldest_age_seconds > 3600)
      sink.fail("mail.queue", detail + ": mail older than an hour is stuck");
    else if (q.total >= 10 && queue_growing(history))
      sink.fail("mail.queue", detail + ", growing at every check");
    else
      sink.pass("mail.queue", detail);
  };
  probes.push_back(std::move(host));

  ProbeSpec outbound;
  outbound.name = "outbound port 25";
  outbound.timeout = env->outbound_timeout;
  outbound.checks = {{"system.outbound-smtp", "system", CheckSeverity::warning,
                      c.mode == "relay"
                          ? "the smarthost port is blocked: ask the provider or use another port"
                          : "outbound port 25 is blocked: ask the provider to open it, or use "
                            "mode: relay through a smarthost"}};
  outbound.run = [env](Deadline deadline, CheckSink& sink) {
    const MonitorConfig& c = env->config;
    if (c.target == "sandbox") {
      sink.skip("system.outbound-smtp", "the sandbox has no outbound network");
      return;
    }
    std::string host = c.relay_host;
    int port = c.relay_port;
    if (host.empty()) {
      // A large receiver's MX, resolved with a bounded query.
      host = "gmail-smtp-in.l.google.com";
      port = 25;
    }
    std::string address = host;
    try {
      auto a = probe::dns_query(probe::DnsServer{}, host, "A", deadline);
      if (!a.records.empty()) address = a.records.front();
    } catch (const std::exception& e) {
      sink.fail("system.outbound-smtp", std::string("resolving ") + host + ": " + e.what());
      return;
    }
    try {
      auto conn = probe::Connection::open({address, port, ""}, deadline);
      std::string banner = conn.read_line(deadline, 1024);
      sink.pass("system.outbound-smtp",
                host + ":" + std::to_string(port) + " answers: " + banner.substr(0, 60));
    } catch (const std::exception& e) {
      sink.fail("system.outbound-smtp", e.what());
    }
  };
  probes.push_back(std::move(outbound));
}

}  // namespace firstboot
