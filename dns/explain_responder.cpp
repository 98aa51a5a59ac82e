// Explain over DNS: a slow path for operators (allocates, uses ldns through
// explain()); only allowed clients reach it, everything else takes the normal path.
#include "dns/explain_responder.hpp"

#include <algorithm>
#include <cstring>

#include "core/wire.hpp"

namespace signpost::dns {

namespace {

using core::put16;

using core::get16;
using core::kClassCh;
using core::kEcsOption;
constexpr uint16_t kTypeTxt = 16, kTypeOpt = 41;

// One TXT record: owner compressed to the question's name, class CH, TTL 0;
// the line split into character-strings of at most 255 bytes.
void append_txt(std::string& out, std::string_view line) {
    put16(out, 0xc00c);
    put16(out, kTypeTxt);
    put16(out, kClassCh);
    put16(out, 0);
    put16(out, 0);  // TTL 0: an explanation is true only now
    std::size_t strings = std::max<std::size_t>(1, (line.size() + 254) / 255);
    put16(out, uint16_t(line.size() + strings));
    for (std::size_t i = 0; i < strings; ++i) {
        auto part = line.substr(std::min(line.size(), i * 255), 255);
        out.push_back(char(part.size()));
        out.append(part);
    }
}

std::size_t txt_size(std::size_t line_bytes) {
    return 12 + std::max<std::size_t>(1, (line_bytes + 254) / 255) + line_bytes;
}

}  // namespace

bool parse_explain_question(std::span<const uint8_t> wire, ExplainQuestion& q) noexcept {
    const uint8_t* p = wire.data();
    std::size_t n = wire.size();
    if (n < 12 || (p[2] & 0x80) || ((p[2] >> 3) & 0x0f) != 0) return false;  // a QUERY
    if (get16(p + 4) != 1 || get16(p + 6) != 0 || get16(p + 8) != 0) return false;
    std::size_t off = 12;
    for (;;) {
        if (off >= n || p[off] > 63) return false;  // no compression in a question
        uint8_t l = p[off];
        off += 1 + l;
        if (off - 12 > 255) return false;
        if (l == 0) break;
    }
    if (off + 4 > n || get16(p + off) != kTypeTxt || get16(p + off + 2) != kClassCh) return false;
    q.qname_len = off - 12;
    q.question_end = off + 4;
    q.arcount = get16(p + 10);
    return true;
}

bool parse_explain_request(std::span<const uint8_t> wire, const ExplainQuestion& q, ExplainRequest& r) noexcept {
    const uint8_t* p = wire.data();
    std::size_t n = wire.size();
    r = ExplainRequest{};
    std::size_t off = q.question_end;
    if (off > n) return false;
    for (unsigned i = 0; i < q.arcount; ++i) {
        bool root_owner = off < n && p[off] == 0;
        if (!root_owner) return false;  // only OPT (root owner) is expected; TSIG etc.: normal path
        off += 1;
        if (off + 10 > n) return false;
        uint16_t type = get16(p + off), cls = get16(p + off + 2), rdlen = get16(p + off + 8);
        uint8_t version = p[off + 5];
        off += 10;
        if (off + rdlen > n || type != kTypeOpt || r.has_opt || version != 0) return false;
        r.has_opt = true;
        r.udp_size = std::max<uint16_t>(512, cls);
        for (std::size_t o = off; o < off + rdlen;) {
            if (o + 4 > off + rdlen) return false;
            uint16_t code = get16(p + o), len = get16(p + o + 2);
            o += 4;
            if (o + len > off + rdlen) return false;
            if (code == kEcsOption) {
                if (r.has_ecs || len < 4) return false;
                uint16_t family = get16(p + o);
                uint8_t source = p[o + 2], scope = p[o + 3];
                unsigned max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
                if (max_bits == 0 || source > max_bits || scope != 0 || len - 4u != (source + 7u) / 8u) return false;
                r.has_ecs = true;
                r.ecs_family = family;
                r.ecs_source = source;
                r.ecs_address_len = uint8_t(len - 4u);
                std::memcpy(r.ecs_address, p + o + 4, r.ecs_address_len);
            }
            o += len;
        }
        off += rdlen;
    }
    return off == n;
}

ExplainResponder::ExplainResponder(std::vector<core::IpPrefix> allow, uint16_t udp_payload_size)
    : allow_(std::move(allow)), udp_payload_size_(std::max<uint16_t>(512, udp_payload_size)) {}

bool ExplainResponder::handle(const ExplainState* state, std::span<const uint8_t> query, const ClientInfo& client,
                              std::size_t udp_max, std::string& out) const {
    if (!state) return false;
    ExplainQuestion question;
    if (!parse_explain_question(query, question)) return false;
    // The additional section is read for allowed clients only.
    bool allowed = std::any_of(allow_.begin(), allow_.end(), [&](auto& p) { return p.contains(client.address); });
    if (!allowed) return false;
    ExplainRequest req;
    if (!parse_explain_request(query, question, req)) return false;
    auto qname = core::Name::from_wire(
        std::string_view(reinterpret_cast<const char*>(query.data() + 12), question.qname_len));
    if (!qname) return false;
    auto parsed = parse_explain_name(*qname);
    if (!parsed) return false;  // another CH question: REFUSED as before

    std::vector<std::string> lines;
    if (!parsed->error.empty()) {
        lines.push_back("error: " + parsed->error);
    } else if (!state->catalog || !state->view || !state->evaluations) {
        lines.push_back("error: not serving yet: the first probe round is running");
    } else {
        ExplainQuery q;
        q.name = parsed->name;
        q.qtype = parsed->qtype;
        q.type_text = parsed->type_text;
        q.client = client.address;
        // The client subnet (dig +subnet=...) asks for that subnet's answer.
        if (req.has_ecs && req.ecs_source > 0) {
            core::IpPrefix subnet;
            subnet.address.v6 = req.ecs_family == 2;
            std::memcpy(subnet.address.bytes.data(), req.ecs_address, req.ecs_address_len);
            if (req.ecs_source % 8)  // host bits zero, as IpPrefix expects
                subnet.address.bytes[req.ecs_address_len - 1] &= uint8_t(0xff00u >> (req.ecs_source % 8));
            subnet.length = req.ecs_source;
            q.subnet = subnet;
            q.client = subnet.address;
        }
        lines = explanation_lines(explain(*state->catalog, *state->evaluations, state->health, *state->view, q), q);
    }
    // Numbered, so every record differs (an RRset holds no duplicates) and the
    // order survives a resolver that shuffles records.
    std::size_t width = std::max<std::size_t>(2, std::to_string(lines.size()).size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string no = std::to_string(i + 1);
        lines[i] = std::string(width - no.size(), '0') + no + " " + lines[i];
        if (lines[i].size() > kMaxLineBytes) lines[i] = lines[i].substr(0, kMaxLineBytes - 6) + " (cut)";
    }

    std::size_t opt_size = req.has_opt ? 11 + (req.has_ecs ? 8 + req.ecs_address_len : 0) : 0;
    std::size_t limit = client.tcp ? 65535 : std::min<std::size_t>(udp_max, req.has_opt ? req.udp_size : 512);
    std::size_t fixed = question.question_end + opt_size;
    if (fixed > limit) return false;
    std::string records;
    std::size_t count = 0;
    bool truncated = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        // Over TCP, keep room for a last line that says how many were left out.
        std::size_t room = limit - fixed - (client.tcp ? txt_size(80) : 0);
        if (records.size() + txt_size(lines[i].size()) > room) {
            truncated = true;
            if (client.tcp) {
                append_txt(records, std::to_string(lines.size() - i) + " more lines cut: a DNS message holds 65535 bytes");
                ++count;
            }
            break;
        }
        append_txt(records, lines[i]);
        ++count;
    }
    bool tc = truncated && !client.tcp;  // UDP: nothing rather than part; the client retries over TCP
    if (tc) {
        records.clear();
        count = 0;
    }

