// dnsblast: a batched UDP load generator for measuring DNS servers on loopback.
// Closed loop (default): keeps a window of queries in flight (sendmmsg/recvmmsg).
// Open loop (-r RATE): sends at a fixed rate whatever the answers do, and times
// each answer by the kernel's receive timestamp (SO_TIMESTAMPNS), so a busy client
// does not add its own queueing to the server's latency (dnsperf at 100k/s on one
// core of a small VM measures mostly itself). Matches answers by ID on a
// connected socket; refuses non-loopback targets. A benchmark tool, not a test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int kMaxBatch = 256;
constexpr std::size_t kIds = 65536;
constexpr std::size_t kOrder = std::size_t(1) << 21;  // sent queries awaiting answer or timeout
constexpr std::size_t kHistogramUs = 2000000;          // latency histogram: 1 us buckets up to 2 s

uint64_t ns_of(const timespec& ts) { return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec); }
uint64_t clock_ns(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return ns_of(ts);
}
// Deadlines, pacing and timeouts: CLOCK_MONOTONIC (a clock step cannot break them).
uint64_t now_ns() { return clock_ns(CLOCK_MONOTONIC); }
// Latency only: CLOCK_REALTIME is the clock of the kernel's SO_TIMESTAMPNS stamps.
uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }

// The kernel's receive time of a datagram (SCM_TIMESTAMPNS), or 0.
uint64_t received_ns(const msghdr& m) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return ns_of(ts);
        }
    return 0;
}

[[noreturn]] void usage(const char* why) {
    if (why) std::fprintf(stderr, "dnsblast: %s\n", why);
    std::fprintf(stderr,
                 "usage: dnsblast -s ADDR:PORT (-n NAME[/TYPE] ... | -f FILE) [options]\n"
                 "  -s ADDR:PORT   server; loopback only (127.0.0.0/8 or [::1]:PORT)\n"
                 "  -n NAME[/TYPE] a query name (type A, AAAA, MX, TXT, NS, SOA, SRV, CNAME, ANY or a number;\n"
                 "                 default A); repeatable, sent round robin\n"
                 "  -f FILE        query names, one 'NAME [TYPE]' per line\n"
                 "  -d SECONDS     stop sending after this long (default 5; max 3600)\n"
                 "  -c COUNT       stop after sending this many queries (default: no count limit)\n"
                 "  -w WINDOW      queries in flight at most (default 512, max 60000); the window opens\n"
                 "                 from one batch by one query per answer (slow start)\n"
                 "  -b BATCH       queries per sendmmsg/recvmmsg (default 32, max 256)\n"
                 "  -t MS          an unanswered query counts as lost after MS (default 1000)\n"
                 "  -r RATE        open loop: send RATE queries/s (up to -b per sendmmsg) whatever the\n"
                 "                 answers do; the window (-w, default 60000 here) only caps queries in flight\n"
                 "  -e             add an EDNS OPT record (UDP size 1232)\n"
                 "  -D             as -e with the DO bit (DNSSEC answers from signed zones)\n"
                 "  -S N           EDNS Client Subnet from N different /24s (10.0.0.0/24, 10.0.1.0/24, ...;\n"
                 "                 N <= 65536), each name sent with each subnet in turn\n"
                 "output: one line of key=value figures on stdout; latency is measured from the send\n"
                 "to the kernel's receive timestamp of the answer (p50/p99/p999 from a 1 us histogram)\n");
    std::exit(2);
}

bool parse_type(const std::string& s, uint16_t& t) {
    static const struct {
        const char* name;
        uint16_t type;
    } kTypes[] = {{"A", 1},    {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12}, {"MX", 15},
                  {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"DS", 43}, {"CAA", 257}, {"ANY", 255}};
    for (auto& k : kTypes)
        if (strcasecmp(s.c_str(), k.name) == 0) {
            t = k.type;
            return true;
        }
    char* end = nullptr;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || v > 65535) return false;
    t = uint16_t(v);
    return true;
}

