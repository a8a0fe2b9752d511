#include "monitoring_module.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "check_pipeline.h"
#include "engine/error.h"
#include "engine/journal.h"
#include "monitor_config.h"
#include "store/store.h"

namespace firstboot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";
constexpr const char* kDropIn =
    "/etc/systemd/system/prometheus-node-exporter.service.d/firstboot.conf";
constexpr const char* kCheckService = "/etc/systemd/system/firstboot-check.service";
constexpr const char* kCheckTimer = "/etc/systemd/system/firstboot-check.timer";

const FileAttrs kPublic{0644, "", ""};
const FileAttrs kDir{0755, "", ""};

std::string listen_address(const Ports& ports) {
  return "127.0.0.1:" + std::to_string(ports.metrics);
}

ServiceSpec node_exporter_spec(const ModuleContext& ctx, const std::string& textfile_dir) {
  ServiceSpec spec;
  spec.name = "node-exporter";
  spec.systemd_unit = "prometheus-node-exporter.service";
  spec.argv = {kNodeExporter, "--web.listen-address=" + listen_address(ctx.ports()),
               "--collector.textfile.directory=" + textfile_dir};
  if (ctx.sandbox()) {
    // Only what a mail host needs, and nothing that waits on hardware or systemd.
    spec.argv.insert(spec.argv.end(),
                     {"--collector.disable-defaults", "--collector.textfile", "--collector.cpu",
                      "--collector.meminfo", "--collector.filesystem", "--collector.loadavg",
                      "--collector.netdev", "--collector.diskstats", "--collector.stat",
                      "--collector.time", "--collector.uname"});
  }
  spec.ready_when = {ReadinessProbe::tcp("127.0.0.1", ctx.ports().metrics)};
  spec.start_timeout = std::chrono::milliseconds(10000);
  return spec;
}

std::string firstboot_binary() {
#ifdef FIRSTBOOT_BINDIR
  return std::string(FIRSTBOOT_BINDIR) + "/firstboot";
#else
  return "/usr/bin/firstboot";
#endif
}

class MonitoringModule : public Module {
 public:
  ModuleInfo info() const override {
    return {"monitoring",
            10,
            {"mail-transport", "dns-zone"},
            {"monitoring"},
            "readiness checks, node-exporter metrics and state-change alerts"};
  }

  void apply(ModuleContext& ctx) override {
    const Profile& p = ctx.profile;
    MonitorConfig config = resolve_config(ctx);
    {
      auto step = ctx.step("monitoring configuration");
      ctx.files.ensure_directory(ctx.path("/etc/firstboot"), kDir);
      ctx.files.ensure_directory(ctx.path(kMonitorStateDir), FileAttrs{0700, "", ""});
      ctx.files.ensure_directory(ctx.path(kTextfileDir), kDir);
      ctx.files.write(ctx.path(kMonitorConfigPath), config.to_json(), kPublic);
    }
    {
      auto step = ctx.step("node-exporter");
      nlohmann::json data = {{"node_exporter", kNodeExporter},
                             {"listen", listen_address(ctx.ports())},
                             {"textfile_dir", config.textfile_dir}};
      ctx.files.ensure_directory(ctx.path(kDropIn).parent_path(), kDir);
      FileChange changed = ctx.files.write(
          ctx.path(kDropIn), ctx.templates.render("monitoring/node-exporter.conf", data), kPublic);
      ctx.ensure_service(
          node_exporter_spec(ctx, config.textfile_dir),
          changed == FileChange::unchanged ? ConfigChange::none : ConfigChange::restart);
    }
    {
      auto step = ctx.step("check timer");
      nlohmann::json data = {{"firstboot_bin", firstboot_binary()},
                             {"interval_seconds", std::to_string(p.monitoring.interval_seconds)},
                             {"alert_to", config.alert_to}};
      ctx.files.ensure_directory(ctx.path("/etc/systemd/system"), kDir);
      ctx.files.write(ctx.path(kCheckService),
                      ctx.templates.render("monitoring/firstboot-check.service", data), kPublic);
      FileChange timer =
          ctx.files.write(ctx.path(kCheckTimer),
                          ctx.templates.render("monitoring/firstboot-check.timer", data), kPublic);
      // The sandbox has no systemd: `firstboot check` runs on demand there. An offline tree gets
      // the unit files and the timer enabled (timers.target.wants, from its [Install] section).
      if (ctx.layout.target() != Target::sandbox) {
        ServiceSpec spec;
        spec.name = "firstboot-check.timer";
        spec.systemd_unit = "firstboot-check.timer";
        ctx.ensure_service(
            spec, timer == FileChange::unchanged ? ConfigChange::none : ConfigChange::restart);
      }
    }
  }

  std::vector<CheckResult> validate(ModuleContext& ctx) override {
    if (ctx.layout.target() == Target::offline) {
      // Nothing runs in an image tree: the files are the result.
      CheckResult c = make_check("monitoring.config", "monitoring");
      c.detail = "offline tree: checks run on the booted system";
      if (!fs::exists(ctx.path(kMonitorConfigPath))) {
        c.status = CheckStatus::fail;
        c.detail = ctx.path(kMonitorConfigPath).string() + " was not written";
      }
      return {c};
    }
    auto config = load_monitor_config(ctx.layout);
    if (!config) throw Error("the monitoring configuration was not written");
    LiveChecks live = run_live_checks(*config, &ctx.services, 12000);
    Journal journal(ctx.layout.state_dir() / "journal.json");
    try {
      journal.load();
    } catch (const std::exception&) {
      // The report still gets written without module timings.
    }
    try {
      record_check_run(*config, live, &journal, false);
    } catch (const std::exception& e) {
      ctx.log.warn("recording the check results: {}", e.what());
    }
    for (auto& c : live.results)
      if (c.status != CheckStatus::pass)
        ctx.log.info("check {} {}: {}", c.id, to_string(c.status), c.detail);
    return live.results;
  }

 private:
  MonitorConfig resolve_config(ModuleContext& ctx) {
    std::string main_cf;
    fs::path main_cf_path = ctx.path("/etc/postfix/main.cf");
    std::error_code ec;
    if (fs::exists(main_cf_path, ec)) main_cf = read_file(main_cf_path);
    std::vector<ExpectedRecord> records;
    for (auto& d : ctx.profile.domains)
      for (auto& r : ctx.store().dns_records(d.name))
        records.push_back({d.name, r.name, r.type, r.value});
    return build_monitor_config(ctx.profile, ctx.layout, ctx.ports(), main_cf, std::move(records));
  }
};

}  // namespace

std::unique_ptr<Module> make_monitoring_module() { return std::make_unique<MonitoringModule>(); }

}  // namespace firstboot
