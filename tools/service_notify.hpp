// Tells systemd (Type=notify, sd_notify(3)) how the daemon is doing: READY=1 once
// it answers, RELOADING=1/READY=1 around reloads, STATUS=, STOPPING=1, and
// WATCHDOG=1 from the control loop. Every call is a no-op without NOTIFY_SOCKET.
// Control loop thread only. No rules here: the STATUS text is tools/service_status.hpp.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <uv.h>

#include "io/handle.hpp"

namespace signpost::tools {

class ServiceNotify {
public:
    ServiceNotify();
    ServiceNotify(const ServiceNotify&) = delete;
    ServiceNotify& operator=(const ServiceNotify&) = delete;

    bool enabled() const noexcept { return enabled_; }
    // READY=1 with the status (once; later calls only update the status).
    void ready(const std::string& status);
    // STATUS=, sent only when it differs from the last one sent.
    void status(const std::string& status);
    // RELOADING=1 and MONOTONIC_USEC (sd_notify(3)); nothing before ready().
    void reloading();
    // READY=1 with the status after reloading().
    void reloaded(const std::string& status);
    // STOPPING=1; stops the watchdog timer.
    void stopping();
    // When systemd asked for a watchdog (WATCHDOG_USEC, WATCHDOG_PID), sends
    // WATCHDOG=1 every half interval from a timer on `loop`, so a stuck control
    // loop is caught. Returns the interval systemd set (0: none).
    std::chrono::microseconds start_watchdog(uv_loop_t* loop);
    // Closes the watchdog timer (before the loop closes). Idempotent.
    void close() noexcept { watchdog_.close(); }

private:
    void send(const std::string& message);

    bool enabled_ = false;
    bool ready_ = false;
    bool reloading_ = false;
    bool warned_ = false;
    std::string last_status_;
    io::Timer watchdog_;
};

}  // namespace signpost::tools
