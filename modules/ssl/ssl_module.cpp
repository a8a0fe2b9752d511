#include "ssl_module.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "certificate_choice.h"
#include "crypto/keys.h"
#include "engine/error.h"
#include "profile/profile_loader.h"

namespace firstboot {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

std::string active_certificate_path(const std::string& host) {
  return "/etc/firstboot/tls/" + host + "/fullchain.pem";
}
std::string active_key_path(const std::string& host) {
  return "/etc/firstboot/tls/" + host + "/privkey.pem";
}

namespace {

constexpr mode_t kKeyMode = 0600;
const FileAttrs kKeyAttrs{kKeyMode, "root", ""};
const FileAttrs kCertAttrs{0644, "root", ""};
const FileAttrs kDirAttrs{0755, "root", ""};

std::vector<std::string> mail_host_names(const Profile& profile) {
  std::vector<std::string> names{profile.hostname};
  for (auto& n : profile.tls.extra_names)
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  return names;
}

std::optional<CertificateCandidate> read_candidate(CertificateSource source, const fs::path& cert,
                                                   const fs::path& key) {
  std::error_code ec;
  if (!fs::exists(cert, ec) || !fs::exists(key, ec)) return std::nullopt;
  return CertificateCandidate{source, cert.string(), key.string(), read_file(cert), read_file(key)};
}

class SslModule : public Module {
 public:
  ModuleInfo info() const override {
    return {"ssl",
            7,
            {},
            {"tls-certificates"},
            "TLS certificates for the mail host names (live > staged > self-signed)"};
  }

  void check_profile(const Profile& profile, std::vector<ProfileIssue>& issues) const override {
    if (profile.tls.source != "provided") return;
    auto add = [&](const std::string& field, const std::string& message) {
      issues.push_back({profile.source_file, 0, 0, field, message});
    };
    std::error_code ec;
    if (!fs::exists(profile.tls.cert_file, ec)) {
      add("tls.cert", "file not found: " + profile.tls.cert_file);
      return;
    }
    if (!fs::exists(profile.tls.key_file, ec)) {
      add("tls.key", "file not found: " + profile.tls.key_file);
      return;
    }
    try {
      CertificateCandidate staged{CertificateSource::staged, profile.tls.cert_file,
                                  profile.tls.key_file, read_file(profile.tls.cert_file),
                                  read_file(profile.tls.key_file)};
      CandidateVerdict v = assess_candidate(staged, profile.hostname, Clock::now());
      for (auto& p : v.problems) add(p.find(profile.tls.key_file) == 0 ? "tls.key" : "tls.cert", p);
    } catch (const std::exception& e) {
      add("tls.cert", e.what());
    }
  }

  void apply(ModuleContext& ctx) override {
    const Profile& profile = ctx.profile;
    auto names = mail_host_names(profile);
    auto now = Clock::now();
    for (const std::string& host : names) {
      auto step = ctx.step("certificate for " + host);
      std::vector<CertificateCandidate> candidates;
      if (auto live = read_candidate(CertificateSource::live,
                                     ctx.path("/etc/firstboot/tls/live/" + host + "/fullchain.pem"),
                                     ctx.path("/etc/firstboot/tls/live/" + host + "/privkey.pem")))
        candidates.push_back(*live);
      if (profile.tls.source == "provided") {
        auto staged =
            read_candidate(CertificateSource::staged, profile.tls.cert_file, profile.tls.key_file);
        if (!staged)
          throw Error("tls.source is provided, but " + profile.tls.cert_file + " or " +
                      profile.tls.key_file + " is missing");
        candidates.push_back(*staged);
      }
      CertificateChoice choice = choose_certificate(candidates, host, now);
      for (auto& note : choice.notes) ctx.log.warn("{}: {}", host, note);
      if (profile.tls.source == "provided" && host == profile.hostname &&
          (!choice.chosen || choice.chosen->source == CertificateSource::self_signed)) {
        std::string why = choice.notes.empty() ? "unusable" : choice.notes.front();
        throw Error("the provided certificate cannot serve " + host + ": " + why);
      }
      std::string chain_pem, key_pem;
      std::string source;
      if (choice.chosen) {
        chain_pem = choice.chosen->chain_pem;
        key_pem = choice.chosen->key_pem;
        source = to_string(choice.chosen->source);
      } else {
        std::tie(chain_pem, key_pem) = ensure_self_signed(ctx, names, now);
        source = "self-signed";
      }
      fs::path cert_file = ctx.path(active_certificate_path(host));
      fs::path key_file = ctx.path(active_key_path(host));
      ctx.files.ensure_directory(cert_file.parent_path(), kDirAttrs);
      bool unknown = chain_pem.empty();  // plan mode before the key exists
      auto cert_change = ctx.files.write(cert_file, unknown ? "(generated at run time)" : chain_pem,
                                         kCertAttrs, unknown);
      auto key_change =
          ctx.files.write(key_file, unknown ? "(generated at run time)" : key_pem, kKeyAttrs, true);
      if (cert_change != FileChange::unchanged || key_change != FileChange::unchanged)
        ctx.log.info("{}: {} certificate installed", host, source);
    }
  }

