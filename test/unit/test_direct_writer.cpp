// Writing a copy with O_DIRECT from pooled blocks (src/core/direct_writer.cpp,
// src/core/block_pool.cpp) and handing it over unfinished to the verifier
// (src/core/copy_verifier.cpp).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "core/block_pool.hpp"
#include "core/copy_verifier.hpp"
#include "core/direct_writer.hpp"
#include "core/errors.hpp"
#include "core/io_priority.hpp"
#include "core/sha256.hpp"
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
std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}
// Writes data through w as the backup copy does: full blocks, a short last one.
void feed(pf::DirectWriter& w, const std::string& data) {
    for (size_t off = 0; off < data.size(); off += pf::kPoolBlock) {
        size_t n = std::min(pf::kPoolBlock, data.size() - off);
        std::memcpy(w.block(), data.data() + off, n);
        w.commit(n);
    }
}
int create(const pf::test::TempDir& d, const std::string& name) {
    return ::open((d / name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}
}  // namespace

TEST(BlockPool, ABlockGivenBackIsReusedAsIs) {
    unsigned char* first;
    {
        pf::PooledBlock b;
        first = b.data();
        EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % pf::kPoolAlign, 0u);
        first[pf::kPoolBlock - 1] = 7;
    }
    size_t idle = pf::pooled_blocks_idle();
    EXPECT_GE(idle, 1u);
    pf::PooledBlock again;
    EXPECT_EQ(again.data(), first) << "the block just given back is taken again (its pages stay mapped)";
    EXPECT_EQ(pf::pooled_blocks_idle(), idle - 1);
}

TEST(BlockPool, BlocksInUseAreDistinct) {
    std::vector<std::unique_ptr<pf::PooledBlock>> held;
    std::set<unsigned char*> seen;
    for (int i = 0; i < 40; i++) {  // more than the pool keeps
        held.emplace_back(new pf::PooledBlock);
        EXPECT_TRUE(seen.insert(held.back()->data()).second);
    }
    held.clear();
    EXPECT_LE(pf::pooled_blocks_idle(), 32u) << "the pool keeps a bounded number";
    EXPECT_GT(pf::pooled_blocks_idle(), 0u);
    pf::release_idle_blocks();
    EXPECT_EQ(pf::pooled_blocks_idle(), 0u);
}

TEST(DirectWriter, WritesEverySizeExactlyInBothModes) {
    pf::test::TempDir dir;
    const size_t B = pf::kPoolBlock;
    int i = 0;
    for (size_t n : {size_t(0), size_t(1), size_t(511), size_t(4096), size_t(4097), B - 1, B, B + 1, 4 * B,
                     5 * B + 12345, 9 * B + 4096}) {
        for (auto mode : {pf::DirectWriter::Mode::Auto, pf::DirectWriter::Mode::Buffered}) {
            std::string name = "f" + std::to_string(i++);
            std::string data = random_bytes(n, static_cast<unsigned>(n));
            int fd = create(dir, name);
            ASSERT_GE(fd, 0);
            int flags = fcntl(fd, F_GETFL);
            {
                pf::DirectWriter w(fd, mode);
                if (mode == pf::DirectWriter::Mode::Buffered) {
                    EXPECT_FALSE(w.direct());
                }
                feed(w, data);
                EXPECT_EQ(w.finish(), n);
            }
            EXPECT_EQ(fcntl(fd, F_GETFL), flags) << "O_DIRECT is not left on the descriptor";
            struct stat st;
            ASSERT_EQ(fstat(fd, &st), 0);
            EXPECT_EQ(static_cast<size_t>(st.st_size), n) << "a padded end is truncated to the size";
            close(fd);
            EXPECT_EQ(sha(read_all(dir / name)), sha(data)) << n << " bytes";
        }
    }
}

