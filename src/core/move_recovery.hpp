// Deciding, after a crash, what became of a move that the journal says was
// under way. Pure filesystem reasoning, so it is unit-tested without a server.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

struct InterruptedMove {
    std::string inbox_root;    // absolute
    std::string source_rel;    // raw bytes, relative to inbox_root
    std::string storage_root;  // absolute
    std::string dest_rel;      // relative to storage_root
    std::string sha256;        // expected content; empty when unknown (some rejected files)
};

struct RecoveryDecision {
    bool finish = false;       // true: the file is at storage_root/final_rel: record it
    std::string final_rel;
    std::string note;          // what was found, for the log
};

// Never deletes a file whose content is not verified to exist at the
// destination. Cleans the move's own temporary copy (".pf-incoming-*")
// when the move is rolled back.
RecoveryDecision resolve_interrupted_move(const InterruptedMove& m);

}  // namespace pf
