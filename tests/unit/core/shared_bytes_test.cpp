// core::SharedBytes: one allocation shared by copies, equal by content.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/shared_bytes.hpp"

using signpost::core::SharedBytes;

TEST_CASE("SharedBytes: copies share the bytes, moves hand them over, equality is by content") {
    const std::string text("\x00\x01rrsig bytes\xff", 15);
    SharedBytes a(text);
    CHECK(a.size() == text.size());
    CHECK(a.view() == text);
    SharedBytes b = a;
    CHECK(b.data() == a.data());  // shared, not copied
    SharedBytes c(text);
    CHECK(c.data() != a.data());
    CHECK(c == a);  // same bytes in another block
    CHECK_FALSE(SharedBytes(std::string("other")) == a);
    SharedBytes d = std::move(b);
    CHECK(b.empty());
    CHECK(b.size() == 0);
    CHECK(b.view().empty());
    CHECK(d.data() == a.data());
    a = SharedBytes();  // the last owners keep it alive
    CHECK(d.view() == text);
    d = c;
    CHECK(d.view() == text);
    d = d;  // self-assignment keeps it
    CHECK(d.view() == text);
    CHECK(SharedBytes(std::string_view()).empty());
    CHECK(SharedBytes() == SharedBytes(std::string_view()));
}

TEST_CASE("SharedBytes: copies dropped on several threads free the block once") {
    // Run under ASan and TSan in CI: a double free or a race on the count shows there.
    for (int round = 0; round < 50; ++round) {
        SharedBytes s(std::string(200, char('a' + round % 26)));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([copy = s]() mutable {
                for (int i = 0; i < 100; ++i) {
                    SharedBytes more = copy;
                    CHECK(more.size() == 200);
                }
            });
        s = SharedBytes();
        for (auto& t : threads) t.join();
    }
}
