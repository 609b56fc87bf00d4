// photofactory.inspect_file(path): what the librarian would learn from a file
// and where it would put it, without moving anything.
#include <fcntl.h>

#include <string>

#include "core/asset_json.hpp"
#include "core/asset_reader.hpp"
#include "core/library_layout.hpp"
#include "core/filename_sanitize.hpp"
#include "pg/boundary.hpp"
#include "pg/core_setup.hpp"
#include "pg/pg_headers.hpp"
#include "pg/timezone.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_inspect_file);
}

Datum pf_inspect_file(PG_FUNCTION_ARGS) {
    using namespace pf::pg;
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("path must not be NULL")));
    char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (path[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("path must be absolute: \"%s\"", path)));

    // O_NOFOLLOW: never read through a link; O_NONBLOCK: a FIFO must not hang the backend.
    // OpenTransientFile closes the descriptor for us if anything below errors out.
    int fd = OpenTransientFile(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("\"%s\" is a symbolic link; photofactory never follows links", path)));
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", path)));
    }
    ensure_core_initialized();
    const pg_tz* zone = capture_zone();
    const char* zone_name = capture_zone_name(zone);
    const char* slash = strrchr(path, '/');
    const char* name = slash ? slash + 1 : path;

    char* json = pf_core_call_cstring("inspect_file", [&]() {
        pf::ReadOptions opts;
        opts.utc_offset_for = utc_offset_minutes_in_zone;
        opts.utc_offset_ctx = const_cast<pg_tz*>(zone);
        opts.default_zone_name = zone_name;
        pf::AssetFacts facts = pf::read_asset(fd, name, opts);
        std::string dest = "Originals/" + pf::date_folder(facts.captured) + "/" + pf::sanitize_filename(name).name;
        return pf::asset_facts_json(facts, dest);
    });
    CloseTransientFile(fd);
    flush_core_log();
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
