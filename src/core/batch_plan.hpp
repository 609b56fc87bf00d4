// Deciding, for a batch of files read from the inbox, what becomes of each:
// a new asset, a duplicate of one, a companion of another (Live Photo video,
// RAW's JPEG), a sidecar, a rejection, or "wait" (a sidecar whose photo has
// not arrived yet) — and where each goes. Pure decisions: the caller brings
// what the ledger knows and carries them out through the journal.
#pragma once

#include "core/core_guard.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/datetime.hpp"

namespace pf {

struct PlanFile {
    enum class Kind { Media, Sidecar, Reject };
    Kind kind = Kind::Reject;
    std::string key;   // companion key (inbox_companion_key)
    std::string name;  // sanitised leaf name: what the stored file is called
    std::string sha256;
    // media only
    bool video = false;
    std::string format;
    LocalDateTime captured;
    std::optional<int> utc_offset_minutes;
    std::string date_source;
    // sidecar only: still inside photofactory.sidecar_wait, so it may wait for its photo
    bool may_wait = false;
};

// Content the ledger (or a move in flight) already holds.
struct KnownContent {
    std::string sha256, asset_id;
};
// A sidecar already stored for an asset.
struct KnownSidecar {
    std::string asset_id, sha256;
};
// A stored asset that late companions can join (found by companion key).
struct Anchor {
    std::string key;
    std::string asset_id;
    std::string dir;     // storage-relative folder of its file
    std::string stem;    // its stem as received ("IMG_1")
    std::string suffix;  // the collision suffix it got ("" or "~1")
    LocalDateTime captured;
    std::optional<int> utc_offset_minutes;
    std::string date_source;
};

// A stored asset as the ledger lists it (a media_assets row; NULL columns
// are empty strings), from which anchor_from_stored derives an Anchor.
struct StoredAsset {
    std::string key;
    std::string asset_id;
    std::string final_path;     // absolute path of its file
    std::string original_name;  // as received
    std::string captured_at;    // "YYYY-MM-DD HH:MM:SS"
    std::optional<int> utc_offset_minutes;
    std::string date_source;
};

// The anchor a stored asset makes for late companions: its storage-relative
// folder, its stem as received and the collision suffix its stored name got
// ("IMG_1~1.JPG" received as "IMG_1.JPG": suffix "~1"). None when its file is
// not below storage_dir (stored elsewhere) or it has no capture time.
std::optional<Anchor> anchor_from_stored(const std::string& storage_dir, const StoredAsset& a);

struct PlanInput {
    std::vector<PlanFile> files;
    std::vector<KnownContent> known;
    std::vector<KnownSidecar> known_sidecars;
    std::vector<Anchor> anchors;
    std::vector<std::string> reserved;  // storage-relative paths promised to moves in flight
    std::vector<std::string> new_ids;   // one fresh asset id per file (used or not)
    std::string today;                  // "YYYY-MM-DD": Rejected/ folder
};

struct PlanDecision {
    enum class Outcome { Ingested, Duplicate, Sidecar, Rejected, Wait };
    Outcome outcome = Outcome::Rejected;
    std::string asset_id;      // the new asset; the one duplicated; the sidecar's asset
    std::string companion_of;  // media travelling with another asset (its leader)
    std::string group_key;     // companion key, stored for late companions
    std::string dest_rel;      // storage-relative destination
    // A UTC-only video re-dated with its paired still's offset.
    std::optional<LocalDateTime> captured;
    std::optional<int> utc_offset_minutes;
    std::string reason;        // why it waits or is rejected
};

const char* to_string(PlanDecision::Outcome o);  // ingested | duplicate | sidecar | rejected | wait

// Media joining a stored anchor must have been captured within this many
// seconds of it: phone counters wrap (IMG_0001 comes back), so a name match
// alone is not enough.
constexpr int64_t kCompanionWindowSeconds = 36 * 3600;

// Is the date source one the file itself stated (so its offset is the real one)?
bool offset_from_file(const std::string& date_source);

// Lists destination folders through storage_fd to avoid collisions.
std::vector<PlanDecision> plan_batch(int storage_fd, const PlanInput& in);

}  // namespace pf
