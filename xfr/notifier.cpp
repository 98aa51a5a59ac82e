// NOTIFY sender on the control loop: one UDP socket per address family, one
// timer for retries; each pending NOTIFY remembers its id, tries and next send.
#include "xfr/notifier.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <ctime>
#include <random>

#include "core/log.hpp"
#include "core/wire.hpp"
#include "xfr/tsig.hpp"

namespace signpost::xfr {

namespace {

using core::put16;

template <class H>
void close_handle(H* h) {
    if (!h) return;
    h->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<H*>(x); });
}

struct SendReq {
    uv_udp_send_t req;
    std::vector<uint8_t> bytes;
};

}  // namespace

Notifier::Notifier(uv_loop_t* loop, const XfrOptions& options)
    : loop_(loop), options_(options), next_id_(uint16_t(std::random_device{}())) {}

Notifier::~Notifier() { close(); }

void Notifier::close() {
    if (closed_) return;
    closed_ = true;
    pending_.clear();
    close_handle(udp4_);
    close_handle(udp6_);
    close_handle(timer_);
    udp4_ = udp6_ = nullptr;
    timer_ = nullptr;
}

uv_udp_t* Notifier::socket_for(int family) {
    uv_udp_t*& s = family == AF_INET6 ? udp6_ : udp4_;
    if (s) return s;
    s = new uv_udp_t;
    uv_udp_init(loop_, s);
    s->data = this;
    sockaddr_storage local{};
    const std::string& source = family == AF_INET6 ? options_.notify_source_v6 : options_.notify_source_v4;
    int rc = 0;
    if (family == AF_INET6)
        rc = uv_ip6_addr(source.empty() ? "::" : source.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&local));
    else
        rc = uv_ip4_addr(source.empty() ? "0.0.0.0" : source.c_str(), 0, reinterpret_cast<sockaddr_in*>(&local));
    if (rc == 0) rc = uv_udp_bind(s, reinterpret_cast<const sockaddr*>(&local), 0);
    if (rc == 0)
        rc = uv_udp_recv_start(
            s,
            [](uv_handle_t*, size_t, uv_buf_t* buf) {
                static thread_local char storage[65536];
                *buf = uv_buf_init(storage, sizeof storage);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
                auto* self = static_cast<Notifier*>(h->data);
                if (!self || n <= 0 || !from) return;
                self->on_recv(reinterpret_cast<const uint8_t*>(buf->base), std::size_t(n), from);
            });
    if (rc != 0)
        core::log_error("xfr", "NOTIFY socket{}: {}", source.empty() ? std::string() : " from " + source, uv_strerror(rc));
    return s;
}

void Notifier::set_options(const XfrOptions& options) {
    // Pending NOTIFYs find their keys again by name (the old storage goes away);
    // one whose key is gone is dropped, like one to a secondary no longer listed.
    std::map<std::string, std::string> key_names;
    for (auto& [k, p] : pending_)
        if (p.key) key_names[k] = p.key->name;
    options_ = options;
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto& p = it->second;
        bool listed = false;
        for (auto& s : options_.secondaries) listed = listed || s.covers(p.zone);
        if (p.key) p.key = options_.find_key(key_names[it->first]);
        if (!listed || (key_names.count(it->first) && !p.key)) it = pending_.erase(it);
        else ++it;
    }
}

void Notifier::notify(const core::Name& origin, const Record& soa) {
    if (closed_) return;
    std::string zone = origin.to_text();
    if (zone.size() > 1 && zone.back() == '.') zone.pop_back();
    uint32_t serial = serial_of(soa);
    for (auto& s : options_.secondaries) {
        if (!s.notify_address || !s.covers(zone)) continue;
        Pending p;
        p.zone = zone;
        auto& ip = *s.notify_address;
        p.target = (ip.v6 ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(s.notify_port);
        if (ip.v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&p.addr);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(s.notify_port);
            std::memcpy(&a->sin6_addr, ip.bytes.data(), 16);
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&p.addr);
            a->sin_family = AF_INET;
            a->sin_port = htons(s.notify_port);
            std::memcpy(&a->sin_addr, ip.bytes.data(), 4);
        }
        p.key = s.key.empty() ? nullptr : options_.find_key(s.key);
        p.id = next_id_++;
        p.serial = serial;
        // Header: opcode NOTIFY, AA; question <zone> SOA IN; answer: the new SOA (RFC 1996 §3.7).
        auto& m = p.message;
        put16(m, p.id);
        m.push_back(uint8_t(4 << 3 | 0x04));
        m.push_back(0);
        put16(m, 1);
        put16(m, 1);
        put16(m, 0);
        put16(m, 0);
        m.insert(m.end(), origin.wire().begin(), origin.wire().end());
        put16(m, 6);
        put16(m, 1);
        m.insert(m.end(), soa.owner.begin(), soa.owner.end());
        put16(m, 6);
        put16(m, 1);
        for (int sh = 24; sh >= 0; sh -= 8) m.push_back(uint8_t(soa.ttl >> sh));
        put16(m, uint16_t(soa.rdata.size()));
        m.insert(m.end(), soa.rdata.begin(), soa.rdata.end());
        p.first_ms = uv_now(loop_);
        p.wait_ms = options_.notify_first_retry_ms ? options_.notify_first_retry_ms : 1000;
        std::string k = zone + " " + p.target;
        auto& slot = pending_[k];
        slot = std::move(p);
        send(slot);
    }
    arm();
}