    std::string msg;
    msg.reserve(fixed + records.size() + 2);
    msg.append(reinterpret_cast<const char*>(query.data()), 2);        // ID
    msg.push_back(char(0x80 | 0x04 | (tc ? 0x02 : 0) | (query[2] & 0x01)));  // QR AA [TC] RD
    msg.push_back(0);                                                  // NOERROR
    put16(msg, 1);
    put16(msg, uint16_t(count));
    put16(msg, 0);
    put16(msg, req.has_opt ? 1 : 0);
    msg.append(reinterpret_cast<const char*>(query.data() + 12), question.question_end - 12);
    msg += records;
    if (req.has_opt) {
        msg.push_back(0);
        put16(msg, kTypeOpt);
        put16(msg, udp_payload_size_);
        put16(msg, 0);
        put16(msg, 0);
        if (req.has_ecs) {
            // The answer is for exactly the subnet asked about (RFC 7871 scope).
            put16(msg, uint16_t(8 + req.ecs_address_len));
            put16(msg, kEcsOption);
            put16(msg, uint16_t(4 + req.ecs_address_len));
            put16(msg, req.ecs_family);
            msg.push_back(char(req.ecs_source));
            msg.push_back(char(req.ecs_source));
            msg.append(reinterpret_cast<const char*>(req.ecs_address), req.ecs_address_len);
        } else {
            put16(msg, 0);
        }
    }
    if (client.tcp) put16(out, uint16_t(msg.size()));
    else out.clear();
    out += msg;
    return true;
}

}  // namespace signpost::dns
