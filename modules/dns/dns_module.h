// 8-dns: every record a mail domain needs (SOA, NS, A/AAAA, MX, SPF, DKIM, DMARC, MTA-STS,
// TLS-RPT, CAA, RFC 6186 SRV, ownership verification), stored for the other modules and the
// wizard, served by BIND or NSD (checked before loading, reloaded without a restart) or printed
// for the registrar, and verified by asking the server. See docs/dns.md.
#pragma once

#include <memory>

#include "engine/module.h"
#include "tool_runner.h"

namespace firstboot {

std::unique_ptr<Module> make_dns_module();
// For tests: run_tool replaces how the checking tools (named-checkzone, ...) are run.
std::unique_ptr<Module> make_dns_module(dns::ToolRunner run_tool);

}  // namespace firstboot
