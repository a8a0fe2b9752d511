#include "wizard/machine_facts.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "profile/profile_loader.h"
#include "wizard/answer_checks.h"

namespace firstboot::wizard {

namespace {

bool qualified(const std::string& name) {
  return name.find('.') != std::string::npos && is_valid_hostname(name);
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string resolv_domain() {
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  for (int n = 0; n < 200 && std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if ((key == "domain" || key == "search") && !value.empty()) return value;
  }
  return "";
}

// The qualified name /etc/hosts gives the node ("127.0.1.1 mail.example.com mail"), read from
// the file rather than through the resolver, which could wait on DNS during boot.
std::string hosts_file_name(const std::string& node) {
  if (node.empty()) return "";
  std::ifstream in("/etc/hosts");
  std::string line;
  for (int n = 0; n < 1000 && std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::vector<std::string> names;
    std::string word;
    words >> word;  // the address
    while (words >> word) names.push_back(word);
    bool mentions = false;
    for (const auto& name : names)
      mentions = mentions || name == node || name.rfind(node + ".", 0) == 0;
    if (!mentions) continue;
    for (const auto& name : names)
      if (qualified(name) && name.rfind(node.substr(0, node.find('.')) + ".", 0) == 0) return name;
  }
  return "";
}

}  // namespace

std::string pick_hostname(const std::string& nodename, const std::string& canonical,
                          const std::string& mailname, const std::string& resolv_domain) {
  std::string node = normalize_name(nodename);
  for (const std::string& candidate : {node, normalize_name(canonical), normalize_name(mailname)})
    if (qualified(candidate) && candidate.rfind("localhost", 0) != 0) return candidate;
  std::string domain = normalize_name(resolv_domain);
  std::string shortname = node.substr(0, node.find('.'));
  if (!shortname.empty() && !domain.empty() && qualified(shortname + "." + domain))
    return shortname + "." + domain;
  return shortname == "localhost" ? "" : shortname;
}

std::string machine_hostname() {
  char node[256] = {};
  if (gethostname(node, sizeof node - 1) != 0) node[0] = '\0';
  return pick_hostname(node, hosts_file_name(node), first_line("/etc/mailname"), resolv_domain());
}

}  // namespace firstboot::wizard
