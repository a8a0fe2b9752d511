#include "crypto/dkim_keys.h"

#include <pwd.h>

#include <filesystem>

#include "crypto/keys.h"
#include "engine/file_writer.h"
#include "engine/layout.h"
#include "profile/profile.h"

namespace firstboot {

std::vector<DkimKey> dkim_keys_for(const Profile& profile, const Layout& layout) {
  std::vector<DkimKey> keys;
  for (const Domain& domain : profile.domains) {
    for (const std::string& algorithm : domain.dkim.algorithms) {
      DkimKey key;
      key.domain = domain.name;
      key.algorithm = algorithm;
      // One key per selector: a verifier looks up exactly one record per signature.
      key.selector =
          algorithm == "ed25519" ? domain.dkim.selector + "-ed25519" : domain.dkim.selector;
      key.private_key =
          layout.map("/etc/opendkim/keys/" + domain.name + "/" + key.selector + ".private");
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

bool ensure_dkim_key(FileWriter& files, const DkimKey& key) {
  // The signer reads its key as its own user; 0600 satisfies OpenDKIM's RequireSafeKeys.
  std::string owner = getpwnam("opendkim") ? "opendkim" : "";
  files.ensure_directory(key.private_key.parent_path(), FileAttrs{0750, owner, ""});
  auto change = files.create_once(
      key.private_key,
      [&] {
        return generate_private_key_pem(key.algorithm == "ed25519" ? KeyType::ed25519
                                                                   : KeyType::rsa_2048);
      },
      FileAttrs{0600, owner, ""});
  return change == FileChange::created;
}

std::string dkim_txt_value(const DkimKey& key) {
  std::error_code ec;
  if (!std::filesystem::exists(key.private_key, ec)) return "";
  std::string pem = read_file(key.private_key);
  std::string k = key.algorithm == "ed25519" ? "ed25519" : "rsa";
  return "v=DKIM1; k=" + k + "; p=" + dkim_public_key_base64(pem);
}

}  // namespace firstboot
