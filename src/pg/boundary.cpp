#include "pg/boundary.hpp"

#include <cstdio>
#include <cstring>

namespace pf::pg {
namespace {

// Core messages carry raw inbox names: invalid UTF-8 and control characters
// (a newline forging a log line) become "%XX", as names do in the ledger.
// No allocation: this runs inside a catch handler.
void copy_message(CaughtError& out, const char* msg) noexcept {
    if (msg == nullptr) msg = "(no message)";
    size_t o = 0;
    const size_t cap = sizeof out.message - 1;
    for (const unsigned char* p = reinterpret_cast<const unsigned char*>(msg); *p != '\0' && o < cap;) {
        int len = *p < 0x80 ? 1 : pg_utf_mblen(p);
        bool legal = *p >= 0x20 && *p != 0x7F;
        for (int k = 1; legal && k < len; k++) legal = p[k] != '\0';  // never read past the end
        legal = legal && (len == 1 || pg_utf8_islegal(p, len));
        if (!legal) {
            if (o + 3 > cap) break;
            std::snprintf(out.message + o, 4, "%%%02X", *p);
            o += 3;
            p++;
            continue;
        }
        if (o + static_cast<size_t>(len) > cap) break;
        std::memcpy(out.message + o, p, static_cast<size_t>(len));
        o += static_cast<size_t>(len);
        p += len;
    }
    out.message[o] = '\0';
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
    } catch (const pf::Cancelled& e) {
        out.sqlstate = ERRCODE_QUERY_CANCELED;
        copy_message(out, e.what());
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
    // The core stopped because an interrupt is pending (statement_timeout, a
    // cancel, a termination): let PostgreSQL raise it with its own message.
    if (err.sqlstate == ERRCODE_QUERY_CANCELED) CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(err.sqlstate), errmsg("%s: %s", context, err.message)));
    pg_unreachable();
}

}  // namespace pf::pg
