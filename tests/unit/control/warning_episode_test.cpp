// The early-warning episode rule: raised once, cleared once after a calm period,
// ended silently by a move. Pure, time injected.
#include <doctest/doctest.h>

#include "control/rules.hpp"

using namespace signpost;
using namespace signpost::control;
using namespace std::chrono_literals;

namespace {
const core::TimePoint T0{std::chrono::seconds(1000)};
}

TEST_CASE("warning episode: raised once, cleared once after the calm period") {
    WarningEpisode e;
    CHECK(warning_step(e, false, false, T0) == WarningEdge::None);
    CHECK(warning_step(e, true, false, T0) == WarningEdge::Raised);
    CHECK(warning_step(e, true, false, T0 + 1s) == WarningEdge::None);  // still the same episode
    CHECK(warning_step(e, false, false, T0 + 2s) == WarningEdge::None);  // calm starts
    CHECK(e.calm_since == T0 + 2s);
    CHECK(warning_step(e, false, false, T0 + 2s + kWarningCalm - 1ms) == WarningEdge::None);
    CHECK(warning_step(e, false, false, T0 + 2s + kWarningCalm) == WarningEdge::Cleared);
    CHECK_FALSE(e.active);
    CHECK(warning_step(e, false, false, T0 + 60s) == WarningEdge::None);
}

TEST_CASE("warning episode: a flickering brownout stays one episode") {
    WarningEpisode e;
    CHECK(warning_step(e, true, false, T0) == WarningEdge::Raised);
    for (int i = 1; i < 20; ++i) {
        // Degraded for a second, fine for two, again and again: never calm for long enough.
        CHECK(warning_step(e, i % 3 == 0, false, T0 + std::chrono::seconds(i)) == WarningEdge::None);
    }
    CHECK(e.active);
}

TEST_CASE("warning episode: a move ends it silently, and a new warning after it is a new episode") {
    WarningEpisode e;
    CHECK(warning_step(e, true, false, T0) == WarningEdge::Raised);
    CHECK(warning_step(e, false, true, T0 + 1s) == WarningEdge::None);  // failed over: the service event tells
    CHECK_FALSE(e.active);
    CHECK(warning_step(e, false, false, T0 + 30s) == WarningEdge::None);  // never a late "cleared"
    CHECK(warning_step(e, true, false, T0 + 31s) == WarningEdge::Raised);
    SUBCASE("a move onto a pool that warns too opens its own episode") {
        WarningEpisode f;
        CHECK(warning_step(f, true, false, T0) == WarningEdge::Raised);
        CHECK(warning_step(f, true, true, T0 + 1s) == WarningEdge::Raised);
    }
}
