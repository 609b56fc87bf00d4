#include "pg/boundary.hpp"

#include <cstdio>

namespace pf::pg {
namespace {

void copy_message(CaughtError& out, const char* msg) noexcept {
    std::snprintf(out.message, sizeof out.message, "%s", msg ? msg : "(no message)");
}

int sqlstate_for_errno(int e) noexcept {
    switch (e) {
        case ENOENT:
        case ENOTDIR: return ERRCODE_UNDEFINED_FILE;
        case EACCES:
        case EPERM: return ERRCODE_INSUFFICIENT_PRIVILEGE;
        case ENOSPC:
        case EDQUOT: return ERRCODE_DISK_FULL;
        case EEXIST: return ERRCODE_DUPLICATE_FILE;
        case ELOOP: return ERRCODE_INVALID_PARAMETER_VALUE;
        default: return ERRCODE_IO_ERROR;
    }
}

}  // namespace

void classify_current_exception(CaughtError& out) noexcept {
    try {
        throw;
    } catch (const pf::RejectError& e) {
        out.sqlstate = ERRCODE_DATA_EXCEPTION;
        copy_message(out, e.what());
    } catch (const pf::IoError& e) {
        out.sqlstate = sqlstate_for_errno(e.err);
        copy_message(out, e.what());
    } catch (const std::bad_alloc&) {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_message(out, "out of memory in photofactory core");
    } catch (const std::exception& e) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_message(out, e.what());
    } catch (...) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_message(out, "unknown C++ exception in photofactory core");
    }
}

void raise_caught(const char* context, const CaughtError& err) {
    ereport(ERROR, (errcode(err.sqlstate), errmsg("%s: %s", context, err.message)));
    pg_unreachable();
}

}  // namespace pf::pg
