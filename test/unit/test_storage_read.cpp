// Hashing from the storage (src/core/storage_read.cpp) and the verifying
// helper of the backup batch (src/core/copy_verifier.cpp).
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "core/backup_copy.hpp"
#include "core/copy_verifier.hpp"
#include "core/errors.hpp"
#include "core/sha256.hpp"
#include "core/storage_read.hpp"
#include "temp_dir.hpp"

namespace {
std::string sha(const std::string& s) {
    pf::Sha256 h;
    h.update(s.data(), s.size());
    return h.hex_digest();
}
std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(g());
    return s;
}
int open_rel(const pf::test::TempDir& d, const std::string& rel, int flags = O_RDONLY) {
    return ::open((d / rel).c_str(), flags | O_CLOEXEC);
}
// The blocked-signal mask of every other thread of this process, as
// /proc/self/task/<tid>/status shows it.
std::vector<unsigned long long> other_threads_sigblk() {
    std::vector<unsigned long long> out;
    long self = syscall(SYS_gettid);
    DIR* d = opendir("/proc/self/task");
    if (!d) return out;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.' || std::stol(e->d_name) == self) continue;
        std::ifstream st(std::string("/proc/self/task/") + e->d_name + "/status");
        std::string line;
        while (std::getline(st, line))
            if (line.rfind("SigBlk:", 0) == 0) out.push_back(std::stoull(line.substr(7), nullptr, 16));
    }
    closedir(d);
    return out;
}
}  // namespace

TEST(StorageRead, HashesEverySizeInBothModes) {
    pf::test::TempDir dir;
    const size_t B = pf::kStorageBlock;
    for (size_t n : {size_t(0), size_t(1), size_t(4095), size_t(4096), size_t(4097), B - 1, B, B + 1, 2 * B + 1,
                     3 * B + 12345}) {
        std::string data = random_bytes(n, static_cast<unsigned>(n));
        dir.write("f", data);
        for (pf::StorageRead mode : {pf::StorageRead::Auto, pf::StorageRead::Buffered}) {
            int fd = open_rel(dir, "f");
            ASSERT_GE(fd, 0);
            int before = fcntl(fd, F_GETFL);
            pf::StorageHash h = pf::hash_from_storage(fd, nullptr, mode);
            EXPECT_EQ(h.hex, sha(data)) << n << " bytes";
            EXPECT_EQ(h.bytes, n);
            if (mode == pf::StorageRead::Buffered) {
                EXPECT_FALSE(h.direct);
            }
            EXPECT_EQ(fcntl(fd, F_GETFL), before) << "O_DIRECT is not left on the descriptor";
            close(fd);
        }
    }
}

TEST(StorageRead, ThrottleSeesEveryByteAndMayStopTheRead) {
    pf::test::TempDir dir;
    const size_t n = 3 * pf::kStorageBlock + 99;
    dir.write("f", random_bytes(n, 7));
    int fd = open_rel(dir, "f");
    size_t seen = 0;
    pf::hash_from_storage(fd, [&](size_t k) { seen += k; });
    EXPECT_EQ(seen, n);
    // An exception from the throttle ends the read; the read-ahead helper is joined.
    int calls = 0;
    EXPECT_THROW(pf::hash_from_storage(fd, [&](size_t) {
                     if (++calls == 2) throw pf::Cancelled();
                 }),
                 pf::Cancelled);
    EXPECT_EQ(calls, 2);
    close(fd);
}

TEST(StorageRead, AReadErrorIsAnIoError) {
    pf::test::TempDir dir;
    dir.write("small", "abc");
    dir.write("big", random_bytes(3 * pf::kStorageBlock, 3));
    for (const char* name : {"small", "big"}) {
        int fd = open_rel(dir, name, O_WRONLY);  // reads fail with EBADF, on the helper thread too
        ASSERT_GE(fd, 0);
        try {
            pf::hash_from_storage(fd);
            ADD_FAILURE() << name << ": no error";
        } catch (const pf::IoError& e) {
            EXPECT_EQ(e.err, EBADF) << name;
        }
        close(fd);
    }
}

