// Where the SQLite store lives and who may read it (both Postfix and Dovecot query it directly).
#pragma once

#include <filesystem>
#include <string>

namespace firstboot {

class Layout;

inline constexpr const char* kStoreSystemPath = "/var/lib/firstboot/users.sqlite";
inline constexpr unsigned kStoreFileMode = 0640;
inline constexpr const char* kStoreFileOwner = "dovecot";  // Dovecot's auth reads it as its user
inline constexpr const char* kStoreFileGroup = "postfix";  // Postfix's lookups read it by group

// Creates the parent directories (0755) and the empty database file (layout.map(kStoreSystemPath))
// with mode 0640, owned by dovecot:postfix when running as root and those exist (for an offline
// tree: in the tree's /etc/passwd and /etc/group); fixes mode/owner of an existing file.
void prepare_store_file(const Layout& layout);

// What Store::location() reports: the path the daemons open (mapped for a sandbox, the system path
// for the real system and for an offline image).
std::string store_location(const Layout& layout);

}  // namespace firstboot
