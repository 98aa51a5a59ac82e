// AXFR/IXFR and signed SOA answers. Messages are written by hand (owner names
// compressed against the question's zone name), then signed through ldns.
#include "xfr/transfer_server.hpp"

#include <algorithm>
#include <ctime>

#include "core/log.hpp"
#include "core/wire.hpp"
#include "xfr/acl.hpp"
#include "xfr/transfer_query.hpp"
#include "xfr/tsig.hpp"
#include "zones/model.hpp"

namespace signpost::xfr {

namespace {

using core::put16;
using core::put32;

constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kRefused = 5, kNotAuth = 9;


// One response message under construction.
class Message {
public:
    Message(std::span<const uint8_t> query, const TransferQuestion& q, uint8_t rcode, bool aa) {
        put16(wire_, q.id);
        uint8_t f1 = uint8_t(0x80 | (aa ? 0x04 : 0) | (query[2] & 0x01));  // QR, AA, RD copied
        wire_.push_back(char(f1));
        wire_.push_back(char(rcode & 0x0f));
        put16(wire_, 1);
        put16(wire_, 0);
        put16(wire_, 0);
        put16(wire_, 0);
        wire_.append(reinterpret_cast<const char*>(query.data()) + 12, q.question_end - 12);
        qname_ = q.qname_wire();
    }
    std::size_t size() const { return wire_.size(); }
    uint16_t count() const { return count_; }
    // Size the record would add.
    std::size_t cost(const Record& r) const { return owner_size(r.owner) + 10 + r.rdata.size(); }
    void add(const Record& r) {
        write_owner(r.owner);
        put16(wire_, r.type);
        put16(wire_, 1);  // IN
        put32(wire_, r.ttl);
        put16(wire_, uint16_t(r.rdata.size()));
        wire_ += r.rdata;
        ++count_;
        wire_[6] = char(count_ >> 8);
        wire_[7] = char(count_);
    }
    std::vector<uint8_t> bytes() const { return {wire_.begin(), wire_.end()}; }

private:
    // Owners at or below the question's name end in a pointer to offset 12.
    std::size_t suffix_at(const std::string& owner) const {
        if (owner.size() < qname_.size() || owner.compare(owner.size() - qname_.size(), qname_.size(), qname_) != 0)
            return std::string::npos;
        std::size_t prefix = owner.size() - qname_.size();
        std::size_t off = 0;  // the suffix must start at a label boundary
        while (off < prefix) off += 1 + uint8_t(owner[off]);
        return off == prefix ? prefix : std::string::npos;
    }
    std::size_t owner_size(const std::string& owner) const {
        std::size_t p = suffix_at(owner);
        return p == std::string::npos ? owner.size() : p + 2;
    }
    void write_owner(const std::string& owner) {
        std::size_t p = suffix_at(owner);
        if (p == std::string::npos) {
            wire_ += owner;
            return;
        }
        wire_.append(owner, 0, p);
        wire_.push_back(char(0xc0));
        wire_.push_back(char(12));
    }
    std::string wire_;
    std::string_view qname_;  // the question's, which outlives the message
    uint16_t count_ = 0;
};

uint64_t now_s() { return uint64_t(std::time(nullptr)); }

const char* type_name(uint16_t t) { return t == zones::rrtype::AXFR ? "AXFR" : t == zones::rrtype::IXFR ? "IXFR" : "SOA"; }

}  // namespace

TransferServer::TransferServer(XfrOptions options) : options_(std::move(options)) {}

std::shared_ptr<const TransferZones> TransferServer::make_zones(std::vector<std::pair<core::Name, ZoneHistory>> zones) {
    auto z = std::make_shared<TransferZones>();
    for (auto& [origin, h] : zones) {
        std::string text = origin.to_text();
        if (text.size() > 1 && text.back() == '.') text.pop_back();
        z->zones.push_back({origin, text, std::move(h)});
    }
    return z;
}

bool TransferServer::handle(const TransferZones* zones, std::span<const uint8_t> query, const core::IpAddress& client,
                            bool tcp, std::size_t udp_max, std::string& out) const {
    // 1. The header and question, for any client.
    TransferQuestion q;
    if (!parse_transfer_question(query, q)) return false;
    bool transfer = q.qtype == zones::rrtype::AXFR || q.qtype == zones::rrtype::IXFR;
    if (q.qtype == zones::rrtype::AXFR && !tcp) return false;  // RFC 5936 §4.2: TCP only; the normal path says NOTIMP
    if (!transfer && q.qtype != zones::rrtype::SOA) return false;
    if (q.qclass != 1) return false;

    const TransferZones::Zone* zone = nullptr;
    if (zones)
        for (auto& z : zones->zones)
            if (z.origin.wire() == q.qname_wire()) zone = &z;
    std::string zone_text =
        zone ? zone->text : core::Name::from_wire(q.qname_wire()).value_or(core::Name()).to_text();

    // 2. The address ACL. A client no [[secondaries]] entry of the zone lets in is
    // answered from the header and question alone, as an unsigned request is:
    // its TSIG record and IXFR SOA are never read (a signed SOA query goes to the
    // normal path, a transfer gets REFUSED, or NOTAUTH/SERVFAIL as before the ACL).
    bool address_ok = false;
    if (zone) {
        address_ok = address_may_transfer(options_, zone->text, client);
    } else {
        std::string origin = zone_text;
        if (origin.size() > 1 && origin.back() == '.') origin.pop_back();
        address_ok = address_may_transfer(options_, origin, client);
    }

    // 3. The rest of the request, for an allowed client only.
    TransferRequest req;
    TsigResult tsig;
    if (address_ok) {
        if (!parse_transfer_request(query, q, req)) return false;
        if (q.arcount > 0) tsig = tsig_verify(query, options_, now_s());
    }
    if (!transfer && tsig.status == TsigStatus::Unsigned) return false;  // a plain SOA query
    if (!transfer && !zone && tsig.status == TsigStatus::Ok) return false;
    if (tsig.status == TsigStatus::Malformed && !transfer) return false;

    std::string peer = client.to_string();
    const TsigKey* key = tsig.status == TsigStatus::Ok ? options_.find_key(tsig.key_name) : nullptr;
    std::string mac = tsig.mac;
    bool first_signed = true;

    // Appends one finished message (signed when the query was) to `out`.
    auto emit = [&](const std::vector<uint8_t>& msg) -> bool {
        std::vector<uint8_t> w = msg;
        if (key) {
            w = tsig_sign(msg, *key, mac, !first_signed);
            first_signed = false;
            if (w.empty()) return false;
        }
        if (tcp) {
            if (w.size() > 65535) return false;
            out.push_back(char(w.size() >> 8));
            out.push_back(char(w.size()));
        }
        out.append(reinterpret_cast<const char*>(w.data()), w.size());
        return true;
    };
    auto fail = [&](uint8_t rcode, const std::string& why) {
        core::log_warning("xfr", "refused {} of {} to {}: {} ({})", type_name(q.qtype), zone_text, peer, why,
                          rcode == kRefused ? "REFUSED" : rcode == kNotAuth ? "NOTAUTH" : rcode == kServFail ? "SERVFAIL" : "FORMERR");
        Message m(query, q, rcode, false);
        std::vector<uint8_t> w = m.bytes();
        if (tsig.status == TsigStatus::BadKey || tsig.status == TsigStatus::BadSig ||
            tsig.status == TsigStatus::BadTime) {
            append_tsig_error(w, tsig.key_name, tsig.algorithm, q.id, tsig_error_code(tsig.status), now_s());
            key = nullptr;
        }
        out.clear();
        if (!emit(w)) out.clear();
        return true;
    };

    if (tsig.status == TsigStatus::Malformed) return fail(kFormErr, "malformed message or TSIG record");
    if (tsig.status != TsigStatus::Unsigned && tsig.status != TsigStatus::Ok)
        return fail(kNotAuth, std::string("TSIG ") + to_string(tsig.status) + " (key " + tsig.key_name + ")");
    if (!zone) return fail(kNotAuth, "not a zone served here");

    const ZoneHistory& h = zone->history;
    if (h.empty()) return fail(kServFail, "no version to transfer yet");
    const ZoneVersion& cur = h.current();

    if (!transfer) {  // signed SOA query
        Message m(query, q, kNoError, true);
        m.add(cur.soa);
        return emit(m.bytes()) || (out.clear(), true);
    }

    auto acl = check_transfer(options_, zone->text, client, key ? key->name : std::string());
    if (acl.verdict == AclVerdict::Refused) return fail(kRefused, acl.reason);
    if (acl.verdict == AclVerdict::NeedKey) return fail(kNotAuth, acl.reason);

    // The records to send, in order.
    std::vector<const Record*> seq;
    const char* kind = "AXFR";
    std::string serials = std::to_string(cur.serial);
    IxfrPlan plan;
    if (q.qtype == zones::rrtype::IXFR) {
        if (!req.has_ixfr_soa) return fail(kFormErr, "IXFR without the client's SOA in the authority section");
        plan = h.plan(req.ixfr_serial);
        serials = std::to_string(req.ixfr_serial) + "→" + std::to_string(cur.serial);
        if (plan.kind == IxfrPlan::Kind::UpToDate) {
            kind = "IXFR (up to date)";
            seq.push_back(&cur.soa);
        } else if (plan.kind == IxfrPlan::Kind::Incremental) {
            kind = "IXFR";
            seq.push_back(&cur.soa);
            seq.push_back(&plan.old_soa);
            for (auto& r : plan.deleted) seq.push_back(&r);
            seq.push_back(&cur.soa);
            for (auto& r : plan.added) seq.push_back(&r);
            seq.push_back(&cur.soa);
        } else {
            kind = plan.larger_than_zone ? "IXFR (full: the difference is larger than the zone)"
                                         : "IXFR (full: serial not in history)";
        }
    }
    if (seq.empty()) {
        seq.push_back(&cur.soa);
        for (auto& r : *cur.records) seq.push_back(&r);
        for (auto& r : cur.soa_signatures) seq.push_back(&r);
        seq.push_back(&cur.soa);
    }

    out.clear();
    if (!tcp) {
        // IXFR over UDP (RFC 1995 §2): one message; the current SOA alone when it does not fit.
        Message m(query, q, kNoError, true);
        std::size_t room = udp_max > 200 ? udp_max - (key ? 200 : 0) : udp_max;
        bool fits = true;
        for (auto* r : seq) {
            if (m.size() + m.cost(*r) > room) {
                fits = false;
                break;
            }
            m.add(*r);
        }
        if (!fits) {
            m = Message(query, q, kNoError, true);
            m.add(cur.soa);
            kind = "IXFR over UDP (too large: current SOA only)";
        }
        if (!emit(m.bytes())) out.clear();
        core::log_info("xfr", "{} {} serial {} to {} over UDP{}: {} bytes", kind, zone->text, serials, peer,
                       key ? " (TSIG " + key->name + ")" : "", out.size());
        return true;
    }

    std::size_t limit = std::min<std::size_t>(std::max<std::size_t>(options_.message_size, 128), 60000);
    std::size_t messages = 0;
    Message m(query, q, kNoError, true);
    for (auto* r : seq) {
        if (m.count() > 0 && m.size() + m.cost(*r) > limit) {
            if (!emit(m.bytes())) {
                out.clear();
                return fail(kServFail, "could not sign a message");
            }
            ++messages;
            m = Message(query, q, kNoError, true);
        }
        m.add(*r);
    }
    if (!emit(m.bytes())) {
        out.clear();
        return fail(kServFail, "could not sign a message");
    }
    ++messages;
    core::log_info("xfr", "{} {} serial {} to {}{}: {} record(s), {} message(s), {} bytes", kind, zone->text,
                   serials, peer, key ? " (TSIG " + key->name + ")" : "", seq.size(), messages,
                   out.size() - 2 * messages);
    return true;
}

}  // namespace signpost::xfr
