// `firstboot seed`: where `firstboot run` without --profile would take its profile from, without
// reading or applying it. The boot units ask this to decide between the unattended run and the
// console wizard, so there is one seed search (src/seed). See docs/unattended.md, docs/image.md.
#pragma once

#include "commands.h"

namespace firstboot::cli {

// Prints the seed's system path on the first line and its source (boot_partition, nocloud,
// cloud_config) on the second; exit 0. No seed: every place looked at on stderr, exit 1. The
// search failed: the error on stderr, exit 3.
int seed(const TargetOptions& target, bool quiet);

}  // namespace firstboot::cli
