// C side of the backup SQL functions: preparing a target folder (checks and
// marker) and restoring one stored file from a target. Both run only through
// the SECURITY DEFINER functions of the upgrade script (superuser-only here).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/unique_fd.hpp"
#include "core/backup_copy.hpp"
#include "core/backup_target.hpp"
#include "core/errors.hpp"
#include "core/json_writer.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_backup_prepare_target);
PG_FUNCTION_INFO_V1(pf_backup_restore_file);
}

using namespace pf::pg;

namespace {

char* arg_cstring(FunctionCallInfo fcinfo, int n, const char* what) {
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", what)));
    return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

// realpath into buf, or false (the folder is not there: nothing to compare).
bool canonical(const char* path, char* buf) {
    return path != nullptr && path[0] != '\0' && realpath(path, buf) != nullptr;
}

void refuse_overlap(const char* target, const char* target_real, const char* what, const char* other) {
    char other_real[PATH_MAX];
    if (!canonical(other, other_real)) return;
    if (pf::path_within(target_real, other_real))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("backup target \"%s\" is inside %s (%s)", target, what, other_real)));
    if (pf::path_within(other_real, target_real))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("backup target \"%s\" contains %s (%s)", target, what, other_real)));
}

}  // namespace

Datum pf_backup_prepare_target(PG_FUNCTION_ARGS) {
    char* path = arg_cstring(fcinfo, 0, "path");
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("id must not be NULL")));
    char* id = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
    char* name = arg_cstring(fcinfo, 2, "name");
    if (path[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("backup target path must be absolute: \"%s\"", path)));
    char real[PATH_MAX];
    struct stat st;
    if (realpath(path, real) == nullptr || stat(real, &st) != 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FILE),
                        errmsg("backup target folder \"%s\" does not exist: %m", path),
                        errhint("Mount the disk and create the folder first.")));
    if (!S_ISDIR(st.st_mode))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("backup target \"%s\" is not a folder", path)));
    refuse_overlap(path, real, "Storage (photofactory.storage_dir)", guc_storage_dir);
    refuse_overlap(path, real, "the inbox (photofactory.inbox_dir)", guc_inbox_dir);
    refuse_overlap(path, real, "the data directory", DataDir);

    bool same_device = false;
    struct stat sst;
    if (guc_storage_dir != nullptr && guc_storage_dir[0] != '\0' && stat(guc_storage_dir, &sst) == 0)
        same_device = sst.st_dev == st.st_dev;

    int fd = OpenTransientFile(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", real)));
    CaughtError err;
    try {
        pf::write_backup_marker(fd, id, name);
    } catch (...) {
        classify_current_exception(err);
    }
    CloseTransientFile(fd);
    if (err.sqlstate != 0) raise_caught("writing the backup target marker", err);

    char* json = pf_core_call_cstring("preparing a backup target", [&]() {
        pf::JsonObject o;
        o.add("realpath", std::string(real));
        o.add("same_device", same_device);
        return o.str();
    });
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// {"outcome": present | restored | target_unavailable | copy_corrupt | failed, "detail": ...}
Datum pf_backup_restore_file(PG_FUNCTION_ARGS) {
    char* target_path = arg_cstring(fcinfo, 0, "target path");
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target id must not be NULL")));
    char* target_id = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
    char* copy_rel = arg_cstring(fcinfo, 2, "copy path");
    char* storage_rel = arg_cstring(fcinfo, 3, "storage path");
    char* sha = arg_cstring(fcinfo, 4, "sha256");
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("photofactory.storage_dir is not set")));
    const char* storage_dir = guc_storage_dir;

    char* json = pf_core_call_cstring("restoring a stored file", [&]() {
        pf::JsonObject o;
        auto answer = [&](const char* outcome, const std::string& detail) {
            o.add("outcome", outcome);
            o.add("detail", detail);
            return o.str();
        };
        pf::UniqueFd target, storage;
        pf::MarkerCheck mc;
        target.fd = pf::open_backup_target(target_path, target_id, &mc);
        if (target.fd < 0) return answer("target_unavailable", std::string(target_path) + ": " + mc.detail);
        storage.fd = open(storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (storage.fd < 0) return answer("failed", std::string("opening Storage: ") + std::strerror(errno));
        try {
            pf::CopyCheck here = pf::verify_copy(storage.fd, storage_rel, sha);
            if (here.state == pf::CopyState::Ok) return answer("present", "the stored file is intact");
            pf::CopyCheck copy = pf::verify_copy(target.fd, copy_rel, sha);
            if (copy.state != pf::CopyState::Ok) return answer("copy_corrupt", copy.detail);
            std::string kept;
            if (here.state != pf::CopyState::Missing) {
                // Never overwritten: the bad file is kept under Storage/Corrupt/.
                kept = pf::set_aside(storage.fd, storage_rel, std::string("Corrupt/") + storage_rel);
            }
            pf::CopyResult r = pf::copy_verified_file(target.fd, copy_rel, storage.fd, storage_rel, sha, false);
            std::string note = kept.empty() ? std::string() : "; the damaged file was kept as " + kept;
            switch (r.outcome) {
                case pf::CopyOutcome::Copied:
                    return answer("restored", std::string("from ") + target_path + "/" + copy_rel + note);
                case pf::CopyOutcome::AlreadyPresent: return answer("present", "the stored file is intact" + note);
                case pf::CopyOutcome::SourceMismatch:
                case pf::CopyOutcome::SourceMissing:
                case pf::CopyOutcome::SourceUnreadable: return answer("copy_corrupt", r.detail + note);
                case pf::CopyOutcome::DestinationTaken: return answer("failed", r.detail + note);
            }
            return answer("failed", "unexpected outcome");
        } catch (const std::exception& e) {
            return answer("failed", e.what());
        }
    });
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
