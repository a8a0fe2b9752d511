#include "backup_command.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "backup/backup.h"
#include "backup/stream_cipher.h"
#include "engine/error.h"
#include "engine/layout.h"
#include "profile/profile_loader.h"
#include "registry.h"
#include "seed/kept_profile.h"
#include "service/supervisor.h"

namespace firstboot::cli {

namespace fs = std::filesystem;

CLI::App* add_backup_command(CLI::App& app, BackupCommand& cmd) {
  auto* backup =
      app.add_subcommand("backup", "back up, list, verify and restore the mail data (archives)");
  backup->require_subcommand(1);
  auto common = [&cmd](CLI::App* sub, bool target) {
    sub->add_option("--profile", cmd.profile,
                    "the profile (default: the kept copy /etc/firstboot/profile.yaml)");
    sub->add_option("--passphrase-file", cmd.passphrase_file,
                    "the passphrase of encrypted archives (default: backup.passphrase_file)");
    sub->add_option("--dir", cmd.dir, "the backup directory (default: backup.dir)");
    if (target) {
      auto* sandbox = sub->add_option("--sandbox", cmd.target.sandbox, "a sandbox directory");
      auto* root = sub->add_option("--root", cmd.target.root, "an offline image tree");
      sandbox->excludes(root);
    }
  };
  auto* create = backup->add_subcommand("create", "write a new archive, then apply retention");
  common(create, true);
  auto* list = backup->add_subcommand("list", "the archives: date, size, encrypted, files");
  common(list, true);
  auto* verify = backup->add_subcommand("verify", "re-read an archive and check every sum");
  verify->add_option("archive", cmd.archive,
                     "a path or a name in the backup directory (default: "
                     "the newest)");
  common(verify, true);
  auto* restore =
      backup->add_subcommand("restore", "verify an archive fully, then put its files in place");
  restore->add_option("archive", cmd.archive, "a path or a name in the backup directory")
      ->required();
  common(restore, true);
  for (auto* sub : {create, list, verify, restore})
    sub->callback([&cmd, sub] { cmd.action = sub->get_name(); });
  return backup;
}

namespace {

struct Settings {
  backup::BackupSettings backup;
  bool have_profile = false;
};

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

// The profile's backup settings (or the defaults), with the command line's overrides.
std::optional<Settings> resolve(const BackupCommand& cmd, const Layout& layout) {
  Settings s;
  Profile defaults;
  const Profile* profile = &defaults;
  std::optional<Profile> loaded_profile;
  fs::path file = cmd.profile;
  if (file.empty() && fs::exists(layout.map(kKeptProfile))) file = layout.map(kKeptProfile);
  if (!file.empty()) {
    auto modules = all_modules();
    std::vector<const Module*> views;
    for (auto& m : modules) views.push_back(m.get());
    LoadedProfile loaded = load_profile(file, views);
    for (auto& issue : loaded.issues) std::cerr << issue.format() << "\n";
    if (!loaded.profile) {
      std::cerr << "firstboot: " << loaded.issues.size()
                << " problem(s) in the profile; nothing was done\n";
      return std::nullopt;
    }
    loaded_profile = std::move(loaded.profile);
    profile = &*loaded_profile;
    s.have_profile = true;
  }
  s.backup.dir = cmd.dir.empty() ? layout.map(profile->backup.dir) : fs::absolute(cmd.dir);
  s.backup.passphrase_file =
      cmd.passphrase_file.empty() ? profile->backup.passphrase_file : cmd.passphrase_file;
  s.backup.keep = profile->backup.keep;
  s.backup.max_age_days = profile->backup.max_age_days;
  s.backup.database = profile->database;
  s.backup.hostname = s.have_profile ? profile->hostname : host_name();
  s.backup.profile_digest = profile->digest;
  return s;
}

std::string human_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return text;
}

std::string local_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &tm);
  return text;
}

// The passphrase, read only when needed; wiped by the caller.
std::string passphrase_for(const Settings& s) {
  if (s.backup.passphrase_file.empty()) return "";
  return backup::read_passphrase_file(s.backup.passphrase_file);
}

struct Wipe {
  std::string& text;
  ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
};

fs::path find_archive(const std::string& given, const fs::path& dir) {
  fs::path p(given);
  if (fs::exists(p)) return fs::absolute(p);
  if (p.filename() == p && fs::exists(dir / p)) return dir / p;
  throw Error("no archive " + given + " (looked in the current directory and " + dir.string() +
              ")");
}

void note(const std::string& line) { std::cout << "firstboot: " << line << "\n" << std::flush; }

int create(const Layout& layout, const Settings& s) {
  if (!s.have_profile) note("no profile given and no kept copy; using the default backup settings");
  auto result = backup::create_backup(layout, s.backup, note);
  const auto& m = result.manifest;
  std::cout << "created " << result.archive.string() << "\n"
            << "  " << m.file_count() << " file(s), " << human_size(m.total_bytes())
            << " of data, archive " << human_size(result.archive_bytes)
            << (result.encrypted ? ", encrypted" : ", not encrypted") << "\n";
  if (m.skipped)
    std::cout << "  " << m.skipped
              << " skipped (symbolic links, sockets, files gone while reading)\n";
  for (auto& name : result.removed) std::cout << "  removed (retention) " << name << "\n";
  return 0;
}

