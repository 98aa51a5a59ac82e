// Hand-rolled DNS wire format for the resolver: one query builder and a bounds-
// checked reply reader. Compression pointers must point strictly backwards, so
// a pointer loop cannot exist; every length is checked before it is read.
#include "resolve/message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace signpost::resolve::wire {

namespace {

constexpr unsigned kMaxChain = 16;  // CNAMEs followed in one reply

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

struct Reader {
    std::span<const uint8_t> msg;
    std::size_t pos = 0;
    std::string error;

    bool fail(std::string why) {
        if (error.empty()) error = std::move(why);
        return false;
    }
    bool need(std::size_t n) { return pos + n <= msg.size() || fail("truncated message"); }
    uint16_t u16() {
        uint16_t v = uint16_t(msg[pos] << 8 | msg[pos + 1]);
        pos += 2;
        return v;
    }
    uint32_t u32() {
        uint32_t v = uint32_t(msg[pos]) << 24 | uint32_t(msg[pos + 1]) << 16 | uint32_t(msg[pos + 2]) << 8 | msg[pos + 3];
        pos += 4;
        return v;
    }

    // A name at `pos` (moved past it), lower case, dotted, no final dot.
    bool name(std::string& out) {
        out.clear();
        std::size_t at = pos;        // where we read now
        std::size_t lowest = pos;    // pointers must go below every place read so far
        bool jumped = false;
        std::size_t wire_len = 0;
        for (;;) {
            if (at >= msg.size()) return fail("truncated name");
            const uint8_t len = msg[at];
            if ((len & 0xC0) == 0xC0) {
                if (at + 1 >= msg.size()) return fail("truncated name");
                const std::size_t target = std::size_t(len & 0x3F) << 8 | msg[at + 1];
                if (target >= lowest) return fail("bad compression pointer");
                if (!jumped) pos = at + 2;
                jumped = true;
                at = lowest = target;
                continue;
            }
            if (len & 0xC0) return fail("bad label type");
            wire_len += 1 + len;
            if (wire_len > 255) return fail("name longer than 255 bytes");
            if (len == 0) {
                if (!jumped) pos = at + 1;
                return true;
            }
            if (at + 1 + len > msg.size()) return fail("truncated name");
            if (!out.empty()) out += '.';
            for (std::size_t i = 0; i < len; ++i) {
                const char c = static_cast<char>(msg[at + 1 + i]);
                if (c == '.' || c == '\\' || !std::isprint(static_cast<unsigned char>(c))) {
                    char esc[5];
                    std::snprintf(esc, sizeof esc, "\\%03u", unsigned(static_cast<unsigned char>(c)));
                    out += esc;
                } else {
                    out += lower(c);
                }
            }
            at += 1 + len;
        }
    }

    bool record(Record& r) {
        if (!name(r.owner) || !need(10)) return false;
        r.type = u16();
        r.cls = u16();
        const uint32_t ttl = u32();
        r.ttl = ttl & 0x80000000u ? 0 : ttl;
        const std::size_t rdlen = u16();
        if (!need(rdlen)) return false;
        const std::size_t end = pos + rdlen;
        if (r.type == kTypeA || r.type == kTypeAaaa) {
            const std::size_t want = r.type == kTypeA ? 4 : 16;
            if (rdlen != want) return fail(std::string(r.type == kTypeA ? "A" : "AAAA") + " record of " +
                                           std::to_string(rdlen) + " bytes");
            r.address.v6 = r.type == kTypeAaaa;
            std::memcpy(r.address.bytes.data(), msg.data() + pos, want);
        } else if (r.type == kTypeCname) {
            if (!name(r.target)) return false;
            if (pos != end) return fail("CNAME rdata length does not match its name");
        } else if (r.type == kTypeSoa) {
            std::string ignored;
            if (!name(ignored) || !name(ignored)) return false;
            if (pos + 20 != end) return fail("SOA rdata length does not match");
            pos += 16;
            r.soa_minimum = u32();
        }
        pos = end;
        return true;
    }
};

}  // namespace

std::string rcode_name(unsigned rcode) {
    switch (rcode) {
        case kNoError: return "NOERROR";
        case kFormErr: return "FORMERR";
        case kServFail: return "SERVFAIL";
        case kNxDomain: return "NXDOMAIN";
        case kNotImp: return "NOTIMP";
        case kRefused: return "REFUSED";
    }
    return "RCODE " + std::to_string(rcode);
}

std::string normalize_name(std::string_view name) {
    if (name.ends_with('.')) name.remove_suffix(1);
    std::string out(name);
    for (char& c : out) c = lower(c);
    return out;
}

