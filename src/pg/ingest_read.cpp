// Phase A of ingest_batch: each file read once (hash + metadata), its ledger
// details as JSON; then the bytes of the whole batch made durable at once.
#include <cstdio>
#include <string>
#include <vector>

#include "core/companions.hpp"
#include "core/errors.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/json_writer.hpp"
#include "core/library_layout.hpp"
#include "pg/boundary.hpp"
#include "pg/ingest_work.hpp"
#include "pg/read_options.hpp"

namespace pf::pg {

void fail(FileWork* w, IngestResult r, const char* fmt, ...) {
    w->active = false;
    w->out->result = r;
    char buf[sizeof w->out->reason];  // the arguments may point into out->reason itself
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(w->out->reason, buf, sizeof buf);
}

namespace {

// The core steps below run inside pf_core_call: C++ only, no PostgreSQL call.

pf::InboxRead read_or_force(const FileWork* w, const pf::ReadOptions& opts) {
    pf::InboxRead r;
    if (w->force_reject != nullptr) {
        r.outcome = pf::InboxRead::Outcome::Rejected;
        r.reason = pf::RejectReason::Unreadable;
        r.detail = w->force_reject;
        r.identity = pf::entry_identity(w->target->inbox_fd, w->rel);
        return r;
    }
    // The bytes are made durable for the whole batch at once, later.
    try {
        r = pf::read_inbox_file(w->target->inbox_fd, w->rel, opts, pf::DataSync::StartWriteback);
    } catch (const pf::Cancelled&) {
        // Stopping (shutdown, cancel): not the file's fault; it waits.
        r.outcome = pf::InboxRead::Outcome::Unstable;
        r.detail = "reading was interrupted";
    }
    return r;
}

// Media read: the facts the plan needs, and the ledger's details.
void describe_media(FileWork* w, const pf::AssetFacts& f, pf::JsonObject& j) {
    w->kind = kRead;
    w->video = f.type.kind == pf::MediaKind::Video;
    snprintf(w->format, sizeof w->format, "%s", f.type.format.c_str());
    w->captured = f.captured;
    w->has_offset = f.utc_offset_minutes.has_value();
    w->offset = f.utc_offset_minutes.value_or(0);
    snprintf(w->date_source, sizeof w->date_source, "%s", f.date_source.c_str());
    snprintf(w->sha256, sizeof w->sha256, "%s", f.sha256.c_str());
    snprintf(w->date_folder, sizeof w->date_folder, "%s", pf::date_folder(f.captured).c_str());
    j.add("file_hash", f.sha256);
    j.add("size_bytes", static_cast<int64_t>(f.size_bytes));
    j.add("captured_at", pf::format_sql_timestamp(f.captured));
    if (f.utc_offset_minutes) j.add("utc_offset_minutes", static_cast<int64_t>(*f.utc_offset_minutes));
    j.add("date_source", f.date_source);
    if (!f.zone_source.empty()) j.add("time_zone", pf::time_zone_label(f));
    if (f.utc_epoch) j.add("utc_epoch", *f.utc_epoch);
    if (f.motion_photo) j.add("motion_photo", true);
    j.add("media_kind", f.type.kind == pf::MediaKind::Video ? "video" : "image");
    j.add("media_format", f.type.format);
    if (f.location) {
        pf::JsonObject loc;
        loc.add("lat", f.location->lat).add("lon", f.location->lon);
        j.add_raw("location", loc.str());
    }
    if (!f.metadata_errors.empty()) {
        std::string msg = "metadata: ";
        for (size_t i = 0; i < f.metadata_errors.size(); i++) msg += (i ? "; " : "") + f.metadata_errors[i];
        j.add("error_message", msg);
    }
}

// Not media, but maybe a sidecar of media: hashed, and planned with its
// group. Otherwise rejected with its reason.
void describe_non_media(FileWork* w, pf::InboxRead& r, const std::string& leaf, pf::JsonObject& j) {
    pf::SidecarKind sk = pf::sidecar_kind(leaf);
    if (w->force_reject == nullptr && r.reason == pf::RejectReason::NotMedia && sk != pf::SidecarKind::None) {
        try {
            pf::SidecarFacts sf = pf::read_sidecar(w->target->inbox_fd, w->rel);
            w->kind = kSidecar;
            snprintf(w->sha256, sizeof w->sha256, "%s", sf.sha256.c_str());
            j.add("file_hash", sf.sha256);
            j.add("size_bytes", static_cast<int64_t>(sf.size_bytes));
            j.add("sidecar_kind", pf::to_string(sk));
            return;
        } catch (const pf::RejectError& e) {
            if (e.reason == pf::RejectReason::Unstable) {
                w->kind = kUnstable;
                return;
            }
            r.reason = e.reason;
            r.detail = e.detail;
        } catch (const pf::IoError& e) {
            r.reason = pf::RejectReason::Unreadable;
            r.detail = e.what();
        }
    }
    w->kind = kRejected;
    snprintf(w->reject_reason, sizeof w->reject_reason, "%s", pf::to_string(r.reason));
    j.add("reason", std::string(pf::to_string(r.reason)) + ": " + r.detail);
}

std::string read_and_describe(FileWork* w, const pf::ReadOptions& opts) {
    pf::InboxRead r = read_or_force(w, opts);
    w->identity = r.identity;
    std::string rel(w->rel);
    std::string leaf = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    std::string safe = pf::sanitize_filename(leaf).name;
    snprintf(w->safe_name, sizeof w->safe_name, "%s", safe.c_str());

    pf::JsonObject j;
    j.add("original_name", safe);
    j.add("original_path", std::string(w->target->inbox_dir) + "/" + pf::sanitize_rel_path(rel));
    switch (r.outcome) {
        case pf::InboxRead::Outcome::Read: describe_media(w, r.facts, j); break;
        case pf::InboxRead::Outcome::Rejected: describe_non_media(w, r, leaf, j); break;
        case pf::InboxRead::Outcome::Unstable:
            w->kind = kUnstable;
            j.add("reason", r.detail);
            break;
        case pf::InboxRead::Outcome::Vanished: w->kind = kVanished; break;
    }
    return j.str();
}

}  // namespace

void read_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    const ReadSettings settings = current_read_settings();
    w->details = pf_core_call_cstring("reading inbox file", [&]() { return read_and_describe(w, read_options(settings)); });
    if (w->group_key == nullptr)
        w->group_key = pf_core_call_cstring("reading inbox file", [&]() { return pf::inbox_companion_key(w->rel); });
}

void data_sync_step(void* arg) {
    auto* a = static_cast<SyncArg*>(arg);
    pf_core_call("making inbox files durable", [a] {
        std::vector<std::string> rels;
        for (int i = 0; i < a->set.n; i++) rels.emplace_back(a->set.items[i]->rel);
        std::vector<int> errs = pf::sync_inbox_files(a->set.items[0]->target->inbox_fd, rels);
        for (int i = 0; i < a->set.n; i++) a->errs[i] = errs[i];
    });
}

}  // namespace pf::pg
