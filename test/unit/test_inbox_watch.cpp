#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include "core/inbox_watch.hpp"
#include "temp_dir.hpp"

namespace {

bool readable_within(int fd, int ms) {
    struct pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

}  // namespace

TEST(InboxWatcher, SignalsNewFilesAndWatchesNewFolders) {
    pf::test::TempDir d;
    d.write("existing/a.jpg", "a");
    pf::InboxWatcher w(d.path());
    EXPECT_EQ(w.watch_count(), 2u);  // root + existing/
    EXPECT_FALSE(w.drain());

    d.write("existing/b.jpg", "b");
    ASSERT_TRUE(readable_within(w.fd(), 2000));
    EXPECT_TRUE(w.drain());

    ASSERT_EQ(mkdir((d / "Phone2").c_str(), 0700), 0);
    ASSERT_TRUE(readable_within(w.fd(), 2000));
    EXPECT_TRUE(w.drain());
    EXPECT_EQ(w.watch_count(), 3u);
    d.write("Phone2/c.jpg", "c");  // inside the folder created after start
    ASSERT_TRUE(readable_within(w.fd(), 2000));
    EXPECT_TRUE(w.drain());
}

TEST(InboxWatcher, IgnoresHiddenFolders) {
    pf::test::TempDir d;
    d.write(".stversions/x.jpg", "x");
    pf::InboxWatcher w(d.path());
    EXPECT_EQ(w.watch_count(), 1u);
    EXPECT_FALSE(w.incomplete());
}

// A folder reached through a link is never watched (nor listed) through it.
TEST(InboxWatcher, NeverWatchesThroughLinkedFolders) {
    pf::test::TempDir d, outside;
    ASSERT_EQ(mkdir((outside / "sub").c_str(), 0700), 0);
    ASSERT_EQ(symlink(outside.path().c_str(), (d / "linked").c_str()), 0);
    ASSERT_EQ(mkdir((d / "real").c_str(), 0700), 0);
    int root = d.open_dir();
    pf::InboxWatcher w(root);
    close(root);
    EXPECT_EQ(w.watch_count(), 2u);  // the root and real/, nothing of outside/
    outside.write("sub/new.jpg", "x");
    EXPECT_FALSE(w.drain());
}
