#include "core/batch_plan.hpp"

#include <cstdlib>
#include <map>
#include <utility>

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

std::optional<Anchor> anchor_from_stored(const std::string& storage_dir, const StoredAsset& s) {
    const std::string root = storage_dir + "/";
    if (s.captured_at.empty() || s.final_path.compare(0, root.size(), root) != 0) return std::nullopt;
    auto captured = parse_exif_datetime(s.captured_at);
    if (!captured) return std::nullopt;
    Anchor a;
    a.key = s.key;
    a.asset_id = s.asset_id;
    std::string rel = s.final_path.substr(root.size());
    size_t slash = rel.rfind('/');
    a.dir = rel.substr(0, slash);
    std::string final_stem = split_name(rel.substr(slash + 1), false).stem;
    a.stem = split_name(s.original_name, false).stem;
    if (final_stem.size() > a.stem.size() && final_stem.compare(0, a.stem.size(), a.stem) == 0)
        a.suffix = final_stem.substr(a.stem.size());
    a.captured = *captured;
    a.utc_offset_minutes = s.utc_offset_minutes;
    a.date_source = s.date_source;
    return a;
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

// 1. Content already stored: duplicates (also of an earlier file of this batch).
void find_duplicates(const PlanInput& in, std::vector<PlanDecision>& out) {
    std::map<std::string, std::string> known;  // sha -> asset
    for (const auto& k : in.known) known.emplace(k.sha256, k.asset_id);
    for (size_t i = 0; i < in.files.size(); i++) {
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
}

void follow_anchor(Leader& l, const Anchor& a) {
    l.stored = true;
    l.asset_id = a.asset_id;
    l.dir = a.dir;
    l.suffix = a.suffix;
}

// 2. Groups: the leader of each, which companions and sidecars follow. A
// stored anchor with the group's key, captured close enough, leads; else the
// strongest new media file of the batch.
std::map<std::string, Leader> choose_leaders(const PlanInput& in, const std::vector<PlanDecision>& out) {
    std::map<std::string, Leader> leaders;
    for (size_t i = 0; i < in.files.size(); i++) {
        const PlanFile& f = in.files[i];
        if (f.kind != PlanFile::Kind::Media || out[i].outcome != PlanDecision::Outcome::Ingested) continue;
        Leader& l = leaders[f.key];
        if (l.stored) continue;
        if (l.file < 0) {
            for (const Anchor& a : in.anchors) {
                if (a.key != f.key || seconds_apart(a.captured, f.captured) > kCompanionWindowSeconds) continue;
                follow_anchor(l, a);
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
    for (const PlanFile& f : in.files) {
        if (f.kind != PlanFile::Kind::Sidecar || leaders.count(f.key)) continue;
        for (const Anchor& a : in.anchors) {
            if (a.key != f.key) continue;
            follow_anchor(leaders[f.key], a);
            break;
        }
    }
    return leaders;
}

// 3. Names. Members of a group share the leader's folder and one suffix.
struct Naming {
    const PlanInput& in;
    std::vector<PlanDecision>& out;
    const std::map<std::string, Leader>& leaders;
    std::map<std::string, int> group_ids;

    int group_of(const std::string& key) {
        return group_ids.emplace(key, static_cast<int>(group_ids.size())).first->second;
    }

    // Set aside (Rejected/, Duplicates/): the whole name, no group.
    static void set_aside(NameRequest& r, std::string dir, const std::string& name) {
        r.dir = std::move(dir);
        NameParts whole = split_name(name, false);
        r.stem = whole.stem;
        r.tail = whole.tail;
    }

    // A sidecar follows its group's leader; without one it waits (while it
    // may) or is rejected; the same sidecar content twice is a duplicate.
    bool sidecar(size_t i, NameRequest& r) {
        const PlanFile& f = in.files[i];
        PlanDecision& d = out[i];
        auto lit = leaders.find(f.key);
        if (lit == leaders.end()) {
            if (f.may_wait) {
                d.outcome = PlanDecision::Outcome::Wait;
                d.reason = "sidecar waiting for its photo or video";
                return false;
            }
            d.outcome = PlanDecision::Outcome::Rejected;
            d.reason = "sidecar without its photo or video";
            set_aside(r, "Rejected/" + in.today, f.name);
            return true;
        }
        const Leader& l = lit->second;
        bool dup = false;
        for (const auto& k : in.known_sidecars) dup = dup || (k.asset_id == l.asset_id && k.sha256 == f.sha256);
        for (size_t j = 0; j < i && !dup; j++)
            dup = out[j].outcome == PlanDecision::Outcome::Sidecar && in.files[j].sha256 == f.sha256 &&
                  out[j].asset_id == l.asset_id;
        d.asset_id = l.asset_id;
        if (dup) {
            d.outcome = PlanDecision::Outcome::Duplicate;
            r.dir = "Duplicates/" + l.dir.substr(l.dir.find('/') + 1);
        } else {
            d.outcome = PlanDecision::Outcome::Sidecar;
            r.dir = l.dir;
            r.base_suffix = l.suffix;
            r.group = group_of(f.key);
        }
        return true;
    }

    // New media: into its leader's folder; a companion of a leader other than
    // itself.
    void media(size_t i, NameRequest& r) {
        const PlanFile& f = in.files[i];
        PlanDecision& d = out[i];
        const Leader& l = leaders.at(f.key);
        r.dir = l.dir;
        r.base_suffix = l.suffix;
        r.group = group_of(f.key);
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

    // The name request for file i; false when it needs none (it waits).
    bool request(size_t i, NameRequest& r) {
        const PlanFile& f = in.files[i];
        const PlanDecision& d = out[i];
        const bool is_sidecar = f.kind == PlanFile::Kind::Sidecar;
        NameParts parts = split_name(f.name, is_sidecar);
        r.stem = parts.stem;
        r.tail = parts.tail;
        if (d.outcome == PlanDecision::Outcome::Rejected && !is_sidecar) set_aside(r, "Rejected/" + in.today, f.name);
        else if (d.outcome == PlanDecision::Outcome::Duplicate && !is_sidecar)
            set_aside(r, "Duplicates/" + date_folder(f.captured), f.name);
        else if (is_sidecar) return sidecar(i, r);
        else media(i, r);
        return true;
    }
};

}  // namespace

std::vector<PlanDecision> plan_batch(int storage_fd, const PlanInput& in) {
    std::vector<PlanDecision> out(in.files.size());
    find_duplicates(in, out);
    const std::map<std::string, Leader> leaders = choose_leaders(in, out);
    Naming naming{in, out, leaders, {}};
    std::vector<NameRequest> reqs;
    std::vector<size_t> req_file;
    for (size_t i = 0; i < in.files.size(); i++) {
        NameRequest r;
        if (!naming.request(i, r)) continue;
        reqs.push_back(std::move(r));
        req_file.push_back(i);
    }
    std::vector<std::string> names = plan_names(storage_fd, in.reserved, reqs);
    for (size_t k = 0; k < names.size(); k++) out[req_file[k]].dest_rel = names[k];
    return out;
}

}  // namespace pf
