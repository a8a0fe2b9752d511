#include "seed_command.h"

#include <exception>
#include <iostream>

#include "engine/layout.h"
#include "seed/seed_discovery.h"

namespace firstboot::cli {

int seed(const TargetOptions& target, bool quiet) {
  try {
    Layout layout = target_layout(target);
    SeedSearch search = find_seed(layout);
    if (!search.seed) {
      if (!quiet) {
        std::cerr << "firstboot: no profile found; looked at, in order:\n";
        for (const auto& line : search.looked_at) std::cerr << "    " << line << "\n";
      }
      return 1;
    }
    std::cout << search.seed->label << "\n" << to_string(search.seed->source) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "firstboot seed: error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace firstboot::cli
