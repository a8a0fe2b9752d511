// Every module the engine knows, one line each in registry.cpp.
#pragma once

#include <memory>
#include <vector>

#include "engine/module.h"

namespace firstboot {

std::vector<std::unique_ptr<Module>> all_modules();

}  // namespace firstboot
