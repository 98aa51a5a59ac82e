// The version signpost reports (--version, version.bind, build_info): the
// project version from CMakeLists.txt, passed in as SIGNPOST_VERSION.
#pragma once

#include <string_view>

#ifndef SIGNPOST_VERSION
#error "SIGNPOST_VERSION is defined by CMakeLists.txt (target signpost_core)"
#endif

namespace signpost::core {

inline constexpr std::string_view kVersion = SIGNPOST_VERSION;

}  // namespace signpost::core
