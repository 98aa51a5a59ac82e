// IXFR history: snapshots per serial and the condensed difference between two.
#include "xfr/history.hpp"

namespace signpost::xfr {

bool ZoneHistory::update(const ZoneContent& content) {
    uint32_t wanted = serial_of(content.soa);
    if (!versions_.empty()) {
        auto& cur = versions_.back();
        bool same = *cur.records == content.records && with_serial(cur.soa, 0) == with_serial(content.soa, 0);
        if (same && !serial_gt(wanted, cur.serial)) return false;
        if (!serial_gt(wanted, cur.serial)) wanted = cur.serial + 1;
    }
    ZoneVersion v;
    v.serial = wanted;
    v.soa = with_serial(content.soa, wanted);
    v.records = std::make_shared<const std::vector<Record>>(content.records);
    versions_.push_back(std::move(v));
    while (versions_.size() > max_) versions_.pop_front();
    return true;
}

void ZoneHistory::sign_current_soa(std::vector<Record> signatures) {
    if (!versions_.empty()) versions_.back().soa_signatures = std::move(signatures);
}

IxfrPlan ZoneHistory::plan(uint32_t client_serial) const {
    IxfrPlan p;
    if (versions_.empty()) return p;
    auto& cur = versions_.back();
    if (!serial_gt(cur.serial, client_serial)) {
        p.kind = IxfrPlan::Kind::UpToDate;
        return p;
    }
    for (auto& v : versions_) {
        if (v.serial != client_serial) continue;
        p.deleted = minus(*v.records, *cur.records);
        p.added = minus(*cur.records, *v.records);
        // The old SOA's signatures go with it, the new SOA's come with it.
        auto old_sigs = minus(v.soa_signatures, cur.soa_signatures);
        auto new_sigs = minus(cur.soa_signatures, v.soa_signatures);
        p.deleted.insert(p.deleted.end(), old_sigs.begin(), old_sigs.end());
        p.added.insert(p.added.end(), new_sigs.begin(), new_sigs.end());
        if (p.deleted.size() + p.added.size() > cur.records->size() + 1) {
            p.deleted.clear();
            p.added.clear();
            p.kind = IxfrPlan::Kind::Full;
            p.larger_than_zone = true;
            return p;
        }
        p.old_soa = v.soa;
        p.kind = IxfrPlan::Kind::Incremental;
        return p;
    }
    return p;
}

}  // namespace signpost::xfr
