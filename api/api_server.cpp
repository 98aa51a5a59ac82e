// The HTTP side of the API: libmicrohttpd in external-epoll mode, driven by a
// uv_poll_t on MHD's epoll fd and a uv_timer_t for MHD's timeouts, so every
// request runs on the control loop thread. No exception crosses a C callback.
#include "api/api_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "api/router.hpp"
#include "core/log.hpp"
#include "io/handle.hpp"

namespace signpost::api {

namespace {

// Per-request state MHD keeps for us between calls (con_cls).
struct Exchange {
    RequestHead head;
    std::string body;
    bool too_large = false;
};

std::optional<core::IpAddress> to_address(const sockaddr* sa) {
    if (!sa) return std::nullopt;
    core::IpAddress a;
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(a.bytes.data(), &in->sin_addr, 4);
        return a;
    }
    if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        a.v6 = true;
        std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
        // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket: judge it as IPv4.
        static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.bytes.data(), mapped, 12) == 0) {
            core::IpAddress v4;
            std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
            return v4;
        }
        return a;
    }
    return std::nullopt;
}

MHD_Result collect_argument(void* cls, MHD_ValueKind, const char* key, const char* value) {
    try {
        if (key) (*static_cast<std::map<std::string, std::string>*>(cls))[key] = value ? value : "";
    } catch (...) {
    }
    return MHD_YES;
}

