// `firstboot backup create|list|verify|restore`: archives of the mail data (docs/backup.md).
#pragma once

#include <string>

#include "commands.h"

namespace CLI {
class App;
}

namespace firstboot::cli {

struct BackupCommand {
  std::string action;           // create | list | verify | restore
  std::string archive;          // verify/restore: a path, or a name in the backup directory
  std::string profile;          // --profile; default: the kept copy /etc/firstboot/profile.yaml
  std::string passphrase_file;  // --passphrase-file; default: the profile's backup.passphrase_file
  std::string dir;              // --dir: the backup directory (a path as given, not mapped)
  TargetOptions target;
};

// Adds `backup` and its four subcommands to app; returns it (test `*returned` after parsing).
CLI::App* add_backup_command(CLI::App& app, BackupCommand& cmd);

// 0 ok; 1 a backup that failed, a damaged archive or a wrong passphrase; 2 bad usage or profile.
int backup(const BackupCommand& cmd);

}  // namespace firstboot::cli
