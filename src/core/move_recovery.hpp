// Deciding, after a crash, what became of a move that the journal says was
// under way. Pure filesystem reasoning, so it is unit-tested without a server.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

struct InterruptedMove {
    int inbox_fd = -1;         // the open inbox root
    std::string source_rel;    // raw bytes, relative to the inbox root
    int storage_fd = -1;       // the open library root
    std::string dest_rel;      // relative to the library root
    std::string sha256;        // expected content; empty when unknown (some rejected files)
};

struct RecoveryDecision {
    bool finish = false;       // true: the file is at storage_root/final_rel: record it
    std::string final_rel;
    std::string note;          // what was found, for the log
};

// Every path is walked from the open roots one component at a time with
// O_NOFOLLOW and acted on with *at() calls: a folder swapped for a symbolic
// link (to the data directory, say) leads nowhere. The inbox source is
// released only on proof that the destination holds it — the same inode, or
// the source's own bytes hashing to the verified destination's — and only
// while it still is the entry that was checked. Never deletes a user's file
// otherwise. Cleans the move's own temporary copies (".pf-incoming-*") when
// the move is rolled back.
RecoveryDecision resolve_interrupted_move(const InterruptedMove& m);

}  // namespace pf
