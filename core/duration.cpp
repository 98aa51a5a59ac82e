#include "core/duration.hpp"

#include <cctype>
#include <cmath>

namespace signpost::core {

std::optional<Millis> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double total_ms = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() && (std::isdigit((unsigned char)text[i]) || text[i] == '.')) ++i;
        if (start == i) return std::nullopt;
        double value;
        try {
            value = std::stod(std::string(text.substr(start, i - start)));
        } catch (...) {
            return std::nullopt;
        }
        std::size_t ustart = i;
        while (i < text.size() && std::isalpha((unsigned char)text[i])) ++i;
        std::string_view unit = text.substr(ustart, i - ustart);
        double scale;
        if (unit == "ms") scale = 1;
        else if (unit == "s" || (unit.empty() && !any && i == text.size())) scale = 1000;
        else if (unit == "m") scale = 60'000;
        else if (unit == "h") scale = 3'600'000;
        else if (unit == "d") scale = 86'400'000;
        else return std::nullopt;
        total_ms += value * scale;
        any = true;
    }
    if (!std::isfinite(total_ms) || total_ms < 0 || total_ms > 1e13) return std::nullopt;
    return Millis(static_cast<long long>(std::llround(total_ms)));
}

std::string format_duration(Millis d) {
    long long ms = d.count();
    if (ms == 0) return "0s";
    if (ms % 1000 != 0) return std::to_string(ms) + "ms";
    long long s = ms / 1000;
    std::string out;
    if (s >= 3600) { out += std::to_string(s / 3600) + "h"; s %= 3600; }
    if (s >= 60) { out += std::to_string(s / 60) + "m"; s %= 60; }
    if (s > 0) out += std::to_string(s) + "s";
    return out;
}

}  // namespace signpost::core
