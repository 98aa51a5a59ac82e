// Runtime TXT records (`signpost txt set`, POST /v1/txt): values an operator or an
// ACME client adds at run time under a zone's `runtime_txt` prefixes, each with a
// TTL and an expiry. Pure: no clocks, no I/O; the control core holds one set, keeps
// it in the state file and serves it as static TXT RRsets of a copy of the catalog.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/persisted_state.hpp"
#include "core/duration.hpp"
#include "core/name.hpp"
#include "zones/model.hpp"

namespace signpost::control {

// The bounds of runtime TXT records (docs/zones.md, "runtime_txt").
struct RuntimeTxtLimits {
    static constexpr uint32_t default_ttl = 60;             // seconds
    static constexpr uint32_t max_ttl = 86400;
    static constexpr core::Millis default_for{3600 * 1000};  // removed after an hour unless renewed
    static constexpr core::Millis max_for{30LL * 86400 * 1000};  // "30d" in messages
    static constexpr std::size_t max_values_per_name = 16;
    static constexpr std::size_t max_records_per_zone = 256;
    static constexpr std::size_t max_value_bytes = 255;    // one TXT character-string
};

struct RuntimeTxtValue {
    std::string value;
    uint32_t ttl = RuntimeTxtLimits::default_ttl;
    int64_t set_ms = 0;      // when it was first set (Unix ms)
    int64_t expires_ms = 0;  // when it is removed (Unix ms)
};

// A command's outcome: `status` 200 (done, or nothing to do), 400 (bad input),
// 403 (the zone does not allow runtime records there), 404 (no zone holds the
// name), 409 (the zone's own data or a bound is in the way); `changed` when the
// records served changed (a new View, serial and NOTIFY follow).
struct RuntimeTxtOutcome {
    int status = 200;
    std::string message;
    bool changed = false;
};

// Why no runtime TXT record may be at `name` of `catalog` (the catalog as loaded
// from the zone files, without runtime records): {status, message}; nullopt when
// it may. Outside every zone 404; not under a runtime_txt prefix 403; at or below
// a delegation or a DNAME, at a static CNAME or TXT, at a service's owner or
// under _signpost 409.
std::optional<std::pair<int, std::string>> runtime_txt_refusal(const zones::Catalog& catalog, const core::Name& name);

// The owner name an operator typed ("_acme-challenge.example.com", final dot
// optional, any case), or nullopt with `error` set.
std::optional<core::Name> runtime_txt_name(std::string_view text, std::string& error);

class RuntimeRecords {
public:
    using Values = std::vector<RuntimeTxtValue>;

    // Adds `value` at `name`, or renews it (TTL and expiry) when it is there already.
    // nullopt ttl/for: the defaults. `catalog` is the zone files' catalog.
    RuntimeTxtOutcome set(const zones::Catalog& catalog, std::string_view name, std::string_view value,
                          std::optional<uint32_t> ttl, std::optional<core::Millis> for_, int64_t now_ms);
    // Removes `value` at `name`, or every value there when nullopt. Removing what is
    // not there is done already (200, unchanged): cleanup hooks may run twice.
    RuntimeTxtOutcome del(const zones::Catalog& catalog, std::string_view name,
                          const std::optional<std::string>& value);
    // Removes the values whose time is up at `now_ms`; one line each for the log.
    std::vector<std::string> expire(int64_t now_ms);
    // After a reload: drops the names `catalog` refuses now; one line each, with why.
    std::vector<std::string> retain(const zones::Catalog& catalog);
    // `base` with every name's values as one static TXT RRset (TTL: the lowest of
    // its values'), sharing everything else with it; `base` itself when empty.
    std::shared_ptr<const zones::Catalog> apply(std::shared_ptr<const zones::Catalog> base) const;

    const std::map<core::Name, Values>& names() const noexcept { return names_; }
    bool empty() const noexcept { return names_.empty(); }
    std::size_t size() const noexcept;  // values over all names

    // The state file's form, by owner ("_acme-challenge.example.com"), and back.
    std::map<std::string, std::vector<PersistedTxt>> persisted() const;
    void restore(const std::map<std::string, std::vector<PersistedTxt>>& saved);

private:
    std::map<core::Name, Values> names_;
};

}  // namespace signpost::control
