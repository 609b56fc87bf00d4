// Every advisory lock photofactory takes, in one place: a new service picks
// its class here and can see every key already in use.
//
// Two-key locks (class, id) live in a key space of their own, so they never
// collide with the one-key content-hash locks of the plan step. The classes
// are 'pf' + a serial number (0x7066xxxx), unlikely to meet another
// extension's choice.
#pragma once

#include "pg/pg_headers.hpp"

namespace pf::pg {

enum class LockClass : int32 {
    // Session, (class, librarian index): librarian N is alive. Recovery probes
    // it to tell an abandoned journal row from one in flight.
    LibrarianSlot = 1885693505,
    // Session, (class, hash of the companion key): a librarian's claim on a
    // companion group for one batch (several librarians share the inbox).
    CompanionGroup = 1885693506,
    // Transaction, (class, 0): the places data set; load_places() holds it
    // exclusively (sql/photofactory--0.1.0--0.2.0.sql), geocoder batches shared.
    Places = 1885693507,
};

constexpr int32 lock_class(LockClass c) { return static_cast<int32>(c); }

// The helpers run SQL through SPI: call them inside run_in_transaction (they
// may raise PostgreSQL errors, never from core code).

// pg_try_advisory_lock(class, key) for this session.
bool try_session_lock(LockClass c, int32 key);

// Takes (release = false: pg_try_advisory_lock, got[i] set) or releases
// (pg_advisory_unlock) n session locks of one class in one statement.
void session_locks(LockClass c, const int32* keys, int n, bool release, bool* got);

// pg_advisory_xact_lock_shared(class, key), held to the end of the transaction.
void xact_lock_shared(LockClass c, int32 key);

// One transaction-level lock per distinct content hash (hashes: text[]),
// taken in key order so that two batches can never deadlock on them: they
// serialise the duplicate decision across librarians.
void lock_content_hashes(Datum hashes);

}  // namespace pf::pg
