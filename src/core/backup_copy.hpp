// The backup copy protocol: copying a stored original (or a sidecar) to a
// backup target, or back again, so that a copy is only ever counted once it is
// durable and proven equal to the ledger's hash, and no file is ever
// overwritten.
//
//   1. open the source by walking from its root fd (O_NOFOLLOW per component);
//   2. read it once, hashing while copying into a temporary
//      ".pf-backup-<16 hex>.tmp" beside the destination (folders created from
//      the destination root fd; written with O_DIRECT where the filesystem
//      allows it, core/direct_writer.hpp);
//   3. an original that no longer hashes to the ledger's value is never
//      copied (SourceMismatch: the temporary is removed);
//   4. fsync the temporary, drop its cached pages and read it back from the
//      target's storage: it must hash to the ledger's value;
//   5. renameat2(RENAME_NOREPLACE) into the wanted name, fsync the folder.
//
// A file already at the wanted name with the ledger's hash is the copy (a
// crash after step 5 and before the database recorded it): it is verified and
// reported AlreadyPresent. A file there with other content is never touched:
// with collision names allowed the copy goes to "name~1.ext", "name~2.ext", ...
// (the same suffixes the librarian uses); otherwise DestinationTaken.
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/copy_verifier.hpp"
#include "core/errors.hpp"

namespace pf {

// A failure on the destination side (the backup target, or Storage when
// restoring): the caller pauses that destination (ENOSPC, EROFS, EIO...),
// the source is fine.
struct TargetIoError : IoError {
    using IoError::IoError;
};

enum class CopyOutcome {
    Copied,            // a new verified copy is at final_rel
    AlreadyPresent,    // final_rel already held a verified copy
    SourceMissing,     // no such source file
    SourceUnreadable,  // the source cannot be opened or read (detail says why)
    SourceMismatch,    // the source's content no longer matches the ledger: not copied
    DestinationTaken,  // the exact name holds other content (collision names not allowed)
};
const char* to_string(CopyOutcome o);

struct CopyResult {
    CopyOutcome outcome = CopyOutcome::SourceMissing;
    std::string final_rel;    // where the verified copy is (Copied, AlreadyPresent)
    std::uint64_t bytes = 0;  // bytes copied (0 when nothing was written)
    std::string detail;       // for the problems
};

// Called with the number of bytes just read (rate limiting, progress); may throw to abort.
using ReadThrottle = std::function<void(std::size_t)>;

// The temporary name pattern: ".pf-backup-" + 16 lower-case hex + ".tmp".
bool is_backup_temporary_name(const std::string& name);

// Rejects absolute paths and "", ".", ".." components (IoError EINVAL).
void check_relative_path(const std::string& rel);

// Steps 1-5 above. src_rel and dst_rel are relative to their roots; sha256 is
// the ledger's hash (64 lower-case hex digits).
CopyResult copy_verified_file(int src_root_fd, const std::string& src_rel, int dst_root_fd,
                              const std::string& dst_rel, const std::string& sha256, bool allow_collision_names,
                              const ReadThrottle& throttle = nullptr);

enum class CopyState { Ok, Missing, Corrupt, Unreadable };
const char* to_string(CopyState s);

struct CopyCheck {
    CopyState state = CopyState::Missing;
    std::string detail;
    std::uint64_t bytes = 0;
};

// Re-hashes rel below root_fd from the storage, not the page cache (its cached
// pages are dropped first), and compares with sha256. Never throws for the
// file's own problems; a throttle exception propagates.
CopyCheck verify_copy(int root_fd, const std::string& rel, const std::string& sha256,
                      const ReadThrottle& throttle = nullptr);

// Heals a copy found Corrupt (or Missing) at dst_rel: a fresh verified copy is
// made from the source first; then, atomically, it takes the name
// (RENAME_EXCHANGE) and the bad file that it displaced is removed only when it
// is still the very file (device and inode) that was found bad and still does
// not hash to the ledger's value. A missing copy is simply copied again.
CopyResult replace_bad_copy(int src_root_fd, const std::string& src_rel, int dst_root_fd,
                            const std::string& dst_rel, const std::string& sha256,
                            const ReadThrottle& throttle = nullptr);

// The same protocol for many files to one target, pipelined: stage() reads
// and hashes each original into pooled blocks written to its temporary with
// O_DIRECT (core/direct_writer.hpp) and hands the temporary, writes possibly
// still under way, to a helper thread (core/copy_verifier.hpp) that completes,
// fsyncs and reads it back from the storage while the next file is copied;
// finish() waits for the helper, then renames each verified temporary
// (RENAME_NOREPLACE) and fsyncs each destination folder once. A result is
// final once finish() returned (AlreadyPresent and source problems already
// after stage()). Any temporary not placed is removed by the destructor; a
// TargetIoError from either step means: pause this target, record nothing of
// this batch (what was placed is found again, verified, next time).
class BackupBatch {
public:
    explicit BackupBatch(int dst_root_fd);
    ~BackupBatch();
    BackupBatch(const BackupBatch&) = delete;
    BackupBatch& operator=(const BackupBatch&) = delete;

    size_t stage(int src_root_fd, const std::string& src_rel, const std::string& dst_rel, const std::string& sha256);
    void finish();
    const CopyResult& result(size_t i) const;

private:
    struct Entry {
        CopyResult r;
        std::string sha, src_rel, dir_rel, leaf, tmp;
        int dirfd = -1;
        int n = -1;  // first free collision suffix found when staged
    };
    int root_;
    std::vector<Entry> entries_;
    std::unique_ptr<CopyVerifier> verifier_;
    bool finished_ = false;
};

// Renames rel below root_fd to aside_rel (folders created, RENAME_NOREPLACE,
// collision names when taken). Returns the name it got. Used to keep a corrupt
// original instead of deleting it before it is restored.
std::string set_aside(int root_fd, const std::string& rel, const std::string& aside_rel);

}  // namespace pf
