// NOTIFY (RFC 1996) to the configured secondaries on every new zone version:
// over UDP from the control loop (libuv), signed with the secondary's TSIG key,
// retried with doubling waits until a NOERROR response. Never blocks.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/name.hpp"
#include "xfr/options.hpp"
#include "xfr/zone_content.hpp"

namespace signpost::xfr {

class Notifier {
public:
    // Control loop only. Opens its UDP sockets lazily, on the first NOTIFY.
    Notifier(uv_loop_t* loop, const XfrOptions& options);
    ~Notifier();  // close() must have run and the loop must have turned since
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    // Tells every secondary covering `origin` (that has an address) about
    // `soa`; a NOTIFY still pending for the same zone and secondary is replaced.
    void notify(const core::Name& origin, const Record& soa);
    // A reload's [[secondaries]], [[tsig_keys]] and [xfr] tries (the sockets keep
    // their notify_source until a restart). Pending NOTIFYs to secondaries still
    // listed carry on.
    void set_options(const XfrOptions& options);
    // Closes the sockets and the timer (their memory is freed by the loop).
    void close();

    struct Stats {
        uint64_t sent = 0, acknowledged = 0, given_up = 0;
        uint64_t bad_responses = 0;  // a signed NOTIFY answered without a valid TSIG: ignored
    };
    Stats stats() const noexcept { return stats_; }

private:
    struct Pending {
        std::string zone;    // "example.com"
        std::string target;  // "127.0.0.20:53"
        sockaddr_storage addr{};
        const TsigKey* key = nullptr;
        std::vector<uint8_t> message;  // unsigned NOTIFY
        std::string request_mac;       // MAC of the last signed try: the response must sign over it
        uint16_t id = 0;
        uint32_t serial = 0;
        unsigned tries = 0;
        uint64_t next_ms = 0, wait_ms = 0, first_ms = 0;
    };

    void send(Pending& p);
    void on_timer();
    void on_recv(const uint8_t* data, std::size_t n, const sockaddr* from);
    uv_udp_t* socket_for(int family);
    void arm();

    uv_loop_t* loop_;
    XfrOptions options_;
    uv_udp_t* udp4_ = nullptr;
    uv_udp_t* udp6_ = nullptr;
    uv_timer_t* timer_ = nullptr;
    std::map<std::string, Pending> pending_;  // "zone target"
    uint16_t next_id_;
    Stats stats_;
    bool closed_ = false;
};

}  // namespace signpost::xfr
