// pf-backup-copy: the backup copy protocol (pf::BackupBatch) and the scrub's
// read (pf::hash_from_storage) outside PostgreSQL, to see what the core costs
// apart from the worker's bookkeeping (docs/performance.md, "Backup").
//
//   pf-backup-copy copy SRC_ROOT DST_ROOT LIST [FILES_PER_BATCH]
//        LIST: "<sha256> <path relative to SRC_ROOT>" per line (openssl dgst -sha256 -r output)
//   pf-backup-copy scrub FILE...
// With PF_IDLE_IO=1 in the environment, at the idle I/O class as the service
// (core/io_priority.hpp). Prints the seconds taken (and, for copy, each batch's stage and finish seconds on stderr).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/backup_copy.hpp"
#include "core/io_priority.hpp"
#include "core/storage_read.hpp"

namespace {
double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool idle_io() {
    const char* v = std::getenv("PF_IDLE_IO");
    return v != nullptr && std::string(v) == "1";
}

int copy(int argc, char** argv) {
    int s = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC), t = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s < 0 || t < 0) {
        perror("opening the roots");
        return 2;
    }
    std::ifstream in(argv[4]);
    std::vector<std::pair<std::string, std::string>> files;
    std::string sha, rel;
    while (in >> sha >> rel) files.emplace_back(rel[0] == '*' ? rel.substr(1) : rel, sha);
    size_t per_batch = argc > 5 ? std::stoul(argv[5]) : 64;
    std::unique_ptr<pf::IdleIoPriority> idle(idle_io() ? new pf::IdleIoPriority : nullptr);
    auto t0 = std::chrono::steady_clock::now();
    int bad = 0;
    for (size_t i = 0; i < files.size();) {
        pf::BackupBatch b(t);
        std::vector<size_t> idx;
        auto a = std::chrono::steady_clock::now();
        for (size_t n = 0; i < files.size() && n < per_batch; i++, n++)
            idx.push_back(b.stage(s, files[i].first, files[i].first, files[i].second));
        double staged = since(a);
        a = std::chrono::steady_clock::now();
        b.finish();
        std::fprintf(stderr, "batch of %zu: stage %.3f s, finish %.3f s\n", idx.size(), staged, since(a));
        for (size_t k : idx)
            if (b.result(k).outcome != pf::CopyOutcome::Copied) bad++;
    }
    std::printf("copy: %zu files in %.3f s (%d not copied)\n", files.size(), since(t0), bad);
    return bad ? 1 : 0;
}

int scrub(int argc, char** argv) {
    std::unique_ptr<pf::IdleIoPriority> idle(idle_io() ? new pf::IdleIoPriority : nullptr);
    auto t0 = std::chrono::steady_clock::now();
    unsigned long long bytes = 0;
    for (int i = 2; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror(argv[i]);
            return 2;
        }
        bytes += pf::hash_from_storage(fd).bytes;
        close(fd);
    }
    std::printf("scrub: %d files, %llu bytes in %.3f s\n", argc - 2, bytes, since(t0));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 5 && std::string(argv[1]) == "copy") return copy(argc, argv);
        if (argc >= 3 && std::string(argv[1]) == "scrub") return scrub(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pf-backup-copy: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: pf-backup-copy copy SRC_ROOT DST_ROOT LIST [FILES_PER_BATCH] | scrub FILE...\n");
    return 2;
}
