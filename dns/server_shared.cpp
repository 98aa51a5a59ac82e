// What the UDP receivers and the TCP loop share: the clock, the log lines and
// the hooks' cheap filters (everything else never reaches a handler).
#include "dns/server_shared.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <span>

namespace signpost::dns::server_detail {

uint64_t monotonic_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

namespace {

// Cheap filter: QUERY with one question of type AXFR (TCP), IXFR, or SOA with
// additional records (TSIG). Everything else never reaches the handler.
bool transfer_candidate(const uint8_t* q, std::size_t n, bool tcp) noexcept {
    if (n < 12 || (q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1) return false;
    std::size_t off = 12;
    while (off < n && q[off] != 0 && q[off] < 64) off += 1 + q[off];
    if (off + 5 > n || q[off] != 0) return false;
    uint16_t qtype = uint16_t(q[off + 1] << 8 | q[off + 2]);
    bool has_additional = q[10] != 0 || q[11] != 0;
    return (qtype == 252 && tcp) || qtype == 251 || (qtype == 6 && has_additional);
}

// Cheap filter: a QUERY with one question of class CH, type TXT.
bool explain_candidate(const uint8_t* q, std::size_t n) noexcept {
    if (n < 12 || (q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1) return false;
    std::size_t off = 12;
    while (off < n && q[off] != 0 && q[off] < 64) off += 1 + q[off];
    return off + 5 <= n && q[off] == 0 && q[off + 1] == 0 && q[off + 2] == 16 && q[off + 3] == 0 && q[off + 4] == 3;
}

uint64_t wall_ms() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

}  // namespace

// --- zone transfers hook (ServerOptions::transfer_handler; the logic is in xfr/) ---
// True when the handler answered; TCP: framed messages appended to `out`.
bool transfer_query(const WorkerContext& /*w*/, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci, std::size_t udp_max,
                    std::string& out) noexcept {
    if (!s.settings->transfer_handler || !transfer_candidate(q, n, ci.tcp)) return false;
    try {
        return s.settings->transfer_handler(s, std::span<const uint8_t>(q, n), ci, udp_max, out);
    } catch (...) {
        return false;  // out of memory: the normal path answers
    }
}
// UDP: the handler's one message copied to `out`; 0 when not handled.
std::size_t udp_transfer(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci, uint8_t* out,
                         std::size_t cap) noexcept {
    if (!s.settings->transfer_handler || !transfer_candidate(q, n, false)) return 0;
    thread_local std::string buf;
    buf.clear();
    if (!transfer_query(w, s, q, n, ci, cap, buf) || buf.size() > cap) return 0;
    std::memcpy(out, buf.data(), buf.size());
    return buf.size();
}
// --- end zone transfers hook ---

// --- explain hook (ServerOptions::explain_handler; the logic is in dns/explain_responder) ---
// True when the handler answered; TCP: one framed message appended to `out`.
bool explain_query(const WorkerContext& /*w*/, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci, std::size_t udp_max,
                   std::string& out) noexcept {
    if (!s.settings->explain_handler || !explain_candidate(q, n)) return false;
    try {
        return s.settings->explain_handler(s, std::span<const uint8_t>(q, n), ci, udp_max, out);
    } catch (...) {
        return false;  // out of memory: the normal path answers (REFUSED)
    }
}
// UDP: the handler's message copied to `out`; 0 when not handled.
std::size_t udp_explain(const WorkerContext& w, const Snapshot& s, const uint8_t* q, std::size_t n, const ClientInfo& ci, uint8_t* out,
                        std::size_t cap) noexcept {
    thread_local std::string buf;
    buf.clear();
    if (!explain_query(w, s, q, n, ci, cap, buf) || buf.size() > cap) return 0;
    std::memcpy(out, buf.data(), buf.size());
    return buf.size();
}
// --- end explain hook ---

void log_network_error(WorkerContext& w, const char* what, int err) noexcept {
    uint64_t suppressed = 0;
    if (!w.error_log.allow(wall_ms(), suppressed)) return;
    core::log_line(core::LogLevel::Warning, "dns",
                   std::string(what) + ": " + std::strerror(err) +
                       (suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : ""));
}

// "query: 127.0.0.1 udp www.example.com. A NOERROR 61B" (off by default; rate limited).
void log_query(WorkerContext& w, const ClientInfo& client, const uint8_t* q, std::size_t qlen, const uint8_t* r,
               std::size_t rlen) noexcept {
    uint64_t suppressed = 0;
    if (!w.query_log.allow(wall_ms(), suppressed)) return;
    try {
        std::string name;
        std::size_t off = 12;
        while (off < qlen && q[off] != 0 && q[off] < 64 && off + 1 + q[off] <= qlen) {
            for (std::size_t k = 0; k < q[off]; ++k) {
                char ch = char(q[off + 1 + k]);
                if (ch == '.' || ch == '\\' || ch <= ' ' || ch > '~') {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\%03u", unsigned((unsigned char)ch));
                    name += esc;
                } else {
                    name += ch;
                }
            }
            name += '.';
            off += 1 + q[off];
        }
        if (name.empty()) name = ".";
        uint16_t qtype = off + 3 <= qlen ? uint16_t(q[off + 1] << 8 | q[off + 2]) : 0;
        static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
        unsigned rc = rlen >= 4 ? (r[3] & 0x0f) : 0;
        std::string rcode = rc < 6 ? rcodes[rc] : "RCODE" + std::to_string(rc);
        std::string type;
        for (std::size_t t = 0; t < std::size(WorkerCounters::kTypes); ++t)
            if (WorkerCounters::kTypes[t] == qtype) type = WorkerCounters::kTypeNames[t];
        if (type.empty()) type = "TYPE" + std::to_string(qtype);
        std::string line = client.address.to_string() + (client.tcp ? " tcp " : " udp ") + name + " " + type + " " +
                           rcode + ((rlen >= 3 && (r[2] & 0x02)) ? " TC " : " ") + std::to_string(rlen) + "B";
        if (suppressed) line += " (" + std::to_string(suppressed) + " query lines suppressed before this one)";
        core::log_line(core::LogLevel::Info, "query", line);
    } catch (...) {
    }
}

}  // namespace signpost::dns::server_detail
