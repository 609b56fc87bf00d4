// The move acts on a name only while it still is the file that was read
// (issue #10 item 3), gives the library its own inode for hard-linked inbox
// files, and applies photofactory.storage_mode.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "core/errors.hpp"
#include "core/inbox_file.hpp"
#include "core/safe_move.hpp"
#include "core/sha256.hpp"
#include "temp_dir.hpp"

namespace {

std::string content(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string sha(const std::string& s) {
    pf::Sha256 h;
    h.update(s.data(), s.size());
    return h.hex_digest();
}

struct Dirs {
    pf::test::TempDir inbox, lib;
    int in = -1, out = -1;
    Dirs() {}
    void open() {
        in = inbox.open_dir();
        out = lib.open_dir();
    }
    ~Dirs() {
        if (in >= 0) close(in);
        if (out >= 0) close(out);
    }
    bool stored(const std::string& name) const { return access((lib / name).c_str(), F_OK) == 0; }
};

pf::MoveOptions opts_for(int dirfd, const std::string& name, const std::string& bytes) {
    pf::MoveOptions o;
    o.expected_sha256 = sha(bytes);
    o.expect = pf::entry_identity(dirfd, name);
    return o;
}

}  // namespace

TEST(MoveIdentity, FileSwappedForASymlinkAfterReadingIsNotMoved) {
    Dirs d;
    d.inbox.write("IMG_1.JPG", "photo");
    d.open();
    pf::MoveOptions o = opts_for(d.in, "IMG_1.JPG", "photo");
    // The sync peer swaps the name for a link to /etc/passwd after the read.
    ASSERT_EQ(unlink((d.inbox / "IMG_1.JPG").c_str()), 0);
    ASSERT_EQ(symlink("/etc/passwd", (d.inbox / "IMG_1.JPG").c_str()), 0);
    try {
        pf::move_no_replace(d.in, "IMG_1.JPG", d.out, "IMG_1.JPG", o);
        FAIL() << "a swapped entry was moved into the library";
    } catch (const pf::RejectError& e) {
        EXPECT_EQ(e.reason, pf::RejectReason::Unstable);
    }
    EXPECT_FALSE(d.stored("IMG_1.JPG"));
    struct stat st;
    ASSERT_EQ(lstat((d.inbox / "IMG_1.JPG").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(MoveIdentity, FileRewrittenAfterReadingIsNotMoved) {
    Dirs d;
    d.inbox.write("IMG_1.JPG", "photo");
    d.open();
    pf::MoveOptions o = opts_for(d.in, "IMG_1.JPG", "photo");
    // Other content under the same name (a new inode), as a sync tool writes it.
    d.inbox.write("IMG_1.JPG.new", "other content!");
    ASSERT_EQ(rename((d.inbox / "IMG_1.JPG.new").c_str(), (d.inbox / "IMG_1.JPG").c_str()), 0);
    EXPECT_THROW(pf::move_no_replace(d.in, "IMG_1.JPG", d.out, "IMG_1.JPG", o), pf::RejectError);
    EXPECT_FALSE(d.stored("IMG_1.JPG"));
    EXPECT_EQ(content(d.inbox / "IMG_1.JPG"), "other content!");
}

TEST(MoveIdentity, UnchangedFileMoves) {
    Dirs d;
    d.inbox.write("IMG_1.JPG", "photo");
    d.open();
    pf::MoveOptions o = opts_for(d.in, "IMG_1.JPG", "photo");
    auto r = pf::move_no_replace(d.in, "IMG_1.JPG", d.out, "IMG_1.JPG", o);
    EXPECT_EQ(r.final_name, "IMG_1.JPG");
    EXPECT_FALSE(r.copied);
    EXPECT_EQ(content(d.lib / "IMG_1.JPG"), "photo");
}

// A hard link into the inbox: renaming would make the library file share its
// inode (and so its future content) with a file outside the inbox.
TEST(MoveIdentity, HardLinkedFileIsCopiedNotRenamed) {
    Dirs d;
    pf::test::TempDir outside;
    outside.write("original.jpg", "photo");
    ASSERT_EQ(link((outside / "original.jpg").c_str(), (d.inbox / "IMG_1.JPG").c_str()), 0);
    d.open();
    pf::MoveOptions o = opts_for(d.in, "IMG_1.JPG", "photo");
    ASSERT_EQ(o.expect.nlink, 2u);
    o.copy = true;
    auto r = pf::move_no_replace(d.in, "IMG_1.JPG", d.out, "IMG_1.JPG", o);
    EXPECT_TRUE(r.copied);
    struct stat lib, out;
    ASSERT_EQ(stat((d.lib / "IMG_1.JPG").c_str(), &lib), 0);
    ASSERT_EQ(stat((outside / "original.jpg").c_str(), &out), 0);
    EXPECT_NE(lib.st_ino, out.st_ino);
    EXPECT_EQ(lib.st_nlink, 1u);
    EXPECT_EQ(out.st_nlink, 1u);  // the inbox name was released
    EXPECT_EQ(content(outside / "original.jpg"), "photo");
    EXPECT_NE(access((d.inbox / "IMG_1.JPG").c_str(), F_OK), 0);
}

TEST(MoveIdentity, StorageModeAppliesToFoldersAndFiles) {
    Dirs d;
    d.inbox.write("IMG_1.JPG", "photo");
    ASSERT_EQ(chmod((d.inbox / "IMG_1.JPG").c_str(), 0600), 0);
    d.open();
    mode_t old = umask(077);
    int dir = pf::ensure_dir_path(d.out, "Originals/2023/2023-12-25", false, 0750);
    umask(old);
    pf::MoveOptions o = opts_for(d.in, "IMG_1.JPG", "photo");
    o.file_mode = 0640;
    pf::move_no_replace(d.in, "IMG_1.JPG", dir, "IMG_1.JPG", o);
    close(dir);
    struct stat st;
    for (const char* f : {"Originals", "Originals/2023", "Originals/2023/2023-12-25"}) {
        ASSERT_EQ(stat((d.lib / f).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0750u) << f;
    }
    ASSERT_EQ(stat((d.lib / "Originals/2023/2023-12-25/IMG_1.JPG").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(MoveIdentity, StorageModeNeverTouchesALinkTarget) {
    Dirs d;
    pf::test::TempDir outside;
    outside.write("target", "not ours");
    ASSERT_EQ(chmod((outside / "target").c_str(), 0600), 0);
    ASSERT_EQ(symlink((outside / "target").c_str(), (d.inbox / "link.jpg").c_str()), 0);
    d.open();
    pf::MoveOptions o;
    o.expect = pf::entry_identity(d.in, "link.jpg");
    o.file_mode = 0644;
    pf::move_no_replace(d.in, "link.jpg", d.out, "link.jpg", o);  // to Rejected/, as a link
    struct stat st;
    ASSERT_EQ(stat((outside / "target").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(OpenParentDir, RefusesDotDot) {
    pf::test::TempDir root;
    root.write("a/x.jpg", "x");
    int fd = root.open_dir();
    std::string leaf;
    errno = 0;
    EXPECT_LT(pf::open_parent_dir(fd, "a/../../etc/passwd", &leaf), 0);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_LT(pf::open_parent_dir(fd, "a/..", &leaf), 0);
    int ok = pf::open_parent_dir(fd, "a/x.jpg", &leaf);
    EXPECT_GE(ok, 0);
    if (ok >= 0) close(ok);
    close(fd);
}
