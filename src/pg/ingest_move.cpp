// Phase C of ingest_batch: each file moved to its planned destination
// (rename without replacing, or a verified copy), then every folder involved
// fsynced once for the batch.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/inbox_file.hpp"
#include "core/safe_move.hpp"
#include "core/unique_fd.hpp"
#include "pg/boundary.hpp"
#include "pg/gucs.hpp"
#include "pg/ingest_work.hpp"

namespace pf::pg {

using Fd = pf::UniqueFd;

// Moves one file. Folders are fsynced afterwards, once per batch (dirsync_step).
void move_step(void* arg) {
    auto* w = static_cast<FileWork*>(arg);
    w->move_errno = 0;
    w->move_unstable = false;
    w->storage_blocked = false;
    pf_core_call("moving file", [&]() {
        Fd dst;
        try {
            std::string leaf;
            Fd src;
            src.fd = pf::open_parent_dir(w->target->inbox_fd, w->rel, &leaf);
            if (src.fd < 0) throw pf::IoError("opening the inbox folder", errno);
            std::string dest(w->dest_rel);
            size_t slash = dest.rfind('/');
            dst.fd = pf::ensure_dir_path(w->target->storage_fd, dest.substr(0, slash), true,
                                         static_cast<mode_t>(storage_dir_mode()));
            pf::MoveOptions o;
            o.expected_sha256 = w->sha256;
            o.expect = w->identity;
            // A hard link's other names are outside our control: the library
            // gets its own verified copy, never a shared inode.
            o.copy = (w->kind == kRead || w->kind == kSidecar) && w->identity.nlink > 1;
            o.file_mode = static_cast<mode_t>(storage_file_mode());
            pf::MoveResult r = pf::move_no_replace(src.fd, leaf, dst.fd, dest.substr(slash + 1), o);
            snprintf(w->final_rel, sizeof w->final_rel, "%s/%s", dest.substr(0, slash).c_str(), r.final_name.c_str());
        } catch (const pf::RejectError& e) {
            w->move_unstable = e.reason == pf::RejectReason::Unstable;
            throw;
        } catch (const pf::IoError& e) {
            w->move_errno = e.err;
            // Whose problem is it? A library folder the server may not write
            // (or create) stops every file alike: pause, like a full disk.
            // Only what concerns the file itself counts toward rejecting it.
            bool denied = e.err == EACCES || e.err == EPERM;
            w->storage_blocked = e.err == ENOSPC || e.err == EDQUOT || e.err == EROFS ||
                                 (denied && (dst.fd < 0 || faccessat(dst.fd, ".", W_OK | X_OK, AT_EACCESS) != 0));
            throw;
        }
    });
}

// fsyncs every folder a file of the set left or entered, each once.
void dirsync_step(void* arg) {
    auto* set = static_cast<ItemSet*>(arg);
    pf_core_call("making moves durable", [set] {
        std::vector<std::pair<int, std::string>> done;
        auto sync_once = [&](int root, std::string dir) {
            for (const auto& d : done)
                if (d.first == root && d.second == dir) return;
            int e = pf::fsync_rel_dir(root, dir);
            if (e != 0) throw pf::IoError("fsync of folder " + dir, e);
            done.emplace_back(root, std::move(dir));
        };
        for (int i = 0; i < set->n; i++) {
            const FileWork* w = set->items[i];
            std::string src(w->rel), dst(w->final_rel);
            size_t s = src.rfind('/'), d = dst.rfind('/');
            sync_once(w->target->storage_fd, d == std::string::npos ? std::string() : dst.substr(0, d));
            sync_once(w->target->inbox_fd, s == std::string::npos ? std::string() : src.substr(0, s));
        }
    });
}

}  // namespace pf::pg
