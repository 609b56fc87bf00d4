// photofactory.inspect_file(path): what the librarian would learn from a file
// and where it would put it, without moving anything.
//
// The operator role may call it, so it reads only what the librarian itself
// would: files below photofactory.inbox_dir or photofactory.storage_dir,
// reached one component at a time with O_NOFOLLOW from the open root (no
// "/proc/self/root/..." or linked-folder detour). Members of
// pg_read_server_files, who may read any server file anyway, may name any
// path (still never through a final link). Reading stops on a cancel or
// statement_timeout, and photofactory.max_file_size applies.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/unique_fd.hpp"
#include "core/asset_json.hpp"
#include "core/asset_reader.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/library_layout.hpp"
#include "core/root_guard.hpp"
#include "pg/boundary.hpp"
#include "pg/library_database.hpp"
#include "pg/core_setup.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"
#include "pg/read_options.hpp"
#include "pg/worker.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_inspect_file);
}

namespace {

using Fd = pf::UniqueFd;

// The configured root `path` lies below (nullptr: none), and the rest of it.
// By name only; the walk from the root decides what is actually reached.
const char* root_of(const std::string& path, std::string* rel) {
    for (const char* root : {pf::pg::guc_inbox_dir, pf::pg::guc_storage_dir}) {
        if (root == nullptr || root[0] == '\0') continue;
        std::string r = pf::normalize_path(root);
        if (r == "/" || path.size() <= r.size() + 1 || path.compare(0, r.size(), r) != 0 || path[r.size()] != '/')
            continue;
        *rel = path.substr(r.size() + 1);
        return root;
    }
    return nullptr;
}

// Opens root/rel, every component walked from the open root with O_NOFOLLOW.
int open_below(const char* root, const std::string& rel) {
    Fd root_fd;
    root_fd.fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd.fd < 0) throw pf::IoError("could not open the folder it is in", errno);
    std::string leaf;
    Fd dir;
    dir.fd = pf::open_parent_dir(root_fd.fd, rel, &leaf);
    if (dir.fd < 0) {
        if (errno == EINVAL) throw pf::IoError("\".\", \"..\" and empty path components are refused", EINVAL);
        if (errno == ELOOP || errno == ENOTDIR)
            throw pf::IoError("a folder on its path is a symbolic link; photofactory never follows links", errno);
        throw pf::IoError("could not open the folder it is in", errno);
    }
    if (leaf.empty() || leaf == "." || leaf == "..")
        throw pf::IoError("\".\", \"..\" and empty path components are refused", EINVAL);
    int fd = openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        throw pf::IoError(errno == ELOOP ? "it is a symbolic link; photofactory never follows links" : "could not open the file",
                          errno);
    return fd;
}

}  // namespace

Datum pf_inspect_file(PG_FUNCTION_ARGS) {
    using namespace pf::pg;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("path must not be NULL")));
    char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (path[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("path must be absolute: \"%s\"", path)));
    const bool anywhere = has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES);
    // In another database than photofactory.database the inbox and storage
    // hold another ledger's files: only a role that may read any server file
    // anyway (pg_read_server_files, superusers) may look at them from there.
    if (!anywhere) require_library_database("photofactory.inspect_file()");

    ensure_core_initialized();
    const ReadSettings settings = current_read_settings();
    const char* slash = strrchr(path, '/');
    const char* name = slash ? slash + 1 : path;
    // Below a root the walk from the root is used for every caller (also
    // inside SECURITY DEFINER adopt_orphan). Any other path only for members
    // of pg_read_server_files.
    const char* root = nullptr;
    char* rel = nullptr;
    {
        // Plain C data out of the C++ call: nothing of it outlives the try.
        char* r = pf_core_call_cstring("inspect_file", [&]() {
            std::string rel_path;
            root = root_of(path, &rel_path);
            return rel_path;
        });
        rel = r;
    }
    int any_fd = -1;
    if (root == nullptr) {
        if (!anywhere)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("inspect_file reads only files below photofactory.inbox_dir or photofactory.storage_dir"),
                            errhint("Members of pg_read_server_files may inspect any file the server can read.")));
        // O_NOFOLLOW: never read through a link; O_NONBLOCK: a FIFO must not hang the backend.
        // OpenTransientFile closes the descriptor for us if anything below errors out.
        any_fd = OpenTransientFile(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (any_fd < 0) {
            if (errno == ELOOP)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("\"%s\" is a symbolic link; photofactory never follows links", path)));
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", path)));
        }
    }
    // Below a root the descriptor lives only inside the core call (closed by
    // RAII before any error is raised): nothing leaks on a cancel or a bad file.
    char* json = pf_core_call_cstring("inspect_file", [&]() {
        Fd file;
        if (any_fd < 0) file.fd = open_below(root, rel);
        pf::AssetFacts facts = pf::read_asset(any_fd >= 0 ? any_fd : file.fd, name, read_options(settings));
        std::string dest = "Originals/" + pf::date_folder(facts.captured) + "/" + pf::sanitize_filename(name).name;
        return pf::asset_facts_json(facts, dest);
    });
    if (any_fd >= 0) CloseTransientFile(any_fd);
    flush_core_log();
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