int list(const Settings& s) {
  std::string passphrase = passphrase_for(s);
  Wipe wipe{passphrase};
  auto archives = backup::list_backups(s.backup.dir, passphrase);
  if (archives.empty()) {
    std::cout << "no archives in " << s.backup.dir.string() << "\n";
    return 0;
  }
  std::printf("%-44s %-21s %10s  %-9s %s\n", "ARCHIVE", "CREATED", "SIZE", "ENCRYPTED", "FILES");
  int bad = 0;
  for (auto& a : archives) {
    std::string files = a.files ? std::to_string(*a.files) : "?";
    std::printf("%-44s %-21s %10s  %-9s %s\n", a.name.c_str(), local_time(a.created).c_str(),
                human_size(a.size).c_str(), a.encrypted ? "yes" : "no", files.c_str());
    if (!a.problem.empty()) {
      std::printf("    %s\n", a.problem.c_str());
      if (!(a.encrypted && passphrase.empty())) ++bad;
    }
  }
  return bad ? 1 : 0;
}

int verify(const BackupCommand& cmd, const Settings& s) {
  fs::path archive;
  if (!cmd.archive.empty()) {
    archive = find_archive(cmd.archive, s.backup.dir);
  } else {
    auto newest = backup::newest_backup(s.backup.dir);
    if (!newest) throw Error("no archives in " + s.backup.dir.string());
    archive = *newest;
  }
  std::string passphrase = backup::archive_is_encrypted(archive) ? passphrase_for(s) : "";
  Wipe wipe{passphrase};
  auto result = backup::verify_backup(archive, passphrase);
  std::cout << archive.string() << ": ok, " << result.manifest.file_count() << " file(s) ("
            << human_size(result.manifest.total_bytes()) << ") match their sha256, made "
            << result.manifest.created << " on " << result.manifest.hostname << "\n";
  return 0;
}

// Services reading the files a restore replaces must not be running.
void refuse_when_running(const Layout& layout) {
  if (layout.target() == Target::offline) return;
  std::vector<std::string> running;
  if (layout.target() == Target::sandbox) {
    auto services = make_process_supervisor(layout);
    for (auto& st : services->status_all())
      if (st.running) running.push_back(st.name);
  } else {
    auto services = make_systemd_supervisor();
    for (const char* name : {"postfix", "dovecot", "opendkim", "opendkim-ed25519", "opendmarc"})
      if (services->status(name).running) running.push_back(name);
  }
  if (running.empty()) return;
  std::string names;
  for (auto& n : running) names += (names.empty() ? "" : ", ") + n;
  throw Error("the archive is good, but " + names + " " + (running.size() == 1 ? "is" : "are") +
              " running and would keep the old data: " +
              (layout.is_sandbox() ? "firstboot stop --sandbox " + layout.base().string()
                                   : "systemctl stop " + names) +
              ", then restore again; nothing was restored");
}

int restore(const BackupCommand& cmd, const Layout& layout, const Settings& s) {
  fs::path archive = find_archive(cmd.archive, s.backup.dir);
  std::string passphrase = backup::archive_is_encrypted(archive) ? passphrase_for(s) : "";
  Wipe wipe{passphrase};
  auto result = backup::restore_backup(archive, passphrase, layout, note,
                                       [&layout] { refuse_when_running(layout); });
  for (auto& w : result.warnings) note("warning: " + w);
  std::cout << "restored " << result.placed << " file(s) from " << archive.filename().string()
            << " (" << result.unchanged << " already identical), made " << result.manifest.created
            << " on " << result.manifest.hostname << "\n";
  if (!result.previous_dir.empty())
    std::cout << "  the files it replaced are in " << result.previous_dir.string() << "\n";
  std::string where = layout.is_sandbox()                  ? " --sandbox " + layout.base().string()
                      : layout.target() == Target::offline ? " --root " + layout.base().string()
                                                           : "";
  std::cout << "next: firstboot run --profile PROFILE" << where
            << " (the same profile: keys and certificates are kept, nothing is regenerated)\n";
  return 0;
}

}  // namespace

int backup(const BackupCommand& cmd) {
  Layout layout = target_layout(cmd.target);
  auto settings = resolve(cmd, layout);
  if (!settings) return 2;
  try {
    if (cmd.action == "create") return create(layout, *settings);
    if (cmd.action == "list") return list(*settings);
    if (cmd.action == "verify") return verify(cmd, *settings);
    if (cmd.action == "restore") return restore(cmd, layout, *settings);
  } catch (const backup::WrongPassphrase& e) {
    std::cerr << "firstboot: backup " << cmd.action << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "firstboot: backup " << cmd.action << ": " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace firstboot::cli
