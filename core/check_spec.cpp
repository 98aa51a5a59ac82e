#include "core/check_spec.hpp"

namespace signpost::core {
const char* to_string(CheckKind k) noexcept {
    switch (k) {
        case CheckKind::Http: return "http";
        case CheckKind::Https: return "https";
        case CheckKind::Tcp: return "tcp";
        case CheckKind::Exec: return "exec";
    }
    return "http";
}
}  // namespace signpost::core
