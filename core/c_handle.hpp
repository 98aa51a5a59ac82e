// One RAII owner for every C handle that is freed synchronously (ldns, curl, FILE).
#pragma once

#include <memory>

namespace signpost::core {

template <auto Free>
struct CFree {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p) Free(p);
    }
};
template <class T, auto Free>
using CHandle = std::unique_ptr<T, CFree<Free>>;

}  // namespace signpost::core
