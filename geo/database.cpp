// MaxMind DB lookups with libmaxminddb (MMDB_MODE_MMAP): MMDB_lookup_sockaddr,
// then MMDB_get_value into fixed arrays. open() allocates; lookup() never does.
#include "geo/database.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace signpost::geo {

struct Database::Handle {
    MMDB_s mmdb{};
    bool opened = false;
    ~Handle() {
        if (opened) MMDB_close(&mmdb);
    }
};

std::unique_ptr<Database> Database::open(const std::string& path, std::string& error) {
    auto db = std::unique_ptr<Database>(new Database());
    db->mmdb_ = std::make_unique<Handle>();
    errno = 0;
    int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb_->mmdb);
    int err = errno;
    if (rc != MMDB_SUCCESS) {
        std::string why = MMDB_strerror(rc);
        if ((rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) && err) why += std::string(": ") + std::strerror(err);
        error = path + ": cannot open the GeoIP database: " + why +
                "; geoip_databases takes MaxMind DB files (GeoLite2/GeoIP2 Country, City or ASN, DB-IP lite)";
        return nullptr;
    }
    db->mmdb_->opened = true;
    const auto& md = db->mmdb_->mmdb.metadata;
    db->path_ = path;
    db->type_ = md.database_type ? md.database_type : "";
    db->build_epoch_ = md.build_epoch;
    db->ipv6_ = md.ip_version == 6;
    return db;
}

Database::~Database() = default;

namespace {

// Copies a short UTF-8 string value (ISO codes) into `out` when it fits.
template <std::size_t N>
void get_code(MMDB_entry_s& entry, char (&out)[N], const char* const* path) noexcept {
    if (out[0]) return;  // an earlier file gave it
    MMDB_entry_data_s d{};
    if (MMDB_aget_value(&entry, &d, path) != MMDB_SUCCESS || !d.has_data) return;
    if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0 || d.data_size >= N) return;
    std::memcpy(out, d.utf8_string, d.data_size);
    out[d.data_size] = 0;
}

bool get_double(MMDB_entry_s& entry, double& out, const char* const* path) noexcept {
    MMDB_entry_data_s d{};
    if (MMDB_aget_value(&entry, &d, path) != MMDB_SUCCESS || !d.has_data) return false;
    if (d.type == MMDB_DATA_TYPE_DOUBLE) out = d.double_value;
    else if (d.type == MMDB_DATA_TYPE_FLOAT) out = double(d.float_value);
    else return false;
    return true;
}

}  // namespace

uint8_t Database::lookup(const core::IpAddress& address, Location& out, unsigned fields) const noexcept {
    sockaddr_storage ss{};
    if (address.v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        std::memcpy(&s6->sin6_addr, address.bytes.data(), 16);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        std::memcpy(&s4->sin_addr, address.bytes.data(), 4);
    }
    int err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&mmdb_->mmdb, reinterpret_cast<const sockaddr*>(&ss), &err);
    if (err != MMDB_SUCCESS) return 0;  // an IPv6 address in an IPv4-only file
    unsigned bits = r.netmask;
    // An IPv4 address in an IPv6 file is looked up as ::a.b.c.d: its network
    // length counts the 96 leading bits of the IPv6 tree.
    if (!address.v6 && ipv6_) bits = bits >= 96 ? bits - 96 : 0;
    if (bits > (address.v6 ? 128u : 32u)) bits = address.v6 ? 128 : 32;
    if (!r.found_entry) return uint8_t(bits);
    out.found = true;
    MMDB_entry_s& e = r.entry;
    static const char* const kContinentPath[] = {"continent", "code", nullptr};
    static const char* const kCountryPath[] = {"country", "iso_code", nullptr};
    static const char* const kRegisteredPath[] = {"registered_country", "iso_code", nullptr};
    static const char* const kSubdivisionPath[] = {"subdivisions", "0", "iso_code", nullptr};
    static const char* const kAsnPath[] = {"autonomous_system_number", nullptr};
    static const char* const kLatitudePath[] = {"location", "latitude", nullptr};
    static const char* const kLongitudePath[] = {"location", "longitude", nullptr};
    if (fields & kContinent) get_code(e, out.continent, kContinentPath);
    if (fields & (kCountry | kSubdivision)) {
        get_code(e, out.country, kCountryPath);
        get_code(e, out.country, kRegisteredPath);  // anonymous networks carry only the registered country
    }
    if (fields & kSubdivision) get_code(e, out.subdivision, kSubdivisionPath);
    if ((fields & kAsn) && out.asn == 0) {
        MMDB_entry_data_s d{};
        if (MMDB_aget_value(&e, &d, kAsnPath) == MMDB_SUCCESS && d.has_data) {
            if (d.type == MMDB_DATA_TYPE_UINT32) out.asn = d.uint32;
            else if (d.type == MMDB_DATA_TYPE_UINT16) out.asn = d.uint16;
        }
    }
    if ((fields & kCoordinates) && !out.has_coordinates) {
        double lat = 0, lon = 0;
        if (get_double(e, lat, kLatitudePath) && get_double(e, lon, kLongitudePath) && lat >= -90 && lat <= 90 &&
            lon >= -180 && lon <= 180) {
            out.has_coordinates = true;
            out.latitude = lat;
            out.longitude = lon;
        }
    }
    return uint8_t(bits);
}

std::shared_ptr<const Databases> Databases::open(const std::vector<std::string>& paths, std::string& error) {
    auto dbs = std::make_shared<Databases>();
    for (auto& p : paths) {
        auto db = Database::open(p, error);
        if (!db) return nullptr;
        dbs->files_.push_back(std::move(db));
    }
    return dbs;
}

Location Databases::lookup(const core::IpAddress& address, unsigned fields) const noexcept {
    Location out;
    uint8_t longest = 0;
    for (auto& f : files_) {
        uint8_t bits = f->lookup(address, out, fields);
        if (bits > longest) longest = bits;
    }
    out.prefix_length = longest;
    return out;
}

}  // namespace signpost::geo