std::vector<uint8_t> build_query(uint16_t id, std::string_view name, uint16_t qtype) {
    if (name.ends_with('.')) name.remove_suffix(1);
    std::vector<uint8_t> q = {uint8_t(id >> 8), uint8_t(id), 0x01, 0x00,  // RD
                              0, 1, 0, 0, 0, 0, 0, 1};                   // QD 1, AR 1 (OPT)
    if (name.empty()) return {};  // the root has no addresses to resolve
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::size_t len = dot - start;
        if (len == 0 || len > 63) return {};
        q.push_back(uint8_t(len));
        q.insert(q.end(), name.begin() + start, name.begin() + dot);
        start = dot + 1;
    }
    q.push_back(0);
    if (q.size() - 12 > 255) return {};
    const uint8_t tail[] = {uint8_t(qtype >> 8), uint8_t(qtype), 0, kClassIn,
                            0, 0, kTypeOpt, uint8_t(kUdpPayload >> 8), uint8_t(kUdpPayload & 0xFF),
                            0, 0, 0, 0, 0, 0};  // OPT: root owner, payload size, no flags, no options
    q.insert(q.end(), std::begin(tail), std::end(tail));
    return q;
}

std::optional<Message> parse(std::span<const uint8_t> bytes, std::string* why) {
    Reader r{bytes, 0, {}};
    Message m;
    auto failed = [&]() -> std::optional<Message> {
        if (why) *why = r.error;
        return std::nullopt;
    };
    if (!r.need(12)) return failed();
    m.id = r.u16();
    const uint16_t flags = r.u16();
    m.qr = flags & 0x8000;
    m.tc = flags & 0x0200;
    m.rcode = uint8_t(flags & 0x000F);
    m.qdcount = r.u16();
    const uint16_t ancount = r.u16(), nscount = r.u16();
    r.u16();  // additional records: not read
    if (m.qdcount != 1) {
        r.fail("a reply with " + std::to_string(m.qdcount) + " questions");
        return failed();
    }
    if (!r.name(m.qname) || !r.need(4)) return failed();
    m.qtype = r.u16();
    m.qclass = r.u16();
    if (m.tc) return m;  // the rest may be cut anywhere: the caller asks over TCP
    for (auto [count, section] : {std::pair{ancount, &m.answers}, std::pair{nscount, &m.authority}}) {
        for (uint16_t i = 0; i < count; ++i) {
            Record rec;
            if (!r.record(rec)) {
                m.error = "malformed reply: " + r.error;
                return m;
            }
            section->push_back(std::move(rec));
        }
    }
    return m;
}

bool answers_query(const Message& m, uint16_t id, std::string_view qname, uint16_t qtype) {
    return m.qr && m.id == id && m.qdcount == 1 && m.qtype == qtype && m.qclass == kClassIn &&
           m.qname == normalize_name(qname);
}

Chain follow(const Message& m, std::string_view qname, uint16_t qtype) {
    Chain c;
    c.end = normalize_name(qname);
    std::vector<std::string> seen = {c.end};
    for (;;) {
        bool any = false;
        for (auto& rec : m.answers) {
            if (rec.cls != kClassIn || rec.type != qtype || rec.owner != c.end) continue;
            c.addresses.push_back(rec.address);
            c.ttl = std::min(c.ttl, rec.ttl);
            any = true;
        }
        if (any) {
            c.ttl = std::min(c.ttl, c.cname_ttl);
            return c;
        }
        auto cname = std::find_if(m.answers.begin(), m.answers.end(), [&](const Record& rec) {
            return rec.cls == kClassIn && rec.type == kTypeCname && rec.owner == c.end;
        });
        if (cname == m.answers.end()) {
            c.ttl = c.cname_ttl;
            return c;
        }
        if (std::find(seen.begin(), seen.end(), cname->target) != seen.end()) {
            c.error = "CNAME loop at " + cname->target;
            return c;
        }
        if (++c.cnames > kMaxChain) {
            c.error = "CNAME chain longer than " + std::to_string(kMaxChain) + " from " + seen.front();
            return c;
        }
        c.cname_ttl = std::min(c.cname_ttl, cname->ttl);
        c.end = cname->target;
        seen.push_back(c.end);
    }
}

uint32_t negative_ttl(const Message& m) {
    for (auto& rec : m.authority)
        if (rec.type == kTypeSoa && rec.cls == kClassIn) return std::min(rec.ttl, rec.soa_minimum);
    return 0;
}

}  // namespace signpost::resolve::wire
