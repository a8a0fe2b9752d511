// Alert mails: one message per check run that changed a check's state, listing every change, sent
// to monitoring.alert_to through the local MTA (SMTP on loopback, else Postfix's sendmail).
#pragma once

#include <string>
#include <vector>

#include "check_state.h"
#include "monitor_config.h"

namespace firstboot {

// The whole message (headers + body, CR LF). ready: every required check passes now.
std::string alert_message(const MonitorConfig& config, const std::vector<StateChange>& changes,
                          const std::vector<CheckResult>& all, bool ready,
                          const std::string& date_rfc5322, const std::string& message_id);

// "Tue, 01 Oct 2024 10:00:00 +0000" for now.
std::string rfc5322_date_now();

// Hands the message to the local MTA. Returns "" on success, else why it could not (one line).
std::string send_alert(const MonitorConfig& config, const std::string& message);

}  // namespace firstboot
