// Key timing and rollovers: see rollover.hpp. Pure; no I/O, no clock.
#include "dnssec/rollover.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "dnssec/sign.hpp"

namespace signpost::dnssec {

namespace {

bool reached(const std::optional<int64_t>& t, int64_t now) { return t && *t <= now; }

bool sep(const ZoneKey& k) { return k.signer.flags() == kSepKeyFlags; }

std::string key_name(const ZoneKey& k) { return std::string(to_string(k.role)) + " " + std::to_string(k.signer.key_tag()); }

}  // namespace

std::string iso_utc(int64_t t) {
    std::time_t tt = std::time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

KeyState key_state(const KeyTiming& t, bool is_sep, int64_t now) {
    KeyState s;
    const bool legacy = !t.publish && !t.activate;
    const auto publish_from = t.publish ? t.publish : t.activate;
    s.published = (legacy || reached(publish_from, now)) && !reached(t.remove, now);
    const bool started = legacy || reached(t.activate, now);
    s.signing = s.published && started && !reached(t.inactive, now);
    const bool ds_from = t.sync_publish ? reached(t.sync_publish, now) : started;
    const bool ds_until = t.sync_delete ? !reached(t.sync_delete, now) : !reached(t.inactive, now);
    s.ds = is_sep && s.published && ds_from && ds_until;
    return s;
}

std::string state_text(const KeyState& s, bool is_sep) {
    if (!s.published) return "unpublished";
    std::string out = "published";
    if (s.signing) out += "+signing";
    if (is_sep && s.ds) out += "+ds";
    return out;
}

std::optional<int64_t> next_key_event(const KeyTiming& t, int64_t now) {
    std::optional<int64_t> out;
    for (auto& v : {t.publish, t.activate, t.inactive, t.remove, t.sync_publish, t.sync_delete})
        if (v && *v > now && (!out || *v < *out)) out = v;
    return out;
}

std::optional<std::string> check_key_timeline(const ZoneKeys& keys, zones::KeyScheme scheme, int64_t now) {
    std::set<int64_t> times{now};
    for (auto& k : keys.keys)
        for (auto& v : {k.timing.publish, k.timing.activate, k.timing.inactive, k.timing.remove})
            if (v && *v > now) times.insert(*v);
    const bool csk = scheme == zones::KeyScheme::Csk;
    for (int64_t t : times) {
        bool data = false, key_set = false;
        for (auto& k : keys.keys) {
            KeyState s = key_state(k.timing, sep(k), t);
            if (!s.signing) continue;
            if (k.role != KeyRole::Ksk) data = true;
            if (k.role != KeyRole::Zsk) key_set = true;
        }
        if (data && key_set) continue;
        std::string files;
        for (auto& k : keys.keys)
            if (!csk || k.role == KeyRole::Csk) files += (files.empty() ? "" : ", ") + key_name(k) + " (" + k.path + ".private)";
        std::string what = !data ? (csk ? "no CSK signs the zone" : "no ZSK signs the zone's data")
                                 : (csk ? "no CSK signs the zone" : "no KSK signs the DNSKEY set");
        return "zone " + keys.zone.to_key() + ": " + (t == now ? std::string("now") : "from " + iso_utc(t)) + " " + what +
               " (every key's Activate, Inactive and Delete considered): " + (files.empty() ? "no keys" : files) +
               "; fix the timing fields (or move a broken key's files away)";
    }
    return std::nullopt;
}

RolloverTimes rollover_times(const zones::Zone& zone) {
    RolloverTimes r;
    r.dnskey_ttl = zone.soa.ttl;
    uint32_t max_ttl = std::max(zone.soa.ttl, std::min(zone.soa.ttl, zone.soa.minimum));
    for (auto& [name, n] : zone.nodes)
        for (auto& set : n.rrsets) max_ttl = std::max(max_ttl, set.ttl);
    for (auto& svc : zone.services) max_ttl = std::max(max_ttl, svc.ttl);
    // Runtime TXT records (signpost txt set) may carry a TTL up to a day: the control
    // core's RuntimeTxtLimits::max_ttl, which dnssec/ cannot include.
    constexpr uint32_t kRuntimeTxtMaxTtl = 86400;
    if (!zone.runtime_txt.empty()) max_ttl = std::max(max_ttl, kRuntimeTxtMaxTtl);
    r.max_ttl = max_ttl;
    r.propagation = zone.dnssec().propagation.count() / 1000;
    r.ds_ttl = zone.dnssec().ds_ttl.count() / 1000;
    return r;
}

RolloverPlan plan_rollover(const ZoneKeys& keys, zones::KeyScheme scheme, RollKind kind, int64_t now,
                           const RolloverTimes& times) {
    RolloverPlan plan;
    const bool csk = scheme == zones::KeyScheme::Csk;
    const std::string zone = keys.zone.to_key();
    if (kind == RollKind::Zsk && csk) {
        plan.error = "zone " + zone +
                     " has keys = \"csk\": its one key signs everything, so there is no ZSK to roll; roll the CSK "
                     "with --csk (double-DS, with the parent), or set [dnssec] keys = \"ksk+zsk\" first";
        return plan;
    }
    if (kind == RollKind::Csk && !csk) {
        plan.error = "zone " + zone + " has keys = \"ksk+zsk\": there is no CSK; roll the KSK with --ksk or the ZSK with --zsk";
        return plan;
    }
    if (kind == RollKind::Zsk) {
        for (auto& k : keys.keys) {
            if (k.role != KeyRole::Zsk) continue;
            KeyState s = key_state(k.timing, false, now);
            if (s.published && !s.signing && !reached(k.timing.inactive, now) && k.timing.activate) {
                plan.error = "zone " + zone + ": a ZSK rollover is running: ZSK " + std::to_string(k.signer.key_tag()) +
                             " signs from " + iso_utc(*k.timing.activate) + "; roll again after that";
                return plan;
            }
            if (s.signing && k.timing.inactive) {
                plan.error = "zone " + zone + ": a ZSK rollover is running: ZSK " + std::to_string(k.signer.key_tag()) +
                             " stops signing at " + iso_utc(*k.timing.inactive) + "; roll again after that";
                return plan;
            }
        }
        const int64_t activate = now + times.dnskey_ttl + times.propagation;
        plan.new_flags = kZoneKeyFlags;
        plan.new_timing.created = plan.new_timing.publish = now;
        plan.new_timing.activate = activate;
        for (std::size_t i = 0; i < keys.keys.size(); ++i) {
            auto& k = keys.keys[i];
            if (k.role != KeyRole::Zsk || !key_state(k.timing, false, now).signing) continue;
            KeyTiming t = k.timing;
            if (!t.publish && !t.activate) t.publish = t.activate = k.created ? k.created : now;
            t.inactive = activate;
            t.remove = activate + times.max_ttl + times.propagation;
            plan.changes.push_back({i, t});
        }
        if (plan.changes.empty()) plan.error = "zone " + zone + ": no ZSK signs now; nothing to roll";
        return plan;
    }
    // KSK or CSK: double-DS.
    const char* role = csk ? "CSK" : "KSK";
    bool any = false;
    for (auto& k : keys.keys) {
        if (!sep(k)) continue;
        KeyState s = key_state(k.timing, true, now);
        if (s.published && !s.signing && !k.timing.activate && !reached(k.timing.inactive, now)) {
            plan.error = "zone " + zone + ": a " + role + " rollover is waiting for the parent: " + role + " " +
                         std::to_string(k.signer.key_tag()) +
                         " signs once you confirm its DS is there (signpost dnssec ds-seen " + zone + " " +
                         std::to_string(k.signer.key_tag()) + ")";
            return plan;
        }
        if (s.signing && k.timing.inactive) {
            plan.error = "zone " + zone + ": a " + role + " rollover is running: " + role + " " +
                         std::to_string(k.signer.key_tag()) + " stops signing at " + iso_utc(*k.timing.inactive) +
                         "; roll again after that";
            return plan;
        }
        any |= s.signing;
    }
    if (!any) {
        plan.error = "zone " + zone + ": no " + role + " signs now; nothing to roll";
        return plan;
    }
    plan.new_flags = kSepKeyFlags;
    plan.new_timing.created = plan.new_timing.publish = plan.new_timing.sync_publish = now;
    return plan;
}

RolloverPlan plan_ds_seen(const ZoneKeys& keys, zones::KeyScheme scheme, uint16_t tag, int64_t now,
                          const RolloverTimes& times) {
    RolloverPlan plan;
    const bool csk = scheme == zones::KeyScheme::Csk;
    const std::string zone = keys.zone.to_key();
    const ZoneKey* fresh = nullptr;
    std::size_t fresh_index = 0;
    std::string list;
    for (std::size_t i = 0; i < keys.keys.size(); ++i) {
        auto& k = keys.keys[i];
        list += (list.empty() ? "" : ", ") + key_name(k);
        if (k.signer.key_tag() == tag) {
            fresh = &k;
            fresh_index = i;
        }
    }
    if (!fresh) {
        plan.error = "zone " + zone + " has no key with tag " + std::to_string(tag) + "; its keys: " +
                     (list.empty() ? "none" : list);
        return plan;
    }
    if (!sep(*fresh)) {
        plan.error = "key " + std::to_string(tag) + " of zone " + zone +
                     " is a ZSK: the parent holds no DS for it; ds-seen names the new KSK or CSK of a rollover";
        return plan;
    }
    KeyState s = key_state(fresh->timing, true, now);
    if (fresh->timing.activate || !s.published || reached(fresh->timing.inactive, now)) {
        plan.error = key_name(*fresh) + " of zone " + zone +
                     (s.signing ? " signs already" : " is not waiting for its DS") +
                     "; ds-seen confirms the DS of the new key of a rollover (signpost dnssec rollover " + zone + " " +
                     (csk ? "--csk" : "--ksk") + ")";
        return plan;
    }
    KeyTiming t = fresh->timing;
    t.activate = now;
    if (!t.sync_publish) t.sync_publish = now;
    plan.changes.push_back({fresh_index, t});
    const int64_t publish = fresh->timing.publish.value_or(now);
    const int64_t inactive = std::max(now + times.ds_ttl + times.propagation, publish + times.dnskey_ttl + times.propagation);
    const int64_t remove = inactive + (csk ? times.max_ttl : times.dnskey_ttl) + times.propagation;
    for (std::size_t i = 0; i < keys.keys.size(); ++i) {
        auto& k = keys.keys[i];
        if (i == fresh_index || !sep(k) || !key_state(k.timing, true, now).signing) continue;
        KeyTiming o = k.timing;
        if (!o.publish && !o.activate) o.publish = o.activate = k.created ? k.created : now;
        o.sync_delete = now;
        o.inactive = inactive;
        o.remove = remove;
        plan.changes.push_back({i, o});
    }
    return plan;
}

}  // namespace signpost::dnssec