void Notifier::send(Pending& p) {
    std::vector<uint8_t> bytes = p.message;
    if (p.key) {
        std::string mac;
        bytes = tsig_sign(p.message, *p.key, mac);
        p.request_mac = mac;
        if (bytes.empty()) {
            core::log_error("xfr", "NOTIFY {} to {}: cannot sign with key {}", p.zone, p.target, p.key->name);
            bytes = p.message;
        }
    }
    ++p.tries;
    ++stats_.sent;
    p.next_ms = uv_now(loop_) + p.wait_ms;
    p.wait_ms *= 2;
    auto* req = new SendReq;
    req->req.data = req;
    req->bytes = std::move(bytes);
    uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(req->bytes.data()), unsigned(req->bytes.size()));
    int rc = uv_udp_send(&req->req, socket_for(p.addr.ss_family), &buf, 1, reinterpret_cast<const sockaddr*>(&p.addr),
                         [](uv_udp_send_t* r, int) { delete static_cast<SendReq*>(r->data); });
    if (rc != 0) {
        delete req;
        core::log_warning("xfr", "NOTIFY {} serial {} to {}: {}", p.zone, p.serial, p.target, uv_strerror(rc));
    } else {
        core::log_info("xfr", "NOTIFY {} serial {} to {} (try {}{})", p.zone, p.serial, p.target, p.tries,
                       p.key ? ", TSIG " + p.key->name : "");
    }
}

void Notifier::arm() {
    if (closed_) return;
    if (!timer_) {
        timer_ = new uv_timer_t;
        uv_timer_init(loop_, timer_);
        timer_->data = this;
    }
    if (pending_.empty()) {
        uv_timer_stop(timer_);
        return;
    }
    uint64_t next = UINT64_MAX;
    for (auto& [k, p] : pending_) next = std::min(next, p.next_ms);
    uint64_t now = uv_now(loop_);
    uv_timer_start(timer_, [](uv_timer_t* t) {
        if (auto* self = static_cast<Notifier*>(t->data)) self->on_timer();
    }, next > now ? next - now : 0, 0);
}

void Notifier::on_timer() {
    uint64_t now = uv_now(loop_);
    unsigned tries = options_.notify_tries ? options_.notify_tries : 5;
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto& p = it->second;
        if (p.next_ms > now) {
            ++it;
            continue;
        }
        if (p.tries >= tries) {
            ++stats_.given_up;
            core::log_warning("xfr", "NOTIFY {} serial {} to {}: no valid answer after {} tries; the secondary will "
                              "find the change at its next SOA refresh", p.zone, p.serial, p.target, p.tries);
            it = pending_.erase(it);
            continue;
        }
        send(p);
        ++it;
    }
    arm();
}

void Notifier::on_recv(const uint8_t* d, std::size_t n, const sockaddr* from) {
    if (n < 12 || !(d[2] & 0x80) || ((d[2] >> 3) & 0x0f) != 4) return;
    uint16_t id = uint16_t(d[0] << 8 | d[1]);
    uint8_t rcode = d[3] & 0x0f;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        auto& p = it->second;
        if (p.id != id || p.addr.ss_family != from->sa_family) continue;
        bool same = false;
        if (from->sa_family == AF_INET) {
            auto* a = reinterpret_cast<const sockaddr_in*>(from);
            auto* b = reinterpret_cast<const sockaddr_in*>(&p.addr);
            same = a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
        } else {
            auto* a = reinterpret_cast<const sockaddr_in6*>(from);
            auto* b = reinterpret_cast<const sockaddr_in6*>(&p.addr);
            same = std::memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0 && a->sin6_port == b->sin6_port;
        }
        if (!same) continue;
        if (p.key) {
            // A signed NOTIFY expects a signed answer (RFC 8945 §5.3): anything
            // else may be forged and must not stop the retries.
            uint64_t now = uint64_t(std::time(nullptr));
            auto v = tsig_verify(std::span<const uint8_t>(d, n), options_, now, p.request_mac);
            if (v.status != TsigStatus::Ok || v.key_name != p.key->name) {
                ++stats_.bad_responses;
                core::log_warning("xfr", "NOTIFY {} serial {} to {}: answer ignored: TSIG {} (key {} expected); retrying",
                                  p.zone, p.serial, p.target,
                                  v.status == TsigStatus::Ok ? "signed with " + v.key_name : std::string(to_string(v.status)),
                                  p.key->name);
                return;
            }
        }
        if (rcode != 0) {
            core::log_warning("xfr", "NOTIFY {} serial {} to {}: answered with rcode {}; retrying", p.zone, p.serial,
                              p.target, rcode);
            return;
        }
        ++stats_.acknowledged;
        core::log_info("xfr", "NOTIFY {} serial {} to {} acknowledged after {} try(ies), {} ms", p.zone, p.serial,
                       p.target, p.tries, uv_now(loop_) - p.first_ms);
        pending_.erase(it);
        arm();
        return;
    }
}

}  // namespace signpost::xfr
