// The C++ -> PostgreSQL error boundary.
//
// PostgreSQL raises errors with longjmp; C++ unwinds with exceptions. Neither
// may cross the other: a longjmp over C++ frames skips destructors, and an
// exception escaping into PostgreSQL code calls std::terminate, which takes
// the whole server through crash recovery. So core code runs only inside
// pf_core_call(): every exception is caught, its message copied into a plain
// buffer, and the ereport happens after the try block has ended, i.e. after
// every C++ object created by the core code has been destroyed.
//
// Rule for callers: the callable must not call PostgreSQL functions that can
// ereport (palloc, SPI, elog >= ERROR). It computes; the caller turns its plain
// results into Datums afterwards. (For a PostgreSQL function that must be
// called from inside core code, see pg_guarded_call in pg_guard.hpp.)
//
// The rule is also enforced: the callable may capture nothing with a
// destructor (pointers, references, plain values only). The closure lives in
// the caller's frame, around the ereport that raise_caught() does: a
// std::string captured by value would be skipped by that longjmp and leak.
// test/compile_fail/ proves that such a closure does not compile.
#pragma once

#include "pg/pg_headers.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <type_traits>

#include "core/errors.hpp"

namespace pf::pg {

// What a caught exception becomes on the PostgreSQL side.
struct CaughtError {
    int sqlstate = 0;          // 0: nothing was caught
    char message[1024] = {0};
};

// Classifies the exception currently being handled. Only called from inside a
// catch handler; touches no PostgreSQL API so it can never longjmp from there.
void classify_current_exception(CaughtError& out) noexcept;

// Raises the caught error as ereport(ERROR). Never returns.
[[noreturn]] void raise_caught(const char* context, const CaughtError& err);

// The compile-time half of the rule above.
template <typename Fn>
constexpr void require_trivial_closure() {
    static_assert(std::is_trivially_destructible_v<std::remove_cv_t<std::remove_reference_t<Fn>>>,
                  "a closure passed to pf_core_call must capture only pointers, references and plain values: "
                  "the PostgreSQL error raised after it would longjmp over its destructor");
}

template <typename Fn>
void pf_core_call(const char* context, Fn&& fn) {
    require_trivial_closure<Fn>();
    CaughtError err;
    try {
        fn();
    } catch (...) {
        classify_current_exception(err);
    }
    // Every C++ temporary of fn() is gone by now: safe to longjmp.
    if (err.sqlstate != 0) raise_caught(context, err);
}

// Runs fn() returning std::string and hands back a palloc'd copy of it.
template <typename Fn>
char* pf_core_call_cstring(const char* context, Fn&& fn) {
    require_trivial_closure<Fn>();
    CaughtError err;
    char* heap = nullptr;  // malloc'd so no C++ object outlives the try block
    try {
        std::string s = fn();
        heap = static_cast<char*>(std::malloc(s.size() + 1));
        if (heap == nullptr) throw std::bad_alloc();
        std::memcpy(heap, s.c_str(), s.size() + 1);
    } catch (...) {
        classify_current_exception(err);
    }
    if (err.sqlstate != 0) raise_caught(context, err);
    size_t len = std::strlen(heap);
    char* out = static_cast<char*>(palloc_extended(len + 1, MCXT_ALLOC_NO_OOM));
    if (out != nullptr) std::memcpy(out, heap, len + 1);
    std::free(heap);
    if (out == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    return out;
}

}  // namespace pf::pg
