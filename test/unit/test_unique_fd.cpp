#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/unique_fd.hpp"

namespace {
bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }
}  // namespace

TEST(UniqueFd, ClosesOnScopeExitAndMoves) {
    int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(raw, 0);
    {
        pf::UniqueFd a(raw);
        pf::UniqueFd b(std::move(a));
        EXPECT_EQ(a.fd, -1);
        EXPECT_EQ(b.get(), raw);
        EXPECT_TRUE(is_open(raw));
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, ReleaseAndReset) {
    int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(raw, 0);
    pf::UniqueFd a(raw);
    EXPECT_EQ(a.release(), raw);
    EXPECT_EQ(a.fd, -1);
    EXPECT_TRUE(is_open(raw));
    a.reset(raw);
    a.reset();
    EXPECT_FALSE(is_open(raw));
}
