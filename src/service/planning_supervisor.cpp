// `plan`: answers questions from the real supervisor and records what it would do; changes nothing.

#include "engine/error.h"
#include "service/supervisor.h"

namespace firstboot {

namespace {

class PlanningSupervisor : public ServiceSupervisor {
 public:
  explicit PlanningSupervisor(ServiceSupervisor& real) : real_(real) {}

  ServiceAction ensure_running(const ServiceSpec& spec, ConfigChange change) override {
    try {
      return real_.planned_action(spec, change);
    } catch (const Error&) {
      // The real backend cannot answer (no system bus while planning on a build machine): the
      // honest plan is "would start", which a real run turns into "none" when it is running.
      return ServiceAction::would_start;
    }
  }
  // A plan stops nothing.
  void stop(const std::vector<std::string>&) override {}
  void stop_all() override {}

  ServiceStatus status(const std::string& name) override { return real_.status(name); }
  std::vector<ServiceStatus> status_all() override { return real_.status_all(); }
  ServiceAction planned_action(const ServiceSpec& spec, ConfigChange change) override {
    return real_.planned_action(spec, change);
  }

 private:
  ServiceSupervisor& real_;
};

}  // namespace

std::unique_ptr<ServiceSupervisor> make_planning_supervisor(ServiceSupervisor& real) {
  return std::make_unique<PlanningSupervisor>(real);
}

}  // namespace firstboot
