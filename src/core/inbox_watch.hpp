// inotify on the whole inbox tree, for prompt pickup. It only says "something
// changed"; the scan decides what to do, so a missed or overflowed event costs
// latency (until the periodic scan), never correctness.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <unordered_map>

namespace pf {

class InboxWatcher {
public:
    explicit InboxWatcher(const std::string& root);  // throws IoError if inotify is unavailable
    // Watches the tree below the open folder root_fd (duplicated, not taken).
    // Every folder is reached from it one component at a time with O_NOFOLLOW:
    // a folder swapped for a link is never watched through.
    explicit InboxWatcher(int root_fd);
    ~InboxWatcher();
    InboxWatcher(const InboxWatcher&) = delete;
    InboxWatcher& operator=(const InboxWatcher&) = delete;

    int fd() const { return fd_; }
    // Reads all pending events, watching folders created meanwhile. True if any arrived.
    bool drain();
    // Watches could not all be added (fs.inotify.max_user_watches): rely on scans there.
    bool incomplete() const { return incomplete_; }
    size_t watch_count() const { return paths_.size(); }

private:
    void start(int root_fd);
    void add_tree(const std::string& rel, int depth);
    int fd_ = -1;
    int root_fd_ = -1;
    bool incomplete_ = false;
    std::unordered_map<int, std::string> paths_;  // watch descriptor -> folder, relative to the root
};

}  // namespace pf
