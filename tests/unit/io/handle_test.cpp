// io::Handle on a real libuv loop: the handle's memory lives until its close
// callback, which frees it; owners closed from anywhere leave a loop that closes.
#include <doctest/doctest.h>

#include <uv.h>

#include <csignal>
#include <utility>

#include "io/handle.hpp"

using namespace signpost;

namespace {

struct Loop {
    uv_loop_t loop{};
    Loop() { uv_loop_init(&loop); }
    // Runs the close callbacks, then closes: 0 means no handle was left open.
    int close() {
        uv_run(&loop, UV_RUN_DEFAULT);
        return uv_loop_close(&loop);
    }
};

}  // namespace

TEST_CASE("io: a closed handle is freed by its close callback, not before") {
    Loop l;
    const std::size_t before = io::live_handles();
    {
        io::Timer timer;
        REQUIRE(timer.open(uv_timer_init, &l.loop) == 0);
        CHECK(timer);
        CHECK(io::live_handles() == before + 1);
        timer.close();
        CHECK_FALSE(timer);
        CHECK(timer.get() == nullptr);
        CHECK(io::live_handles() == before + 1);  // libuv still holds it until the callback
        timer.close();                            // idempotent
    }
    CHECK(l.close() == 0);
    CHECK(io::live_handles() == before);
}

TEST_CASE("io: an owner destroyed with its handle active leaves a loop that closes with 0") {
    Loop l;
    const std::size_t before = io::live_handles();
    bool fired = false;
    {
        io::Timer timer;
        timer.open(uv_timer_init, &l.loop);
        timer->data = &fired;
        uv_timer_start(timer.get(), [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 0, 0);
        io::Idle idle;
        idle.open(uv_idle_init, &l.loop);
        uv_idle_start(idle.get(), [](uv_idle_t*) {});
    }  // both closed here, while active
    CHECK(l.close() == 0);
    CHECK_FALSE(fired);  // a closed handle never calls back
    CHECK(io::live_handles() == before);
}

TEST_CASE("io: a handle may close its own owner from its callback") {
    Loop l;
    const std::size_t before = io::live_handles();
    struct Self {
        io::Timer timer;
        int runs = 0;
    } self;
    self.timer.open(uv_timer_init, &l.loop);
    self.timer->data = &self;
    uv_timer_start(self.timer.get(), [](uv_timer_t* t) {
        auto* s = static_cast<Self*>(t->data);
        ++s->runs;
        s->timer.close();  // the handle we are running in: freed after this returns
    }, 0, 1);              // repeating: only closing stops it
    CHECK(l.close() == 0);
    CHECK(self.runs == 1);
    CHECK(io::live_handles() == before);
}

TEST_CASE("io: moving an owner moves the handle and the moved-from owner closes nothing") {
    Loop l;
    const std::size_t before = io::live_handles();
    {
        io::Timer a;
        a.open(uv_timer_init, &l.loop);
        uv_timer_t* h = a.get();
        io::Timer b = std::move(a);
        CHECK_FALSE(a);
        CHECK(b.get() == h);
        io::Timer c;
        c.open(uv_timer_init, &l.loop);
        c = std::move(b);  // closes c's own handle first
        CHECK(c.get() == h);
        CHECK(io::live_handles() == before + 2);
    }
    CHECK(l.close() == 0);
    CHECK(io::live_handles() == before);
}

TEST_CASE("io: a failed init leaves the owner empty and frees the handle") {
    Loop l;
    const std::size_t before = io::live_handles();
    SUBCASE("failing before libuv registers the handle (uv_poll_init on a bad descriptor)") {
        io::Poll poll;
        CHECK(poll.open(uv_poll_init, &l.loop, -1) != 0);
        CHECK_FALSE(poll);
        CHECK(io::live_handles() == before);
    }
    SUBCASE("failing after libuv registered it (uv_spawn of a missing program)") {
        char file[] = "/nonexistent/signpost-io-test";
        char* args[] = {file, nullptr};
        uv_process_options_t opts{};
        opts.file = file;
        opts.args = args;
        opts.exit_cb = [](uv_process_t*, int64_t, int) {};
        io::Process process;
        CHECK(process.open(uv_spawn, &l.loop, &opts) != 0);
        CHECK_FALSE(process);
    }
    CHECK(l.close() == 0);
    CHECK(io::live_handles() == before);
}

TEST_CASE("io: an abandoned process is killed and its handle freed once it has exited") {
    Loop l;
    const std::size_t before = io::live_handles();
    bool exit_called = false;
    {
        char sh[] = "/bin/sh", c[] = "-c", script[] = "exec sleep 30";
        char* args[] = {sh, c, script, nullptr};
        uv_process_options_t opts{};
        opts.file = sh;
        opts.args = args;
        opts.exit_cb = [](uv_process_t* p, int64_t, int) { *static_cast<bool*>(p->data) = true; };
        io::Process process;
        REQUIRE(process.open(uv_spawn, &l.loop, &opts) == 0);
        process->data = &exit_called;
        io::abandon(process, SIGKILL);
        CHECK_FALSE(process);
        CHECK(io::live_handles() == before + 1);  // until the child has exited
    }
    CHECK(l.close() == 0);  // returns once the killed child is reaped
    CHECK_FALSE(exit_called);
    CHECK(io::live_handles() == before);
}
