// Test support for the probes integration binary: child processes stopped by
// PID, temporary directories, loopback listeners, and a libuv loop driven until
// a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <uv.h>

extern char** environ;

namespace itest {

using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// A listening TCP socket on `address` (IPv4, loopback) and a port the kernel
// picked; `flags` are added to socket()'s type (e.g. SOCK_NONBLOCK). Throws.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
};
inline Listener listen_tcp(const std::string& address, int flags = 0) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) throw std::runtime_error("bad address " + address);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 64) != 0) {
        if (fd >= 0) close(fd);
        throw std::runtime_error("cannot listen on " + address);
    }
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    return {fd, ntohs(sa.sin_port)};
}

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/signpost-probes-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path + ".tmp");
    f << text;
    f.close();
    std::filesystem::rename(path + ".tmp", path);  // atomic: the backend never sees half a mode
}

inline std::string read_file(const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// A child with stdout on a pipe; stopped (SIGTERM, then SIGKILL) by its PID.
class Process {
public:
    explicit Process(std::vector<std::string> argv, bool quiet = false) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        out_ = fds[0];
        if (rc != 0) {
            close(out_);
            throw std::runtime_error("cannot start " + argv[0]);
        }
    }
    ~Process() { stop(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // One line of stdout, waiting at most `limit`; empty on timeout or EOF.
    std::string read_line(Ms limit) {
        const auto deadline = SteadyClock::now() + limit;
        std::string line;
        while (SteadyClock::now() < deadline) {
            pollfd p{out_, POLLIN, 0};
            const auto left = std::chrono::duration_cast<Ms>(deadline - SteadyClock::now()).count();
            if (poll(&p, 1, static_cast<int>(std::max<long>(1, left))) <= 0) continue;
            char c;
            if (read(out_, &c, 1) != 1) break;
            if (c == '\n') return line;
            line += c;
        }
        return {};
    }

    // Waits for the exit; returns the exit status (-1 if it had to be killed).
    int wait(Ms limit) {
        const auto deadline = SteadyClock::now() + limit;
        while (pid_ > 0 && SteadyClock::now() < deadline) {
            int st = 0;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            }
            usleep(10000);
        }
        stop();
        return -1;
    }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int st = 0;
            for (int i = 0; i < 200; ++i) {  // up to 2 s, then SIGKILL
                if (waitpid(pid_, &st, WNOHANG) == pid_) {
                    pid_ = -1;
                    break;
                }
                usleep(10000);
            }
            if (pid_ > 0) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &st, 0);
                pid_ = -1;
            }
        }
        if (out_ >= 0) {
            close(out_);
            out_ = -1;
        }
    }

    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

// A loop driven until a predicate holds or a deadline passes; closing it must
// leave no handle behind (uv_loop_close() == 0).
class Loop {
public:
    Loop() {
        uv_loop_init(&loop_);
        uv_timer_init(&loop_, &tick_);
    }
    ~Loop() { close(); }
    uv_loop_t* get() { return &loop_; }

    bool run_until(const std::function<bool()>& done, Ms limit) {
        const auto deadline = SteadyClock::now() + limit;
        // A ticking timer bounds each uv_run so the deadline is always seen.
        uv_timer_start(&tick_, [](uv_timer_t*) {}, 10, 10);
        bool ok = done();
        for (int i = 0; !ok && i < 1000000 && SteadyClock::now() < deadline; ++i) {
            uv_run(&loop_, UV_RUN_ONCE);
            ok = done();
        }
        uv_timer_stop(&tick_);
        return ok;
    }
    void run_for(Ms d) {
        const auto until = SteadyClock::now() + d;
        run_until([&] { return SteadyClock::now() >= until; }, d + Ms{100});
    }

    // Runs the loop until every handle is closed; returns uv_loop_close().
    int close() {
        if (closed_) return result_;
        closed_ = true;
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick_))) uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
        const auto deadline = SteadyClock::now() + Ms{5000};
        while (uv_run(&loop_, UV_RUN_NOWAIT) != 0 && SteadyClock::now() < deadline) usleep(1000);
        result_ = uv_loop_close(&loop_);
        return result_;
    }

private:
    uv_loop_t loop_;
    uv_timer_t tick_;
    bool closed_ = false;
    int result_ = 0;
};

// Starts tests/support/backend.py and reads its port.
class Backend {
public:
    Backend(std::string bind, std::string mode_file, std::vector<std::string> extra = {})
        : bind_(std::move(bind)), mode_file_(std::move(mode_file)) {
        std::vector<std::string> argv{SIGNPOST_PYTHON, SIGNPOST_BACKEND, "--bind", bind_, "--mode-file", mode_file_};
        argv.insert(argv.end(), extra.begin(), extra.end());
        proc_ = std::make_unique<Process>(argv);
        const std::string line = proc_->read_line(Ms{10000});
        if (line.rfind("PORT ", 0) != 0) throw std::runtime_error("backend did not start: '" + line + "'");
        port_ = static_cast<uint16_t>(std::stoi(line.substr(5)));
    }
    uint16_t port() const { return port_; }
    void set_mode(const std::string& m) { write_file(mode_file_, m); }
    void stop() { proc_->stop(); }

private:
    std::string bind_, mode_file_;
    std::unique_ptr<Process> proc_;
    uint16_t port_ = 0;
};

}  // namespace itest