// A query packet for NAME/TYPE with ID 0.
// `ecs` >= 0: an EDNS Client Subnet option for 10.(ecs >> 8).(ecs & 255).0/24 (implies EDNS).
bool g_do = false;  // -D: the OPT record asks for DNSSEC records

bool make_query(const std::string& name, uint16_t type, bool edns, std::vector<uint8_t>& out, long ecs = -1) {
    if (ecs >= 0 || g_do) edns = true;
    out.assign(12, 0);
    out[2] = 0x00;  // RD clear: authoritative servers
    out[5] = 1;     // QDCOUNT
    if (edns) out[11] = 1;
    std::size_t start = 0;
    std::string n = name;
    if (!n.empty() && n.back() == '.') n.pop_back();
    while (start < n.size()) {
        std::size_t dot = n.find('.', start);
        if (dot == std::string::npos) dot = n.size();
        std::size_t l = dot - start;
        if (l == 0 || l > 63) return false;
        out.push_back(uint8_t(l));
        out.insert(out.end(), n.begin() + long(start), n.begin() + long(dot));
        start = dot + 1;
    }
    out.push_back(0);
    if (out.size() - 12 > 255) return false;
    out.push_back(uint8_t(type >> 8));
    out.push_back(uint8_t(type));
    out.push_back(0);
    out.push_back(1);  // IN
    if (edns) {
        const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, uint8_t(g_do ? 0x80 : 0), 0, 0, 0};
        out.insert(out.end(), opt, opt + sizeof opt);
    }
    if (ecs >= 0) {  // RDLENGTH 11: option 8, length 7, family 1, source 24, scope 0, 3 address bytes
        out[out.size() - 1] = 11;
        const uint8_t o[] = {0, 8, 0, 7, 0, 1, 24, 0, 10, uint8_t(ecs >> 8), uint8_t(ecs)};
        out.insert(out.end(), o, o + sizeof o);
    }
    return true;
}

struct Slot {
    uint64_t sent_ns = 0;    // monotonic: for the timeout
    uint64_t sent_real = 0;  // realtime: for the latency
    uint32_t seq = 0;
    bool busy = false;
};

}  // namespace

