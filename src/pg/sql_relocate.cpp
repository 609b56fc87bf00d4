// C side of relocate_storage(): hashing a file below a root that is not (yet)
// photofactory.storage_dir. The root is opened once and the path below it is
// walked one component at a time with O_NOFOLLOW, so a link anywhere in the
// new tree can never make the check read a file outside it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"
#include "core/inbox_file.hpp"
#include "core/json_writer.hpp"
#include "core/sha256.hpp"
#include "pg/boundary.hpp"
#include "pg/pg_headers.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(pf_hash_under_root);
}

using namespace pf::pg;

// _hash_under_root(root, rel) -> {"sha256": …} or {"error": missing|unreadable, "detail": …}
Datum pf_hash_under_root(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("root and rel must not be NULL")));
    char* root = text_to_cstring(PG_GETARG_TEXT_PP(0));
    char* rel = text_to_cstring(PG_GETARG_TEXT_PP(1));
    if (root[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("root must be absolute: \"%s\"", root)));
    int root_fd = OpenTransientFile(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int root_errno = root_fd < 0 ? errno : 0;
    char* json = pf_core_call_cstring("checking a relocated file", [&]() {
        pf::JsonObject o;
        auto fail = [&](int e) {
            o.add("error", e == ENOENT || e == ENOTDIR ? "missing" : "unreadable");
            o.add("detail", std::strerror(e));
            return o.str();
        };
        if (root_fd < 0) return fail(root_errno);
        std::string r(rel);
        if (r.empty() || r[0] == '/' || r.find("/../") != std::string::npos || r.rfind("../", 0) == 0)
            return fail(EINVAL);
        std::string leaf;
        int dir = pf::open_parent_dir(root_fd, r, &leaf);
        if (dir < 0) return fail(errno);
        int fd = openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        int e = errno;
        close(dir);
        if (fd < 0) return fail(e);
        struct stat sb;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            close(fd);
            return fail(EINVAL);
        }
        try {
            o.add("sha256", pf::sha256_file_fd(fd));
        } catch (const pf::IoError& ex) {
            o.add("error", "unreadable");
            o.add("detail", ex.what());
        } catch (...) {
            close(fd);
            throw;
        }
        close(fd);
        return o.str();
    });
    if (root_fd >= 0) CloseTransientFile(root_fd);
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
