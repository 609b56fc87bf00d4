// C side of library verification: hashing a stored original and listing
// Originals/. Both report problems as data (JSON), never as errors: a missing
// file is a finding, not a failure of the check.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"
#include "core/inbox_scan.hpp"
#include "core/json_writer.hpp"
#include "core/sha256.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_hash_stored_file);
PG_FUNCTION_INFO_V1(pf_list_originals);
}

using namespace pf::pg;

Datum pf_hash_stored_file(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("path must not be NULL")));
    char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    int fd = OpenTransientFile(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int open_errno = fd < 0 ? errno : 0;
    char* json = pf_core_call_cstring("verifying a stored file", [&]() {
        pf::JsonObject o;
        if (fd < 0) {
            o.add("error", open_errno == ENOENT || open_errno == ENOTDIR ? "missing" : "unreadable");
            o.add("detail", std::strerror(open_errno));
            return o.str();
        }
        try {
            o.add("sha256", pf::sha256_file_fd(fd));
        } catch (const pf::IoError& e) {
            o.add("error", "unreadable");
            o.add("detail", e.what());
        }
        return o.str();
    });
    if (fd >= 0) CloseTransientFile(fd);
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// Absolute paths of the regular files under storage_dir/Originals (links are
// not followed, hidden names such as our own .pf-incoming-* are skipped).
Datum pf_list_originals(PG_FUNCTION_ARGS) {
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("photofactory.storage_dir is not set")));
    char root[MAXPGPATH];
    snprintf(root, sizeof root, "%s/Originals", guc_storage_dir);
    int fd = OpenTransientFile(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", root)));
    char* json = pf_core_call_cstring("listing Originals", [&]() {
        std::string out = "[";
        if (fd < 0) return out + "]";
        pf::ScanStats stats;
        bool first = true;
        pf::scan_inbox(
            fd,
            [&](const pf::InboxEntry& e) {
                if (e.type != pf::EntryType::Regular || e.verdict != pf::NameVerdict::Candidate) return;
                if (!first) out.push_back(',');
                first = false;
                pf::append_json_string(out, std::string(root) + "/" + e.rel_path);
            },
            stats);
        if (!stats.errors.empty()) throw pf::Error("cannot list all of Originals: " + stats.errors.front());
        return out + "]";
    });
    if (fd >= 0) CloseTransientFile(fd);
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// Absolute paths of the files under storage_dir/Thumbnails (links not
// followed; hidden temporaries of renditions being written are skipped).
extern "C" {
PG_FUNCTION_INFO_V1(pf_list_thumbnails);
}

Datum pf_list_thumbnails(PG_FUNCTION_ARGS) {
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("photofactory.storage_dir is not set")));
    char root[MAXPGPATH];
    snprintf(root, sizeof root, "%s/Thumbnails", guc_storage_dir);
    int fd = OpenTransientFile(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", root)));
    char* json = pf_core_call_cstring("listing Thumbnails", [&]() {
        std::string out = "[";
        if (fd < 0) return out + "]";
        pf::ScanStats stats;
        bool first = true;
        pf::scan_inbox(
            fd,
            [&](const pf::InboxEntry& e) {
                if (e.type != pf::EntryType::Regular || e.verdict == pf::NameVerdict::Hidden) return;
                if (!first) out.push_back(',');
                first = false;
                pf::append_json_string(out, std::string(root) + "/" + e.rel_path);
            },
            stats);
        if (!stats.errors.empty()) throw pf::Error("cannot list all of Thumbnails: " + stats.errors.front());
        return out + "]";
    });
    if (fd >= 0) CloseTransientFile(fd);
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
