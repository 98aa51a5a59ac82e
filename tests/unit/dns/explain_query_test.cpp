// The explain query parser: the header and question (read for every client),
// then the additional section (read for allowed clients only).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dns/explain_responder.hpp"

using namespace signpost;

namespace {

std::vector<uint8_t> ch_txt(const std::string& qname_wire, uint16_t arcount = 0) {
    std::vector<uint8_t> w = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, uint8_t(arcount >> 8), uint8_t(arcount)};
    w.insert(w.end(), qname_wire.begin(), qname_wire.end());
    for (uint8_t b : {0, 16, 0, 3}) w.push_back(b);
    return w;
}

const std::string kName("\x03www\x07" "example\x03" "com\x07" "explain\x08" "signpost\x00", 34);

}  // namespace

TEST_CASE("explain query: the question is read without the additional section") {
    auto w = ch_txt(kName, 1);
    w.insert(w.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 24, 0, 203, 0, 113});  // OPT 4096, ECS /24
    dns::ExplainQuestion q;
    REQUIRE(dns::parse_explain_question(w, q));
    CHECK(q.qname_len == kName.size());
    CHECK(q.question_end == 12 + kName.size() + 4);
    CHECK(q.arcount == 1);
    dns::ExplainRequest r;
    REQUIRE(dns::parse_explain_request(w, q, r));
    CHECK(r.has_opt);
    CHECK(r.udp_size == 4096);
    CHECK(r.has_ecs);
    CHECK(r.ecs_family == 1);
    CHECK(r.ecs_source == 24);
    CHECK(r.ecs_address_len == 3);
    CHECK(r.ecs_address[0] == 203);

    // The question still parses when the rest is cut off; the rest does not.
    w.resize(q.question_end + 5);
    REQUIRE(dns::parse_explain_question(w, q));
    CHECK_FALSE(dns::parse_explain_request(w, q, r));
}

TEST_CASE("explain query: other classes and types, records in answer or authority, pointers are not explain questions") {
    auto w = ch_txt(kName);
    dns::ExplainQuestion q;
    SUBCASE("class IN") { w[w.size() - 1] = 1; }
    SUBCASE("type A") { w[w.size() - 3] = 1; }
    SUBCASE("an answer record") { w[7] = 1; }
    SUBCASE("QR set") { w[2] |= 0x80; }
    SUBCASE("a pointer for a name") {
        w.resize(12);
        w.insert(w.end(), {0xc0, 0x0c, 0, 16, 0, 3});
    }
    CHECK_FALSE(dns::parse_explain_question(w, q));
}

TEST_CASE("explain query: a TSIG, a second OPT, a bad ECS or trailing bytes leave it to the normal path") {
    dns::ExplainQuestion q;
    dns::ExplainRequest r;
    SUBCASE("trailing bytes") {
        auto w = ch_txt(kName);
        w.push_back(0);
        REQUIRE(dns::parse_explain_question(w, q));
        CHECK_FALSE(dns::parse_explain_request(w, q, r));
    }
    SUBCASE("a record with a non-root owner (TSIG)") {
        auto w = ch_txt(kName, 1);
        w.insert(w.end(), {1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0});
        REQUIRE(dns::parse_explain_question(w, q));
        CHECK_FALSE(dns::parse_explain_request(w, q, r));
    }
    SUBCASE("ECS with a source longer than its address") {
        auto w = ch_txt(kName, 1);
        w.insert(w.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 7, 0, 8, 0, 3, 0, 1, 24});
        REQUIRE(dns::parse_explain_question(w, q));
        CHECK_FALSE(dns::parse_explain_request(w, q, r));
    }
}
