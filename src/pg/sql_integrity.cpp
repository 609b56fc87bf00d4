// C side of library verification: hashing a stored original and listing
// Originals/. Both report problems as data (JSON), never as errors: a missing
// file is a finding, not a failure of the check.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/unique_fd.hpp"
#include "core/errors.hpp"
#include "core/inbox_file.hpp"
#include "core/inbox_scan.hpp"
#include "core/root_guard.hpp"
#include "core/json_writer.hpp"
#include "core/sha256.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/library_database.hpp"
#include "pg/pg_headers.hpp"
#include "pg/worker.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_hash_stored_file);
PG_FUNCTION_INFO_V1(pf_list_originals);
}

using namespace pf::pg;

namespace {

using Fd = pf::UniqueFd;

// A stored file below photofactory.storage_dir is reached from the library
// root one component at a time without following links (a folder swapped for
// a link reads nothing outside); a path elsewhere (a library moved by the
// superuser, rows not yet updated) is opened as given, never through a final link.
int open_stored(const std::string& path) {
    const char* root = guc_storage_dir;
    if (root != nullptr && root[0] != '\0') {
        std::string r = pf::normalize_path(root);
        if (r != "/" && path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 && path[r.size()] == '/') {
            Fd root_fd;
            root_fd.fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (root_fd.fd < 0) return -1;
            std::string leaf;
            Fd dir;
            dir.fd = pf::open_parent_dir(root_fd.fd, path.substr(r.size() + 1), &leaf);
            if (dir.fd < 0) return -1;
            return openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        }
    }
    return open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

}  // namespace

Datum pf_hash_stored_file(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("path must not be NULL")));
    require_library_database("verifying stored files");
    char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    // The descriptor lives inside the core call only: closed before any error
    // (a cancel while hashing a large video) is raised.
    char* json = pf_core_call_cstring("verifying a stored file", [&]() {
        pf::JsonObject o;
        Fd file;
        file.fd = open_stored(path);
        if (file.fd < 0) {
            int e = errno;
            o.add("error", e == ENOENT || e == ENOTDIR ? "missing" : "unreadable");
            o.add("detail", std::strerror(e));
            return o.str();
        }
        try {
            o.add("sha256", pf::sha256_file_fd(file.fd, core_should_stop, nullptr));
        } catch (const pf::IoError& e) {
            o.add("error", "unreadable");
            o.add("detail", e.what());
        }
        return o.str();
    });
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// Absolute paths of the regular files under storage_dir/Originals (links are
// not followed, hidden names such as our own .pf-incoming-* are skipped).
Datum pf_list_originals(PG_FUNCTION_ARGS) {
    require_library_database("listing the library");
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("photofactory.storage_dir is not set")));
    char root[MAXPGPATH];
    snprintf(root, sizeof root, "%s/Originals", guc_storage_dir);
    // Originals/ itself is opened from the library root without following a
    // link: a linked Originals/ would list (and invite adopting) files elsewhere.
    int lib = OpenTransientFile(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lib < 0) ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", guc_storage_dir)));
    int fd = openat(lib, "Originals", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int open_errno = errno;
    CloseTransientFile(lib);
    if (fd < 0 && open_errno != ENOENT) {
        errno = open_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", root)));
    }
    char* json = pf_core_call_cstring("listing Originals", [&]() {
        Fd owned;  // closed before any error is raised
        owned.fd = fd;
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