// A write that fails (EFBIG from a file size limit, as ENOSPC would on a full
// disk) is an IoError with its errno, from the next call on the filling side
// or from finish(); the writer can still be dropped.
TEST(DirectWriter, AFailedWriteIsReportedWithItsErrno) {
    pf::test::TempDir dir;
    struct rlimit old_limit;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    auto old_handler = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_limit;
    small.rlim_cur = 2 * pf::kPoolBlock;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    std::string data = random_bytes(8 * pf::kPoolBlock, 1);
    int err = 0;
    int fd = create(dir, "big");
    try {
        pf::DirectWriter w(fd);
        feed(w, data);
        w.finish();
    } catch (const pf::IoError& e) {
        err = e.err;
    }
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    close(fd);
    EXPECT_EQ(err, EFBIG);
}

TEST(DirectWriter, AWriteOnADescriptorNotOpenForWritingFails) {
    pf::test::TempDir dir;
    dir.write("r", "");
    int fd = ::open((dir / "r").c_str(), O_RDONLY | O_CLOEXEC);
    int err = 0;
    try {
        pf::DirectWriter w(fd);
        feed(w, random_bytes(3 * pf::kPoolBlock + 1, 2));
        w.finish();
    } catch (const pf::IoError& e) {
        err = e.err;
    }
    close(fd);
    EXPECT_EQ(err, EBADF);
}

// The verifier completes a copy handed over with its writer: waits for the
// writes, sets the original's mode and times, then fsyncs and reads it back.
TEST(CopyVerifier, CompletesACopyHandedOverWithItsWriter) {
    pf::test::TempDir dir;
    pf::CopyVerifier v;
    std::vector<std::string> data;
    for (size_t k = 0; k < 6; k++) {  // more than the verifier queues: submit() waits, never loses one
        data.push_back(random_bytes(3 * pf::kPoolBlock + 100 * k + 1, static_cast<unsigned>(k)));
        std::unique_ptr<pf::CopyVerifier::PendingWrite> f(new pf::CopyVerifier::PendingWrite);
        f->fd = pf::UniqueFd(create(dir, "c" + std::to_string(k)));
        f->writer.reset(new pf::DirectWriter(f->fd.fd));
        feed(*f->writer, data.back());
        f->mode = 0640;
        f->times[0].tv_sec = 1000000000;
        f->times[1].tv_sec = 1234567890;
        f->times[1].tv_nsec = 5;
        v.submit(k, std::move(f), k == 4 ? sha("other") : sha(data.back()), "c" + std::to_string(k));
    }
    auto out = v.finish();
    ASSERT_EQ(out.size(), 6u);
    for (size_t k = 0; k < 6; k++) {
        EXPECT_EQ(out[k].ok, k != 4) << k << ": " << out[k].message;
        struct stat st;
        ASSERT_EQ(stat((dir / ("c" + std::to_string(k))).c_str(), &st), 0);
        EXPECT_EQ(static_cast<size_t>(st.st_size), data[k].size());
        EXPECT_EQ(st.st_mode & 0777, 0640u);
        EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
        EXPECT_EQ(st.st_mtim.tv_nsec, 5);
    }
    EXPECT_EQ(out[4].err, EIO);
}

// The backup's I/O runs at the idle class on the thread that asked and on the
// helper threads it starts meanwhile (the copy's writer); the previous class
// comes back afterwards.
TEST(IdleIoPriority, AppliesToTheThreadAndItsHelpersAndIsRestored) {
    int before = pf::io_priority_class();
    ASSERT_GE(before, 0);
    ASSERT_NE(before, 3);
    pf::test::TempDir dir;
    {
        pf::IdleIoPriority idle;
        ASSERT_TRUE(idle.applied());
        EXPECT_EQ(pf::io_priority_class(), 3);
        int helper = -1;
        std::thread t([&] { helper = pf::io_priority_class(); });
        t.join();
        EXPECT_EQ(helper, 3) << "a thread started meanwhile inherits the class";
    }
    EXPECT_EQ(pf::io_priority_class(), before);
}
