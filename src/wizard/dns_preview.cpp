#include "wizard/dns_preview.h"

#include <fmt/format.h>

#include <string_view>

namespace firstboot::wizard {

namespace {

bool ends_with_label(const std::string& name, const std::string& domain) {
  return name.size() > domain.size() + 1 &&
         std::string_view(name).substr(name.size() - domain.size()) == domain &&
         name[name.size() - domain.size() - 1] == '.';
}

// Zone-file style: "@" for the apex, relative below it, absolute (with a dot) elsewhere.
std::string relative(const std::string& name, const std::string& domain) {
  if (name == domain) return "@";
  if (ends_with_label(name, domain)) return name.substr(0, name.size() - domain.size() - 1);
  return name + ".";
}

void line(std::string& out, const char* type, const std::string& name, const std::string& what) {
  out += fmt::format("  {:<5} {:<24} {}\n", type, name, what);
}

}  // namespace

std::string derived_dns_record_names(const Profile& p) {
  std::string out;
  const bool served = p.dns.serve != "none";
  if (served)
    out += fmt::format(
        "This server answers for the zones ({}). At each registrar, delegate\n"
        "the domain to {} (NS record, and a glue A record\n"
        "with its address).\n\n",
        p.dns.serve, p.hostname);
  else
    out +=
        "Create these records at your DNS provider. Values marked 'at apply'\n"
        "are made when the profile is applied: `firstboot dns-records` then\n"
        "prints them all.\n\n";
  const std::string ipv4 = p.public_ipv4.empty() ? "this server's public IPv4" : p.public_ipv4;
  bool host_listed = false;
  for (const auto& d : p.domains) {
    out += d.name + "\n";
    line(out, "MX", "@", "10 " + p.hostname + ".");
    if (!host_listed && (p.hostname == d.name || ends_with_label(p.hostname, d.name))) {
      line(out, "A", relative(p.hostname, d.name), ipv4);
      if (!p.public_ipv6.empty()) line(out, "AAAA", relative(p.hostname, d.name), p.public_ipv6);
      host_listed = true;
    }
    std::string spf = "v=spf1 mx";
    if (p.relay && !p.relay->spf_include.empty()) spf += " include:" + p.relay->spf_include;
    line(out, "TXT", "@", spf + " -all");
    std::string algorithms;
    for (const auto& a : d.dkim.algorithms) algorithms += (algorithms.empty() ? "" : ", ") + a;
    line(out, "TXT", d.dkim.selector + "._domainkey", "DKIM key (" + algorithms + "), at apply");
    std::string dmarc = "v=DMARC1; p=" + d.dmarc.policy;
    if (!d.dmarc.rua.empty()) dmarc += "; rua=mailto:" + d.dmarc.rua;
    line(out, "TXT", "_dmarc", dmarc);
    line(out, "TXT", "_mta-sts", "v=STSv1; id=..., at apply");
    line(out, "TXT", "_smtp._tls", "v=TLSRPTv1; rua=mailto:" + p.admin_email);
    if (p.tls.source == "acme")
      line(out, "CAA", "@",
           p.tls.acme_directory.find("letsencrypt.org") != std::string::npos
               ? "0 issue \"letsencrypt.org\""
               : "0 issue \"<your ACME CA's domain>\"");
    if (p.mode == MailMode::full) {
      line(out, "SRV", "_submission._tcp", "0 1 587 " + p.hostname + ".");
      line(out, "SRV", "_imaps._tcp", "0 1 993 " + p.hostname + ".");
      line(out, "SRV", "_pop3s._tcp", "0 1 995 " + p.hostname + ".");
    }
    line(out, "TXT", "_mail-verification", "ownership token, at apply");
  }
  if (!host_listed) {
    out += "\n" + p.hostname + " (outside these domains)\n";
    line(out, "A", p.hostname + ".", ipv4);
    if (!p.public_ipv6.empty()) line(out, "AAAA", p.hostname + ".", p.public_ipv6);
  }
  return out;
}

}  // namespace firstboot::wizard