int main(int argc, char** argv) {
    std::string server;
    std::vector<std::pair<std::string, uint16_t>> names;
    double duration = 5;
    uint64_t count = 0;
    int window = 0, batch = 32, timeout_ms = 1000;
    double rate = 0;
    bool edns = false;
    long subnets = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value after " + a).c_str());
            return argv[++i];
        };
        if (a == "-s") server = next();
        else if (a == "-n") {
            std::string v = next();
            uint16_t t = 1;
            auto slash = v.rfind('/');
            if (slash != std::string::npos) {
                if (!parse_type(v.substr(slash + 1), t)) usage(("unknown type in " + v).c_str());
                v.resize(slash);
            }
            names.emplace_back(v, t);
        } else if (a == "-f") {
            std::ifstream in(next());
            if (!in) usage("cannot read the names file");
            std::string line;
            while (std::getline(in, line)) {
                char nb[512], tb[32] = "A";
                if (std::sscanf(line.c_str(), "%511s %31s", nb, tb) < 1 || nb[0] == '#') continue;
                uint16_t t = 1;
                if (!parse_type(tb, t)) usage(("unknown type in line: " + line).c_str());
                names.emplace_back(nb, t);
            }
        } else if (a == "-d") duration = std::atof(next().c_str());
        else if (a == "-c") count = std::strtoull(next().c_str(), nullptr, 10);
        else if (a == "-w") window = std::atoi(next().c_str());
        else if (a == "-b") batch = std::atoi(next().c_str());
        else if (a == "-t") timeout_ms = std::atoi(next().c_str());
        else if (a == "-r") rate = std::atof(next().c_str());
        else if (a == "-e") edns = true;
        else if (a == "-D") g_do = edns = true;
        else if (a == "-S") subnets = std::atol(next().c_str());
        else if (a == "-h" || a == "--help") usage(nullptr);
        else usage(("unknown option " + a).c_str());
    }
    if (server.empty()) usage("give the server with -s ADDR:PORT");
    if (names.empty()) usage("give at least one name (-n or -f)");
    if (!(duration > 0 && duration <= 3600)) usage("-d must be in (0, 3600]");
    if (window == 0) window = rate > 0 ? 60000 : 512;
    if (window < 1 || window > 60000) usage("-w must be 1..60000");
    if (rate < 0 || rate > 2e6) usage("-r must be 0..2000000");
    if (batch < 1 || batch > kMaxBatch) usage("-b must be 1..256");
    if (timeout_ms < 1 || timeout_ms > 60000) usage("-t must be 1..60000");
    if (subnets < 0 || subnets > 65536) usage("-S must be 0..65536");

    // The target: loopback only.
    sockaddr_storage ss{};
    socklen_t sslen = 0;
    {
        std::string host, port;
        if (!server.empty() && server[0] == '[') {
            auto close = server.find("]:");
            if (close == std::string::npos) usage("IPv6 servers are written [::1]:PORT");
            host = server.substr(1, close - 1);
            port = server.substr(close + 2);
        } else {
            auto colon = server.rfind(':');
            if (colon == std::string::npos) usage("the server is ADDR:PORT");
            host = server.substr(0, colon);
            port = server.substr(colon + 1);
        }
        long p = std::strtol(port.c_str(), nullptr, 10);
        if (p < 1 || p > 65535) usage("bad port");
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
            if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127) usage("refusing a non-loopback target (use 127.0.0.0/8)");
            s4->sin_family = AF_INET;
            s4->sin_port = htons(uint16_t(p));
            sslen = sizeof *s4;
        } else if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) == 1) {
            if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) usage("refusing a non-loopback target (use ::1)");
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(uint16_t(p));
            sslen = sizeof *s6;
        } else {
            usage("the server address must be a numeric loopback address");
        }
    }

    std::vector<std::vector<uint8_t>> packets;
    for (long e = 0; e < std::max(subnets, 1L); ++e) {
        for (auto& [n, t] : names) {
            std::vector<uint8_t> pkt;
            if (!make_query(n, t, edns, pkt, subnets ? e : -1)) usage(("bad name " + n).c_str());
            packets.push_back(std::move(pkt));
        }
    }

    int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::perror("dnsblast: socket");
        return 1;
    }
    int buf = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
        std::perror("dnsblast: SO_TIMESTAMPNS");
        return 1;
    }
    // Sleeps until the next send are short (tens of us): no 50 us timer slack.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    // Connected: the kernel delivers only datagrams from the server's address and port.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), sslen) != 0) {
        std::perror("dnsblast: connect");
        return 1;
    }

    // IDs: a FIFO free list (a freed ID is reused last) and a ring of sent IDs in
    // send order (for timeouts).
    std::vector<Slot> slots(kIds);
    std::vector<uint16_t> free_ids(kIds);
    for (std::size_t i = 0; i < kIds; ++i) free_ids[i] = uint16_t(i);
    std::size_t free_head = 0, free_count = kIds;
    // (id, seq) in send order; answered entries leave when they reach the head, so it
    // must hold everything sent within one timeout (2M: 2M queries/s at 1 s).
    std::vector<std::pair<uint16_t, uint32_t>> order(kOrder);
    std::size_t order_head = 0, order_count = 0;
    auto release = [&](uint16_t id) {
        slots[id].busy = false;
        free_ids[(free_head + free_count) % kIds] = id;
        ++free_count;
    };

    std::size_t maxpkt = 0;
    for (auto& p : packets) maxpkt = std::max(maxpkt, p.size());
    std::vector<uint8_t> sbuf(std::size_t(kMaxBatch) * maxpkt), rbuf(std::size_t(kMaxBatch) * 4096);
    mmsghdr smsg[kMaxBatch]{}, rmsg[kMaxBatch]{};
    iovec siov[kMaxBatch]{}, riov[kMaxBatch]{};
    constexpr std::size_t kControl = CMSG_SPACE(sizeof(timespec)) + 64;
    std::vector<uint8_t> control(std::size_t(kMaxBatch) * kControl);
    std::vector<uint32_t> histogram(kHistogramUs + 1);  // the last bucket: 2 s and more

    uint64_t sent = 0, answered = 0, lost = 0, send_errors = 0, unmatched = 0, truncated = 0;
    uint64_t offered = 0, not_sent = 0;  // open loop: queries due so far, and those that could not go out
    uint64_t rcodes[16]{};
    uint64_t lat_sum = 0, lat_max = 0;
    uint32_t seq = 0;
    std::size_t next_name = 0;
    int inflight = 0;
    // Slow start (closed loop): the window opens by one query per answer, so the
    // first burst does not overflow the server's receive buffer.
    int cwnd = rate > 0 ? window : std::min(window, batch);
    const uint64_t start = now_ns();
    const uint64_t send_deadline = start + uint64_t(duration * 1e9);
    const uint64_t timeout = uint64_t(timeout_ms) * 1000000ull;
    uint64_t last_answer = start;
    bool sending = true;

    for (;;) {
        uint64_t now = now_ns();
        if (sending && (now >= send_deadline || (count && (rate > 0 ? offered : sent) >= count))) sending = false;
        if (!sending && inflight == 0) break;
        if (!sending && now >= send_deadline + timeout + 1000000000ull) break;  // hard stop

        // Expire the oldest queries.
        while (order_count > 0) {
            auto [id, s] = order[order_head];
            if (slots[id].busy && slots[id].seq == s) {
                if (now - slots[id].sent_ns < timeout) break;
                ++lost;
                --inflight;
                release(id);
            }
            order_head = (order_head + 1) % kOrder;
            --order_count;
        }

        // Fill the window (closed loop), or send what is due (open loop).
        uint64_t due = rate > 0 ? uint64_t(double(now - start) * rate / 1e9) + 1 : 0;
        if (count) due = std::min(due, count);
        while (sending && inflight < cwnd && free_count > 0 && order_count + std::size_t(batch) < kOrder) {
            int k = std::min({batch, cwnd - inflight, int(free_count)});
            if (count) k = int(std::min<uint64_t>(uint64_t(k), count - sent));
            if (rate > 0) k = int(std::min<uint64_t>(uint64_t(k), due > offered ? due - offered : 0));
            if (k <= 0) break;
            uint64_t t = now_ns(), t_real = realtime_ns();
            for (int i = 0; i < k; ++i) {
                auto& pkt = packets[next_name];
                next_name = (next_name + 1) % packets.size();
                uint8_t* b = sbuf.data() + std::size_t(i) * maxpkt;
                std::memcpy(b, pkt.data(), pkt.size());
                uint16_t id = free_ids[free_head];
                b[0] = uint8_t(id >> 8);
                b[1] = uint8_t(id);
                siov[i] = {b, pkt.size()};
                smsg[i].msg_hdr = msghdr{};
                smsg[i].msg_hdr.msg_iov = &siov[i];
                smsg[i].msg_hdr.msg_iovlen = 1;
                free_head = (free_head + 1) % kIds;
                --free_count;
                slots[id] = Slot{t, t_real, ++seq, true};
                order[(order_head + order_count) % kOrder] = {id, seq};
                ++order_count;
            }
            int r = ::sendmmsg(fd, smsg, unsigned(k), 0);
            int ok = r < 0 ? 0 : r;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED)
                ++send_errors;
            // Queries that were not sent go back to the free list.
            for (int i = ok; i < k; ++i) {
                uint8_t* b = static_cast<uint8_t*>(siov[i].iov_base);
                release(uint16_t((b[0] << 8) | b[1]));
            }
            sent += uint64_t(ok);
            offered += uint64_t(ok);
            inflight += ok;
            if (ok < k) break;
        }
        // Open loop: what was due and did not go out now (window full, send buffer
        // full, ID ring full) is not sent later in a burst: it counts as not sent (lost).
        if (rate > 0 && sending && due > offered) {
            not_sent += due - offered;
            offered = due;
        }

        // Receive what is there; wait briefly when nothing is (open loop: until the
        // next batch is due).
        for (int i = 0; i < batch; ++i) {
            riov[i] = {rbuf.data() + std::size_t(i) * 4096, 4096};
            rmsg[i].msg_hdr = msghdr{};
            rmsg[i].msg_hdr.msg_iov = &riov[i];
            rmsg[i].msg_hdr.msg_iovlen = 1;
            rmsg[i].msg_hdr.msg_control = control.data() + std::size_t(i) * kControl;
            rmsg[i].msg_hdr.msg_controllen = kControl;
        }
        int n = ::recvmmsg(fd, rmsg, unsigned(batch), MSG_DONTWAIT, nullptr);
        if (n <= 0) {
            pollfd pfd{fd, POLLIN, 0};
            if (rate > 0 && sending) {
                uint64_t next = start + uint64_t(double(offered + uint64_t(batch)) * 1e9 / rate);
                uint64_t t = now_ns();
                timespec wait{0, long(next > t ? std::min<uint64_t>(next - t, 10000000) : 0)};
                ::ppoll(&pfd, 1, &wait, nullptr);
            } else {
                ::poll(&pfd, 1, inflight >= cwnd || !sending ? 10 : 0);
            }
            continue;
        }
        uint64_t t_user = now_ns(), t_user_real = realtime_ns();
        for (int i = 0; i < n; ++i) {
            uint64_t t = received_ns(rmsg[i].msg_hdr);
            if (t == 0) t = t_user_real;
            const uint8_t* b = static_cast<const uint8_t*>(riov[i].iov_base);
            if (rmsg[i].msg_len < 12 || !(b[2] & 0x80)) {
                ++unmatched;
                continue;
            }
            uint16_t id = uint16_t((b[0] << 8) | b[1]);
            if (!slots[id].busy) {
                ++unmatched;  // late (already counted lost) or never sent
                continue;
            }
            uint64_t lat = t > slots[id].sent_real ? t - slots[id].sent_real : 0;
            lat_sum += lat;
            lat_max = std::max(lat_max, lat);
            ++histogram[std::min<uint64_t>(lat / 1000, kHistogramUs)];
            ++answered;
            ++rcodes[b[3] & 0x0f];
            if (b[2] & 0x02) ++truncated;
            --inflight;
            release(id);
            if (cwnd < window) ++cwnd;
        }
        last_answer = t_user;
    }
    lost += uint64_t(inflight) + not_sent;
    ::close(fd);

    double secs = double(std::max(last_answer, start + 1) - start) / 1e9;
    // Nearest rank over the answered queries (lost ones have no latency).
    auto percentile = [&](double p) -> double {
        if (answered == 0) return 0;
        uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(double(answered) * p))), seen = 0;
        for (std::size_t us = 0; us <= kHistogramUs; ++us)
            if ((seen += histogram[us]) >= rank) return double(us);
        return double(kHistogramUs);
    };
    std::printf("sent=%llu answered=%llu lost=%llu qps=%.0f avg_us=%.1f p50_us=%.0f p99_us=%.0f p999_us=%.0f "
                "max_us=%.1f noerror=%llu nxdomain=%llu "
                "other_rcode=%llu truncated=%llu unmatched=%llu send_errors=%llu not_sent=%llu seconds=%.3f\n",
                (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)lost,
                double(answered) / secs, answered ? double(lat_sum) / double(answered) / 1000.0 : 0.0,
                percentile(0.50), percentile(0.99), percentile(0.999),
                double(lat_max) / 1000.0, (unsigned long long)rcodes[0], (unsigned long long)rcodes[3],
                (unsigned long long)(answered - rcodes[0] - rcodes[3]), (unsigned long long)truncated,
                (unsigned long long)unmatched, (unsigned long long)send_errors, (unsigned long long)not_sent, secs);
    return 0;
}
