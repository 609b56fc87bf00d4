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
    void add_tree(const std::string& path, int depth);
    int fd_ = -1;
    bool incomplete_ = false;
    std::unordered_map<int, std::string> paths_;  // watch descriptor -> folder
};

}  // namespace pf
