#include "core/diagnostics.hpp"

namespace signpost::core {

const char* to_string(Severity s) noexcept {
    switch (s) {
        case Severity::Error: return "error";
        case Severity::Warning: return "warning";
        case Severity::Note: return "note";
    }
    return "error";
}

std::string Diagnostic::to_string() const {
    std::string out;
    if (!where.file.empty()) {
        out += where.file;
        if (where.line) {
            out += ':' + std::to_string(where.line);
            if (where.column) out += ':' + std::to_string(where.column);
        }
        out += ": ";
    }
    out += core::to_string(severity);
    out += ": ";
    out += message;
    return out;
}

void Diagnostics::error(SourceLocation where, std::string message) {
    items_.push_back({Severity::Error, std::move(where), std::move(message)});
}
void Diagnostics::warning(SourceLocation where, std::string message) {
    items_.push_back({Severity::Warning, std::move(where), std::move(message)});
}
void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}
bool Diagnostics::has_errors() const noexcept { return error_count() > 0; }
std::size_t Diagnostics::error_count() const noexcept {
    std::size_t n = 0;
    for (auto& d : items_) n += d.severity == Severity::Error;
    return n;
}
std::string Diagnostics::to_string() const {
    std::string out;
    for (auto& d : items_) out += d.to_string() + '\n';
    return out;
}

}  // namespace signpost::core
