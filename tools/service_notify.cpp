// sd_notify(3) calls for the daemon's lifecycle; see service_notify.hpp.
#include "tools/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/log.hpp"

namespace signpost::tools {

namespace {
uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}
}  // namespace

ServiceNotify::ServiceNotify() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
}

void ServiceNotify::send(const std::string& message) {
    if (!enabled_) return;
    int rc = sd_notify(0, message.c_str());
    if (rc < 0 && !warned_) {  // once: a gone socket must not flood the log
        warned_ = true;
        core::log_warning("daemon", "cannot notify systemd at $NOTIFY_SOCKET: {} (not logged again)", std::strerror(-rc));
    }
}

void ServiceNotify::ready(const std::string& status) {
    if (ready_) return this->status(status);
    ready_ = true;
    last_status_ = status;
    send("READY=1\nSTATUS=" + status);
}

void ServiceNotify::status(const std::string& status) {
    if (status == last_status_) return;
    last_status_ = status;
    send("STATUS=" + status);
}

void ServiceNotify::reloading() {
    if (!ready_) return;  // READY=1 after it would announce a start that has not happened
    reloading_ = true;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
}

void ServiceNotify::reloaded(const std::string& status) {
    if (!reloading_) return this->status(status);
    reloading_ = false;
    last_status_ = status;
    send("READY=1\nSTATUS=" + status);
}

void ServiceNotify::stopping() {
    send("STOPPING=1");
    close();
}

std::chrono::microseconds ServiceNotify::start_watchdog(uv_loop_t* loop) {
    uint64_t usec = 0;
    if (!enabled_ || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::microseconds(0);
    if (watchdog_.open(uv_timer_init, loop) != 0) return std::chrono::microseconds(0);
    watchdog_->data = this;
    uint64_t every_ms = std::max<uint64_t>(usec / 2000, 1);
    uv_timer_start(
        watchdog_.get(), [](uv_timer_t* t) { static_cast<ServiceNotify*>(t->data)->send("WATCHDOG=1"); }, 0, every_ms);
    uv_unref(reinterpret_cast<uv_handle_t*>(watchdog_.get()));  // never keeps the loop alive by itself
    return std::chrono::microseconds(usec);
}

}  // namespace signpost::tools
