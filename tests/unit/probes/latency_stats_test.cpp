// The adaptive timeout and the brownout rule over one check's results, fed by hand.
#include <doctest/doctest.h>

#include "probes/health_tracker.hpp"
#include "probes/latency_stats.hpp"

using namespace signpost;
using namespace signpost::probes;
using core::Millis;

namespace {

void feed(LatencyStats& s, int n, double ms) {
    for (int i = 0; i < n; ++i) s.add(true, ms);
}

}  // namespace

TEST_CASE("auto timeout: the maximum until enough successes were measured") {
    LatencyStats s;
    CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{1000});
    feed(s, static_cast<int>(LatencyStats::kMinSamples) - 1, 5);
    CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{1000});
    s.add(false, 0);  // failures and timeouts measure nothing
    CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{1000});
    s.add(true, 5);
    CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{50});
}

TEST_CASE("auto timeout: a high percentile of recent latencies times the factor, within min and max") {
    LatencyStats s;
    SUBCASE("a 5 ms region is suspected after tens of milliseconds, never below the minimum") {
        feed(s, 30, 5);
        CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{50});
        CHECK(s.auto_timeout(Millis{10}, Millis{1000}) == Millis{20});
    }
    SUBCASE("a 100 ms region gets 400 ms") {
        feed(s, 30, 100);
        CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{400});
    }
    SUBCASE("a slow region is capped at the maximum") {
        feed(s, 30, 600);
        CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{1000});
    }
    SUBCASE("one slow answer in twenty does not move it: the 95th percentile, not the maximum") {
        feed(s, 19, 10);
        s.add(true, 300);
        CHECK(s.auto_timeout(Millis{1}, Millis{1000}) == Millis{40});
        s.add(true, 300);  // two of twenty: now it does
        CHECK(s.auto_timeout(Millis{1}, Millis{1000}) == Millis{1000});
    }
    SUBCASE("it follows a region whose latency climbs") {
        feed(s, 30, 10);
        feed(s, 20, 80);
        CHECK(s.auto_timeout(Millis{50}, Millis{1000}) == Millis{320});
    }
}

TEST_CASE("brownout: latency far above the endpoint's own baseline") {
    LatencyStats s;
    feed(s, 40, 5);
    CHECK(s.brownout(4, 0.25, 20).empty());
    CHECK(s.baseline_ms() == doctest::Approx(5));
    SUBCASE("one slow answer is not enough: the median of the last three") {
        s.add(true, 300);
        CHECK(s.brownout(4, 0.25, 20).empty());
        s.add(true, 300);
        CHECK(s.brownout(4, 0.25, 20) == "slow: 300 ms, usually 5 ms");
        SUBCASE("and it ends when the answers are fast again") {
            feed(s, 2, 5);
            CHECK(s.brownout(4, 0.25, 20).empty());
        }
    }
    SUBCASE("four times slower but less than 50 ms more is loopback jitter, not a brownout") {
        feed(s, 3, 40);
        CHECK(s.brownout(4, 0.25, 20).empty());
    }
    SUBCASE("warn_latency = 0 turns the latency half off") {
        feed(s, 3, 300);
        CHECK(s.brownout(0, 0.25, 20).empty());
        CHECK_FALSE(s.brownout(4, 0, 20).empty());
    }
    SUBCASE("not before a baseline is known") {
        LatencyStats fresh;
        feed(fresh, 5, 5);
        feed(fresh, 3, 500);
        CHECK(fresh.brownout(4, 0, 20).empty());
    }
}

TEST_CASE("brownout: a share of failed probes below fall") {
    LatencyStats s;
    auto round = [&](int failures_in_ten) {
        for (int i = 0; i < 10; ++i) s.add(i >= failures_in_ten, 5);
    };
    SUBCASE("a single failure is the suspect rule's business") {
        round(1);
        round(0);
        CHECK(s.brownout(0, 0.05, 20).empty());
    }
    SUBCASE("a quarter of the last twenty") {
        round(2);
        round(3);
        CHECK(s.brownout(0, 0.25, 20) == "failed 5 of the last 20 probes");
        CHECK(s.brownout(0, 0.3, 20).empty());
        CHECK(s.brownout(0, 0, 20).empty());  // off
    }
    SUBCASE("judged once the window is half full") {
        for (int i = 0; i < 9; ++i) s.add(i % 3 != 0, 5);
        CHECK(s.brownout(0, 0.25, 20).empty());
        s.add(false, 0);
        CHECK(s.brownout(0, 0.25, 20) == "failed 4 of the last 10 probes");
    }
    SUBCASE("1 % random failures never reach a quarter of twenty") {
        for (int i = 0; i < 1000; ++i) {
            s.add(i % 100 != 7, 5);
            CHECK(s.brownout(4, 0.25, 20).empty());
        }
    }
}