MHD_Result send_reply(MHD_Connection* connection, const Reply& reply) {
    MHD_Response* response = MHD_create_response_from_buffer(reply.body.size(), const_cast<char*>(reply.body.data()),
                                                             MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    bool csp = false;
    for (auto& [k, v] : reply.headers) {
        MHD_add_response_header(response, k.c_str(), v.c_str());
        csp |= k == "Content-Security-Policy";
    }
    if (!csp) MHD_add_response_header(response, "Content-Security-Policy", data_csp);
    MHD_Result ret = MHD_queue_response(connection, static_cast<unsigned>(reply.status), response);
    MHD_destroy_response(response);
    return ret;
}

// "127.0.0.1:8054", "[::1]:8054"
std::string show_address(const std::string& host, uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string strip_brackets(const std::string& host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

}  // namespace

struct ApiServer::Impl {
    uv_loop_t* loop;
    ApiOptions options;
    Router router;
    MHD_Daemon* daemon = nullptr;
    io::Poll poll;
    io::Timer timer;
    uint16_t port = 0;
    std::string start_error;  // what MHD logged while starting
    bool starting = true;
    bool in_run = false;  // inside MHD_run: MHD_stop_daemon must wait until it returns

    Impl(uv_loop_t* l, ApiOptions o, Backend& backend) : loop(l), options(std::move(o)), router(options, backend) {}

    // MHD's work is done; arm the timer for its next deadline (0: more work is ready now).
    void run_and_rearm() noexcept {
        if (!daemon) return;
        in_run = true;
        MHD_run(daemon);
        in_run = false;
        if (!timer) {  // stop() was called from a request handler: finish it now
            stop();
            return;
        }
        MHD_UNSIGNED_LONG_LONG timeout = 0;
        if (MHD_get_timeout(daemon, &timeout) == MHD_YES)
            uv_timer_start(timer.get(), on_timer, static_cast<uint64_t>(timeout), 0);
        else
            uv_timer_stop(timer.get());
    }

    static void on_poll(uv_poll_t* handle, int status, int) {
        auto* self = static_cast<Impl*>(handle->data);
        if (status < 0) core::log_warning("api", "poll error on the HTTP listener: {}", uv_strerror(status));
        self->run_and_rearm();
    }
    static void on_timer(uv_timer_t* handle) { static_cast<Impl*>(handle->data)->run_and_rearm(); }

    static void on_log(void* cls, const char* fmt, va_list ap) {
        auto* self = static_cast<Impl*>(cls);
        char buf[512];
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        std::string line(buf);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
        if (self->starting) {
            if (self->start_error.empty()) self->start_error = line;
            return;
        }
        core::log_debug("api", "{}", line);
    }

    static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                                 const char*, const char* upload_data, size_t* upload_data_size, void** con_cls) {
        auto* self = static_cast<Impl*>(cls);
        try {
            auto* ex = static_cast<Exchange*>(*con_cls);
            if (!ex) {
                // First call: the headers are in, the body (if any) is not.
                auto owned = std::make_unique<Exchange>();
                owned->head.method = method ? method : "";
                owned->head.path = url ? url : "";
                MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect_argument, &owned->head.query);
                if (auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS))
                    owned->head.peer = to_address(info->client_addr);
                if (auto* auth = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))
                    owned->head.authorization = auth;
                if (auto* cl = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
                    char* end = nullptr;
                    errno = 0;
                    unsigned long long n = std::strtoull(cl, &end, 10);
                    if (end != cl && errno == 0) owned->head.content_length = static_cast<std::size_t>(n);
                }
                *con_cls = owned.get();
                ex = owned.release();
                if (auto early = self->router.admit(ex->head)) return send_reply(connection, *early);
                return MHD_YES;
            }
            if (*upload_data_size > 0) {
                if (!ex->too_large) {
                    if (ex->body.size() + *upload_data_size > max_body_bytes) {
                        ex->too_large = true;
                        ex->body.clear();
                        ex->body.shrink_to_fit();
                    } else {
                        ex->body.append(upload_data, *upload_data_size);
                    }
                }
                *upload_data_size = 0;  // consumed (or discarded past the limit)
                return MHD_YES;
            }
            if (ex->too_large)
                return send_reply(connection, error_reply(413, "request body too large: at most " +
                                                                   std::to_string(max_body_bytes) + " bytes"));
            return send_reply(connection, self->router.handle(ex->head, ex->body));
        } catch (...) {
            return MHD_NO;  // out of memory: drop the connection
        }
    }

    static void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
        delete static_cast<Exchange*>(*con_cls);
        *con_cls = nullptr;
    }

    // Binds the listener ourselves so failures carry errno's words.
    int open_listener() {
        std::string host = strip_brackets(options.host);
        sockaddr_storage ss{};
        socklen_t len = 0;
        int family = 0;
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons(options.port);
            len = sizeof *in;
            family = AF_INET;
        } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(options.port);
            len = sizeof *in6;
            family = AF_INET6;
        } else {
            throw std::runtime_error("host must be an IPv4 or IPv6 address, got '" + options.host + "'");
        }
        int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
            int e = errno;
            ::close(fd);
            throw std::runtime_error(std::strerror(e));
        }
        sockaddr_storage bound{};
        socklen_t blen = sizeof bound;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) == 0)
            port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
        return fd;
    }

    void start() {
        int fd = open_listener();
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        if (options.host.find(':') != std::string::npos) flags |= MHD_USE_IPv6;
        daemon = MHD_start_daemon(
            flags, 0, nullptr, nullptr, &Impl::on_request, this,                               //
            MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(fd),                              //
            MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(options.max_connections),        //
            MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options.connection_timeout_seconds),
            MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, nullptr,                         //
            MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, this,                                    //
            MHD_OPTION_END);
        if (!daemon)
            throw std::runtime_error(start_error.empty() ? std::string("libmicrohttpd refused to start") : start_error);
        if (auto* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT); info && info->port)
            port = info->port;
        auto* epoll = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!epoll || epoll->epoll_fd < 0) throw std::runtime_error("libmicrohttpd has no epoll descriptor");

        if (int rc = poll.open(uv_poll_init, loop, epoll->epoll_fd); rc != 0) {
            throw std::runtime_error(std::string("uv_poll_init: ") + uv_strerror(rc));
        }
        poll->data = this;
        timer.open(uv_timer_init, loop);
        timer->data = this;
        if (int rc = uv_poll_start(poll.get(), UV_READABLE, &Impl::on_poll); rc != 0)
            throw std::runtime_error(std::string("uv_poll_start: ") + uv_strerror(rc));
        starting = false;
        run_and_rearm();
    }

    void stop() noexcept {
        // uv first (the poll stops watching MHD's epoll fd at once), then MHD closes its sockets.
        poll.close();
        timer.close();
        if (daemon && !in_run) {
            MHD_stop_daemon(daemon);
            daemon = nullptr;
        }
    }
};

ApiServer::ApiServer(uv_loop_t* loop, ApiOptions options, Backend& backend)
    : impl_(std::make_unique<Impl>(loop, std::move(options), backend)) {
    try {
        impl_->start();
    } catch (const std::exception& e) {
        impl_->stop();
        throw std::runtime_error("cannot start API on " + show_address(strip_brackets(impl_->options.host),
                                                                        impl_->options.port) + ": " + e.what());
    }
    core::log_info("api", "listening on http://{}", show_address(strip_brackets(impl_->options.host), impl_->port));
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::set_access(const std::string& token, const std::vector<core::IpPrefix>& read_allow) {
    impl_->options.token = token;
    impl_->options.read_allow = read_allow;
}

uint16_t ApiServer::port() const noexcept { return impl_->port; }

void ApiServer::stop() {
    if (impl_) impl_->stop();
}

}  // namespace signpost::api
