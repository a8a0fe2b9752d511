// The authoritative servers the dns module can run: BIND 9 and NSD. Each knows its files, how to
// render its config, how to check config and zones before they are loaded, and how it reloads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dns_records.h"
#include "engine/module.h"
#include "tool_runner.h"

namespace firstboot::dns {

class ZoneServer {
 public:
  virtual ~ZoneServer() = default;
  virtual std::string kind() const = 0;          // "bind" | "nsd"
  virtual std::string service_name() const = 0;  // "named" | "nsd"

  // System paths.
  virtual std::string config_path() const = 0;
  virtual std::string zone_path(const std::string& domain) const = 0;

  // Directories and generated secrets the server needs (created once).
  virtual void prepare(ModuleContext& ctx) const = 0;
  virtual std::string render_config(ModuleContext& ctx,
                                    const std::vector<DomainRecords>& sets) const = 0;
  // The commands that check the config and one zone, as they must be run on this target.
  virtual std::vector<std::string> check_config_command(const ModuleContext& ctx) const = 0;
  virtual std::vector<std::string> check_zone_command(const ModuleContext& ctx,
                                                      const std::string& domain) const = 0;
  virtual ServiceSpec service(const ModuleContext& ctx) const = 0;
  // A zone change alone never restarts; what a config change needs depends on the server.
  virtual ConfigChange change_for(bool config_changed, bool zones_changed) const = 0;
};

// nullptr for "none".
std::unique_ptr<ZoneServer> make_zone_server(const std::string& serve);

// How a path appears inside a config file on this target: the mapped path in the sandbox (the
// daemon runs there), the system path for the real system and offline images.
std::string config_path_for(const ModuleContext& ctx, const std::string& system_path);

}  // namespace firstboot::dns
