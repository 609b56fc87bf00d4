// A backup target on disk: its identity marker, and clean-up after a crash.
//
// A target is a folder on another disk or mount. When it is added, a marker
// file naming the target's id is written at its root. Before every use the
// marker is read back: a missing marker means the disk is not mounted (the
// bare mount point must never be filled), an unreadable one or one naming
// another target means this is not the disk we expect. Such a target is
// skipped, never written.
#pragma once

#include "core/core_guard.hpp"

#include <string>

namespace pf {

constexpr const char* kBackupMarkerName = ".photofactory-backup-target";

enum class MarkerState { Ok, RootMissing, Missing, Unreadable, Foreign };
const char* to_string(MarkerState s);

struct MarkerCheck {
    MarkerState state = MarkerState::Missing;
    std::string detail;     // why, for the status line
    std::string found_id;   // the id in a foreign marker
};

// The marker's text: a header line, "id=<id>" and "name=<name>".
std::string backup_marker_text(const std::string& target_id, const std::string& name);

// Reads the marker at root_fd and compares its id with expected_id.
MarkerCheck check_backup_marker(int root_fd, const std::string& expected_id);

// Writes the marker (temporary + fsync + RENAME_NOREPLACE + folder fsync).
// A marker with the same id already there is fine; any other marker is an
// Error (the folder belongs to another target: never taken over silently).
void write_backup_marker(int root_fd, const std::string& target_id, const std::string& name);

// Opens the target's root folder (the configured absolute path) and checks
// its marker. Returns the fd (caller closes) or -1 with check explaining why.
int open_backup_target(const std::string& path, const std::string& target_id, MarkerCheck* check);

// Removes our own temporaries (is_backup_temporary_name, regular files only)
// left by a crash, in the folders below root_fd up to max_depth levels deep,
// walking with openat(O_NOFOLLOW) so nothing outside the tree is reached.
// Returns how many were removed.
int remove_backup_temporaries(int root_fd, int max_depth = 4);

// True when path equals dir or lies below it (both canonical absolute paths,
// e.g. from realpath): "/a/b" is within "/a", "/ab" is not.
bool path_within(const std::string& path, const std::string& dir);

}  // namespace pf