TEST(StorageRead, TheReadAheadThreadBlocksEverySignal) {
    pf::test::TempDir dir;
    dir.write("big", random_bytes(4 * pf::kStorageBlock, 4));
    int fd = open_rel(dir, "big");
    std::vector<unsigned long long> masks;
    pf::hash_from_storage(fd, [&](size_t) {
        if (masks.empty()) masks = other_threads_sigblk();
    });
    close(fd);
    ASSERT_FALSE(masks.empty()) << "no read-ahead thread seen while hashing a big file";
    for (unsigned long long m : masks)
        for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGQUIT})
            EXPECT_TRUE(m & (1ULL << (sig - 1))) << "signal " << sig << " not blocked";
}

TEST(CopyVerifier, ReportsDurableEqualCopiesAndEveryProblem) {
    pf::test::TempDir dir;
    dir.write("good", "good bytes");
    dir.write("bad", "flipped bytes");
    dir.write("big", random_bytes(3 * pf::kStorageBlock + 5, 9));
    pf::CopyVerifier v;
    v.submit(0, pf::UniqueFd(open_rel(dir, "good")), sha("good bytes"), "good");
    v.submit(1, pf::UniqueFd(open_rel(dir, "bad")), sha("bad bytes"), "bad");
    v.submit(2, pf::UniqueFd(open_rel(dir, "big", O_WRONLY)), sha("x"), "big");
    v.submit(7, pf::UniqueFd(open_rel(dir, "big")), sha(random_bytes(3 * pf::kStorageBlock + 5, 9)), "big");
    auto out = v.finish();
    ASSERT_EQ(out.size(), 4u);
    EXPECT_TRUE(out[0].ok);
    EXPECT_FALSE(out[1].ok);
    EXPECT_EQ(out[1].err, EIO);
    EXPECT_NE(out[1].message.find("reads back as"), std::string::npos);
    EXPECT_FALSE(out[2].ok);
    EXPECT_EQ(out[2].err, EBADF);
    EXPECT_TRUE(out[7].ok);
    // Usable again after finish(); a verifier dropped with work queued just stops.
    v.submit(3, pf::UniqueFd(open_rel(dir, "good")), sha("good bytes"), "good");
    EXPECT_TRUE(v.finish()[3].ok);
    {
        pf::CopyVerifier dropped;
        for (size_t i = 0; i < 20; i++) dropped.submit(i, pf::UniqueFd(open_rel(dir, "big")), "", "big");
    }
}

TEST(BackupBatch, ManyFilesPipelinedAreAllVerifiedAndPlaced) {
    pf::test::TempDir storage, target;
    int s = storage.open_dir(), t = target.open_dir();
    std::vector<std::string> rels, data;
    for (int i = 0; i < 24; i++) {
        std::ostringstream rel;
        rel << "Originals/2024/2024-01-0" << (i % 3 + 1) << "/IMG_" << i << ".JPG";
        rels.push_back(rel.str());
        data.push_back(random_bytes(i == 5 ? 3 * pf::kStorageBlock + 17 : 70000 + 1000 * i, 100 + i));
        storage.write(rels.back(), data.back());
    }
    {
        pf::BackupBatch b(t);
        std::vector<size_t> idx;
        for (size_t i = 0; i < rels.size(); i++) idx.push_back(b.stage(s, rels[i], rels[i], sha(data[i])));
        b.finish();
        for (size_t i = 0; i < rels.size(); i++) {
            EXPECT_EQ(b.result(idx[i]).outcome, pf::CopyOutcome::Copied) << rels[i];
            std::ifstream in(target / rels[i], std::ios::binary);
            std::string got((std::istreambuf_iterator<char>(in)), {});
            EXPECT_EQ(got, data[i]) << rels[i];
        }
    }
    for (auto& e : std::filesystem::recursive_directory_iterator(target.path()))
        EXPECT_FALSE(pf::is_backup_temporary_name(e.path().filename().string())) << e.path();
    close(s);
    close(t);
}