  std::vector<CheckResult> validate(ModuleContext& ctx) override {
    std::vector<CheckResult> checks;
    auto now = Clock::now();
    for (const std::string& host : mail_host_names(ctx.profile)) {
      auto start = std::chrono::steady_clock::now();
      CheckResult cert = make_check("ssl.certificate." + host, "ssl");
      CheckResult expiry = make_check("ssl.expiry." + host, "ssl");
      CheckResult perms = make_check("ssl.key-permissions." + host, "ssl");
      fs::path cert_file = ctx.path(active_certificate_path(host));
      fs::path key_file = ctx.path(active_key_path(host));
      auto candidate = read_candidate(CertificateSource::staged, cert_file, key_file);
      if (!candidate) {
        cert.status = CheckStatus::fail;
        cert.detail = "no certificate installed at " + cert_file.string();
        cert.hint = "run `firstboot run --only ssl` and read log/07-ssl.log";
        checks.push_back(cert);
        continue;
      }
      CandidateVerdict v = assess_candidate(*candidate, host, now);
      if (v.usable) {
        cert.detail = (v.leaf->self_signed ? "self-signed" : "issued by " + v.leaf->issuer) +
                      ", fingerprint " + v.leaf->fingerprint_sha256.substr(0, 16);
      } else {
        cert.status = CheckStatus::fail;
        cert.detail = v.problems.front();
        cert.hint = "replace the certificate (tls.source) or delete it to get a self-signed one";
      }
      checks.push_back(cert);
      if (v.leaf) {
        auto days_left =
            std::chrono::duration_cast<std::chrono::hours>(v.leaf->not_after - now).count() / 24;
        expiry.detail = std::to_string(days_left) + " days left";
        if (days_left < 3) {
          expiry.status = CheckStatus::fail;
          expiry.hint = "renew the certificate now";
        } else if (days_left < 14) {
          expiry.status = CheckStatus::warn;
          expiry.severity = CheckSeverity::warning;
          expiry.hint = "renew the certificate within days";
        }
        checks.push_back(expiry);
      }
      struct stat st {};
      if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        perms.status = CheckStatus::fail;
        perms.detail =
            key_file.string() + " is readable by others (mode " + fmt_mode(st.st_mode) + ")";
        perms.hint = "chmod 600 " + key_file.string();
      } else {
        perms.detail = "private key mode 0600";
      }
      checks.push_back(perms);
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      for (auto& c : checks) c.duration_ms = c.duration_ms == 0 ? ms : c.duration_ms;
    }
    return checks;
  }

 private:
  static std::string fmt_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
  }

  // The self-signed pair for all names: the key is made once and kept; the certificate is made
  // again only when it no longer covers the names or nears expiry. Returns {chain, key}; both
  // empty in plan mode when the key does not exist yet.
  std::pair<std::string, std::string> ensure_self_signed(ModuleContext& ctx,
                                                         const std::vector<std::string>& names,
                                                         Clock::time_point now) {
    const std::string& primary = ctx.profile.hostname;
    fs::path dir = ctx.path("/etc/firstboot/tls/self-signed/" + primary);
    fs::path key_file = dir / "privkey.pem";
    fs::path cert_file = dir / "cert.pem";
    ctx.files.ensure_directory(dir, FileAttrs{0700, "root", ""});
    ctx.files.create_once(
        key_file, [] { return generate_private_key_pem(KeyType::ec_p256); }, kKeyAttrs);
    std::error_code ec;
    if (!fs::exists(key_file, ec)) {  // plan mode
      ctx.files.create_once(
          cert_file, [] { return std::string(); }, kCertAttrs, false);
      return {};
    }
    std::string key_pem = read_file(key_file);
    if (fs::exists(cert_file, ec)) {
      std::string cert_pem = read_file(cert_file);
      try {
        if (self_signed_still_good(inspect_certificate(cert_pem), names, now) &&
            key_matches_certificate(key_pem, cert_pem))
          return {cert_pem, key_pem};
      } catch (const std::exception& e) {
        ctx.log.warn("replacing unreadable self-signed certificate {}: {}", cert_file.string(),
                     e.what());
      }
    }
    std::string cert_pem = make_self_signed_certificate(key_pem, names, kSelfSignedDays);
    ctx.files.write(cert_file, cert_pem, kCertAttrs);
    return {cert_pem, key_pem};
  }
};

}  // namespace

std::unique_ptr<Module> make_ssl_module() { return std::make_unique<SslModule>(); }

}  // namespace firstboot
