// The transfer query parser: header and question, then (for allowed clients)
// the answer and authority sections. Bounds-checked reads only; no allocation.
#include "xfr/transfer_query.hpp"

#include "core/wire.hpp"

namespace signpost::xfr {

namespace {

constexpr uint16_t kTypeSoa = 6;

uint16_t get16(std::span<const uint8_t> w, std::size_t off) noexcept { return core::get16(w.data() + off); }

uint8_t lower(uint8_t c) noexcept { return c >= 'A' && c <= 'Z' ? uint8_t(c + 32) : c; }

// Skips one possibly compressed name; false when malformed.
bool skip_name(std::span<const uint8_t> w, std::size_t& off) noexcept {
    while (off < w.size()) {
        uint8_t l = w[off];
        if (l == 0) {
            ++off;
            return true;
        }
        if ((l & 0xc0) == 0xc0) {
            off += 2;
            return off <= w.size();
        }
        if (l & 0xc0) return false;
        off += 1 + std::size_t(l);
    }
    return false;
}

}  // namespace

bool parse_transfer_question(std::span<const uint8_t> w, TransferQuestion& q) noexcept {
    if (w.size() < 12) return false;
    if (w[2] & 0x80) return false;                // a response
    if (((w[2] >> 3) & 0x0f) != 0) return false;  // not QUERY
    if (get16(w, 4) != 1) return false;
    q.id = get16(w, 0);
    q.flags1 = w[2];
    q.ancount = get16(w, 6);
    q.nscount = get16(w, 8);
    q.arcount = get16(w, 10);
    q.qname_len = 0;
    std::size_t off = 12;
    for (;;) {
        if (off >= w.size()) return false;
        uint8_t l = w[off];
        if (l > 63) return false;  // no compression in a question
        if (off + 1 + l > w.size() || q.qname_len + 1 + l > q.qname.size()) return false;
        q.qname[q.qname_len++] = l;
        for (std::size_t i = 0; i < l; ++i) q.qname[q.qname_len++] = lower(w[off + 1 + i]);
        off += 1 + l;
        if (l == 0) break;
    }
    if (off + 4 > w.size()) return false;
    q.qtype = get16(w, off);
    q.qclass = get16(w, off + 2);
    q.question_end = off + 4;
    return true;
}

bool parse_transfer_request(std::span<const uint8_t> w, const TransferQuestion& q, TransferRequest& r) noexcept {
    r = TransferRequest{};
    std::size_t off = q.question_end;
    if (off > w.size()) return false;
    unsigned an = q.ancount, ns = q.nscount;
    for (unsigned i = 0; i < an + ns; ++i) {
        if (!skip_name(w, off) || off + 10 > w.size()) return false;
        uint16_t type = get16(w, off);
        uint16_t rdlen = get16(w, off + 8);
        std::size_t rd = off + 10;
        if (rd + rdlen > w.size()) return false;
        if (i >= an && type == kTypeSoa) {
            std::size_t p = rd;
            if (!skip_name(w, p) || !skip_name(w, p) || p + 4 > rd + rdlen) return false;
            r.has_ixfr_soa = true;
            r.ixfr_serial = uint32_t(get16(w, p)) << 16 | get16(w, p + 2);
        }
        off = rd + rdlen;
    }
    return true;
}

}  // namespace signpost::xfr
