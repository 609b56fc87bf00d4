#include "core/batch_plan.hpp"

#include <cstdlib>
#include <map>

#include "core/companions.hpp"
#include "core/errors.hpp"
#include "core/library_layout.hpp"

namespace pf {

const char* to_string(PlanDecision::Outcome o) {
    switch (o) {
        case PlanDecision::Outcome::Ingested: return "ingested";
        case PlanDecision::Outcome::Duplicate: return "duplicate";
        case PlanDecision::Outcome::Sidecar: return "sidecar";
        case PlanDecision::Outcome::Rejected: return "rejected";
        case PlanDecision::Outcome::Wait: return "wait";
    }
    return "rejected";
}

bool offset_from_file(const std::string& s) {
    return s == "exif_original" || s == "exif_digitized" || s == "exif_image" || s == "xmp" || s == "iptc" || s == "makernote" ||
           s == "video_local";
}

namespace {

int64_t seconds_apart(const LocalDateTime& a, const LocalDateTime& b) {
    return std::llabs(to_epoch_utc(a) - to_epoch_utc(b));
}

// The leader of a group: an asset stored earlier, or the strongest new file.
struct Leader {
    bool stored = false;
    std::string asset_id;
    std::string dir;     // storage-relative folder
    std::string suffix;  // stored anchor's suffix
    LocalDateTime captured;
    std::optional<int> offset;
    std::string date_source;
    int file = -1;       // index of the leading file in this batch
};

}  // namespace

std::vector<PlanDecision> plan_batch(int storage_fd, const PlanInput& in) {
    const size_t n = in.files.size();
    std::vector<PlanDecision> out(n);
    std::map<std::string, std::string> known;  // sha -> asset
    for (const auto& k : in.known) known.emplace(k.sha256, k.asset_id);

    // 1. Content already stored: duplicates (also of an earlier file of this batch).
    for (size_t i = 0; i < n; i++) {
        const PlanFile& f = in.files[i];
        PlanDecision& d = out[i];
        d.group_key = f.key;
        if (f.kind == PlanFile::Kind::Reject) {
            d.outcome = PlanDecision::Outcome::Rejected;
            continue;
        }
        if (f.kind == PlanFile::Kind::Sidecar) {
            d.outcome = PlanDecision::Outcome::Sidecar;  // until its group says otherwise
            continue;
        }
        auto it = known.find(f.sha256);
        if (it != known.end()) {
            d.outcome = PlanDecision::Outcome::Duplicate;
            d.asset_id = it->second;
        } else {
            d.outcome = PlanDecision::Outcome::Ingested;
            d.asset_id = in.new_ids.at(i);
            known.emplace(f.sha256, d.asset_id);
        }
    }

    // 2. Groups: leader, then companions and sidecars follow it.
    std::map<std::string, Leader> leaders;
    for (size_t i = 0; i < n; i++) {
        const PlanFile& f = in.files[i];
        if (f.kind != PlanFile::Kind::Media || out[i].outcome != PlanDecision::Outcome::Ingested) continue;
        Leader& l = leaders[in.files[i].key];
        if (l.stored) continue;
        if (l.file < 0) {
            // A stored anchor with this key, captured close enough, leads.
            for (const Anchor& a : in.anchors) {
                if (a.key != in.files[i].key || seconds_apart(a.captured, f.captured) > kCompanionWindowSeconds) continue;
                l.stored = true;
                l.asset_id = a.asset_id;
                l.dir = a.dir;
                l.suffix = a.suffix;
                l.captured = a.captured;
                l.offset = a.utc_offset_minutes;
                l.date_source = a.date_source;
                break;
            }
            if (l.stored) continue;
        }
        const PlanFile* cur = l.file >= 0 ? &in.files[static_cast<size_t>(l.file)] : nullptr;
        if (cur == nullptr || leader_rank(f.video, f.format) < leader_rank(cur->video, cur->format)) {
            l.file = static_cast<int>(i);
            l.asset_id = out[i].asset_id;
            l.captured = f.captured;
            l.offset = f.utc_offset_minutes;
            l.date_source = f.date_source;
            l.dir = "Originals/" + date_folder(f.captured);
        }
    }
    // Sidecars may also join a stored anchor with no new media in this batch.
    for (size_t i = 0; i < n; i++) {
        if (in.files[i].kind != PlanFile::Kind::Sidecar || leaders.count(in.files[i].key)) continue;
        for (const Anchor& a : in.anchors) {
            if (a.key != in.files[i].key) continue;
            Leader& l = leaders[in.files[i].key];
            l.stored = true;
            l.asset_id = a.asset_id;
            l.dir = a.dir;
            l.suffix = a.suffix;
            break;
        }
    }

    // 3. Names. Members of a group share the leader's folder and one suffix.
    std::vector<NameRequest> reqs;
    std::vector<size_t> req_file;
    std::map<std::string, int> group_ids;
    for (size_t i = 0; i < n; i++) {
        const PlanFile& f = in.files[i];
        PlanDecision& d = out[i];
        const bool sidecar = f.kind == PlanFile::Kind::Sidecar;
        NameParts parts = split_name(f.name, sidecar);
        NameRequest r;
        r.stem = parts.stem;
        r.tail = parts.tail;
        auto lit = leaders.find(in.files[i].key);
        if (d.outcome == PlanDecision::Outcome::Rejected && !sidecar) {
            r.dir = "Rejected/" + in.today;
            NameParts whole = split_name(f.name, false);
            r.stem = whole.stem;
            r.tail = whole.tail;
        } else if (d.outcome == PlanDecision::Outcome::Duplicate && !sidecar) {
            r.dir = "Duplicates/" + date_folder(f.captured);
            NameParts whole = split_name(f.name, false);
            r.stem = whole.stem;
            r.tail = whole.tail;
        } else if (sidecar) {
            if (lit == leaders.end()) {
                if (f.may_wait) {
                    d.outcome = PlanDecision::Outcome::Wait;
                    d.reason = "sidecar waiting for its photo or video";
                    continue;
                }
                d.outcome = PlanDecision::Outcome::Rejected;
                d.reason = "sidecar without its photo or video";
                r.dir = "Rejected/" + in.today;
                NameParts whole = split_name(f.name, false);
                r.stem = whole.stem;
                r.tail = whole.tail;
            } else {
                bool dup = false;
                for (const auto& k : in.known_sidecars)
                    dup = dup || (k.asset_id == lit->second.asset_id && k.sha256 == f.sha256);
                for (size_t j = 0; j < i && !dup; j++)
                    dup = out[j].outcome == PlanDecision::Outcome::Sidecar && in.files[j].sha256 == f.sha256 &&
                          out[j].asset_id == lit->second.asset_id;
                d.asset_id = lit->second.asset_id;
                if (dup) {
                    d.outcome = PlanDecision::Outcome::Duplicate;
                    r.dir = "Duplicates/" + lit->second.dir.substr(lit->second.dir.find('/') + 1);
                } else {
                    d.outcome = PlanDecision::Outcome::Sidecar;
                    r.dir = lit->second.dir;
                    r.base_suffix = lit->second.suffix;
                    r.group = group_ids.emplace(in.files[i].key, static_cast<int>(group_ids.size())).first->second;
                }
            }
        } else {  // new media
            const Leader& l = lit->second;
            r.dir = l.dir;
            r.base_suffix = l.suffix;
            r.group = group_ids.emplace(in.files[i].key, static_cast<int>(group_ids.size())).first->second;
            if (l.stored || l.file != static_cast<int>(i)) {
                d.companion_of = l.asset_id;
                // A video known only in UTC takes its still's offset, when the
                // still's own file stated one.
                if (f.video && f.date_source == "video_utc" && l.offset && offset_from_file(l.date_source)) {
                    int64_t utc = to_epoch_utc(f.captured) - 60LL * f.utc_offset_minutes.value_or(0);
                    d.captured = from_epoch(utc, *l.offset);
                    d.utc_offset_minutes = *l.offset;
                }
            }
        }
        reqs.push_back(r);
        req_file.push_back(i);
    }
    std::vector<std::string> names = plan_names(storage_fd, in.reserved, reqs);
    for (size_t k = 0; k < names.size(); k++) out[req_file[k]].dest_rel = names[k];
    return out;
}

}  // namespace pf
