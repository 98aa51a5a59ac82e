// Diagnostics for operators: compiler-style messages that say where (file:line:col),
// what was found and what is allowed. Loaders collect all of them, not only the first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace signpost::core {

struct SourceLocation {
    std::string file;  // path as given by the operator
    uint32_t line = 0;  // 1-based; 0 = unknown
    uint32_t column = 0;
    bool operator==(const SourceLocation&) const = default;
};

enum class Severity { Error, Warning, Note };
const char* to_string(Severity s) noexcept;

struct Diagnostic {
    Severity severity = Severity::Error;
    SourceLocation where;
    std::string message;
    // "file:line:col: error: message" (parts that are unknown are left out).
    std::string to_string() const;
};

class Diagnostics {
public:
    void error(SourceLocation where, std::string message);
    void warning(SourceLocation where, std::string message);
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void append(const Diagnostics& other);
    bool has_errors() const noexcept;
    std::size_t error_count() const noexcept;
    const std::vector<Diagnostic>& items() const noexcept { return items_; }
    bool empty() const noexcept { return items_.empty(); }
    // Every diagnostic, one per line.
    std::string to_string() const;

private:
    std::vector<Diagnostic> items_;
};

}  // namespace signpost::core
