#include "core/inbox_report.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/inbox_scan.hpp"
#include "core/json_writer.hpp"
#include "core/media_type.hpp"

namespace pf {
namespace {

struct Row {
    std::string path;
    int64_t size;
    int64_t mtime;
    std::string state;
    std::string detail;
};

// Reads only the first bytes, never through a link, never blocking on a FIFO.
bool looks_like_media(int root_fd, const std::string& rel) {
    std::string leaf;
    int dir = open_parent_dir(root_fd, rel, &leaf);
    if (dir < 0) return true;  // cannot tell: the librarian will say
    int fd = openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dir);
    if (fd < 0) return true;
    uint8_t head[4096];
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    if (n <= 0) return true;
    return sniff_media_type(head, static_cast<size_t>(n), leaf).has_value();
}

}  // namespace

std::string inbox_report_json(int root_fd, int settle_seconds, uint64_t max_bytes) {
    std::vector<Row> rows;
    ScanStats stats;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    scan_inbox(
        root_fd,
        [&](const InboxEntry& e) {
            Row r{sanitize_rel_path(e.rel_path), static_cast<int64_t>(e.st.st_size), static_cast<int64_t>(e.st.st_mtime), "", ""};
            if (e.verdict == NameVerdict::Temporary) {
                r.state = "temporary";
                r.detail = "a sync or download still in progress; left alone";
            } else if (e.verdict == NameVerdict::Hidden) {
                r.state = "hidden";
                r.detail = "hidden files are never touched";
            } else if (e.verdict == NameVerdict::Ignored) {
                r.state = "ignored";
                r.detail = "operating-system or NAS bookkeeping file; left alone";
            } else if (e.type == EntryType::Symlink) {
                r.state = "symlink";
                r.detail = "links are never followed: will be moved to Rejected/";
            } else if (e.type == EntryType::Other) {
                r.state = "special";
                r.detail = "FIFO, socket or device: will be moved to Rejected/ unopened";
            } else if (!has_settled_ns(e.st, now, settle_seconds)) {
                r.state = "settling";
                r.detail = "changed " + std::to_string(static_cast<int>(seconds_since_change(e.st, now))) +
                           " s ago; ingested once unchanged for " + std::to_string(settle_seconds) + " s";
            } else if (max_bytes > 0 && static_cast<uint64_t>(e.st.st_size) > max_bytes) {
                r.state = "too_large";
                r.detail = "larger than photofactory.max_file_size (" + std::to_string(max_bytes) +
                           " bytes): will be moved to Rejected/ unread";
            } else if (e.st.st_size == 0) {
                r.state = "empty";
                r.detail = "zero bytes: will be moved to Rejected/";
            } else if (!looks_like_media(root_fd, e.rel_path)) {
                r.state = "unsupported";
                r.detail = "not a photo or video: will be moved to Rejected/";
            } else {
                r.state = "ready";
                r.detail = "waiting for a librarian";
            }
            rows.push_back(std::move(r));
        },
        stats);
    for (const std::string& raw : stats.errors) {
        std::string err = escape_for_log(raw);  // raw names: made valid text for the report
        rows.push_back(Row{err, 0, 0, "unreadable", "cannot be listed: " + err});
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.path < b.path; });

    std::string out = "[";
    for (size_t i = 0; i < rows.size(); i++) {
        JsonObject o;
        o.add("path", rows[i].path)
            .add("size_bytes", rows[i].size)
            .add("mtime_epoch", rows[i].mtime)
            .add("state", rows[i].state)
            .add("detail", rows[i].detail);
        if (i) out.push_back(',');
        out += o.str();
    }
    out.push_back(']');
    return out;
}

}  // namespace pf
