// MaxMind DB files (GeoLite2/GeoIP2 Country, City, ASN; DB-IP lite) opened with
// libmaxminddb and looked up per query: no allocation, no locks on lookup().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "geo/location.hpp"

namespace signpost::geo {

// One opened file, memory-mapped; immutable after open. Any thread may look up.
class Database {
public:
    // Opens `path`. On failure returns null and sets `error` to a sentence naming
    // the file: "/x/GeoLite2-City.mmdb: cannot open the GeoIP database: ...".
    static std::unique_ptr<Database> open(const std::string& path, std::string& error);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Adds what this file knows about `address` to `out` (fields `out` already has
    // are kept). Returns the network's prefix length (in the address's family).
    // Runs per query: no allocation, no locks, no syscalls.
    // `fields` (geo::Field bits) limits what is read.
    uint8_t lookup(const core::IpAddress& address, Location& out, unsigned fields = kAllFields) const noexcept;

    const std::string& path() const noexcept { return path_; }
    const std::string& type() const noexcept { return type_; }  // "GeoLite2-City", "DBIP-Country-Lite", ...
    uint64_t build_epoch() const noexcept { return build_epoch_; }
    bool ipv6() const noexcept { return ipv6_; }

private:
    Database() = default;
    struct Handle;
    std::unique_ptr<Handle> mmdb_;
    std::string path_, type_;
    uint64_t build_epoch_ = 0;
    bool ipv6_ = false;
};

// The databases of the server config, asked in order: the first that knows a
// field gives it (a City file and an ASN file together).
class Databases {
public:
    // Opens every path; on the first failure returns null and sets `error`.
    static std::shared_ptr<const Databases> open(const std::vector<std::string>& paths, std::string& error);

    // The client's location; prefix_length is the longest network of the files
    // that answered (every address sharing it gets this same Location).
    // Runs per query: no allocation, no locks, no syscalls.
    // `fields` (geo::Field bits) limits what is read.
    Location lookup(const core::IpAddress& address, unsigned fields = kAllFields) const noexcept;

    const std::vector<std::unique_ptr<Database>>& files() const noexcept { return files_; }

private:
    std::vector<std::unique_ptr<Database>> files_;
};

}  // namespace signpost::geo
