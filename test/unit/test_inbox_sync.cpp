#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/inbox_file.hpp"
#include "temp_dir.hpp"

namespace {
struct Dir {
    int fd;
    explicit Dir(const std::string& p) : fd(open(p.c_str(), O_RDONLY | O_DIRECTORY)) {}
    ~Dir() { close(fd); }
};
}  // namespace

TEST(InboxSync, SyncsRegularFilesAndLeavesEveryOtherEntryAlone) {
    pf::test::TempDir inbox;
    inbox.write("a.jpg", "aaa");
    ASSERT_EQ(mkdir((inbox / "sub").c_str(), 0700), 0);
    inbox.write("sub/b.jpg", "bbb");
    ASSERT_EQ(symlink("/etc/passwd", (inbox / "link.jpg").c_str()), 0);
    ASSERT_EQ(mkfifo((inbox / "pipe.jpg").c_str(), 0600), 0);
    Dir root(inbox.path());
    // Links and FIFOs are never opened (opening a FIFO could block): nothing to do for them.
    std::vector<int> errs = pf::sync_inbox_files(root.fd, {"a.jpg", "sub/b.jpg", "link.jpg", "pipe.jpg", "gone.jpg"});
    ASSERT_EQ(errs.size(), 5u);
    EXPECT_EQ(errs[0], 0);
    EXPECT_EQ(errs[1], 0);
    EXPECT_EQ(errs[2], 0);
    EXPECT_EQ(errs[3], 0);
    EXPECT_EQ(errs[4], ENOENT);  // vanished: the caller says so
}

TEST(InboxSync, SingleFileAndFolders) {
    pf::test::TempDir inbox;
    inbox.write("a.jpg", "aaa");
    ASSERT_EQ(mkdir((inbox / "sub").c_str(), 0700), 0);
    Dir root(inbox.path());
    EXPECT_EQ(pf::sync_inbox_files(root.fd, {"a.jpg"}), std::vector<int>{0});
    EXPECT_EQ(pf::fsync_rel_dir(root.fd, ""), 0);
    EXPECT_EQ(pf::fsync_rel_dir(root.fd, "sub"), 0);
    EXPECT_EQ(pf::fsync_rel_dir(root.fd, "missing"), ENOENT);
    ASSERT_EQ(symlink("/etc", (inbox / "etc").c_str()), 0);
    EXPECT_NE(pf::fsync_rel_dir(root.fd, "etc"), 0);  // never through a link
}
