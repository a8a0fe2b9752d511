// DKIM keys: where they live and how they are made. Shared by the dns module (which publishes the
// public keys) and the mail module (which signs with them); whichever runs first creates a key,
// and a key once made is never regenerated.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace firstboot {

class FileWriter;
class Layout;
struct Profile;

struct DkimKey {
  std::string domain;
  std::string selector;   // "mail" for RSA, "mail-ed25519" for Ed25519 (one key per selector)
  std::string algorithm;  // "rsa-2048" or "ed25519"
  std::filesystem::path private_key;  // mapped path: /etc/opendkim/keys/<domain>/<selector>.private
};

// The keys the profile asks for, in profile order.
std::vector<DkimKey> dkim_keys_for(const Profile& profile, const Layout& layout);

// Creates the key when missing (0600, owned by opendkim when that user exists). In dry-run mode
// nothing is written. Returns true when created.
bool ensure_dkim_key(FileWriter& files, const DkimKey& key);

// The DNS TXT value for a key on disk: "v=DKIM1; k=rsa; p=MIIB..." / "v=DKIM1; k=ed25519; p=...".
// Empty when the key does not exist yet (plan mode).
std::string dkim_txt_value(const DkimKey& key);

}  // namespace firstboot
