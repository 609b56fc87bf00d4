// Inbox and library must be separate trees (issue #10 item 5), and
// ingest_file() takes exactly what the scan would (item 7).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/inbox_scan.hpp"
#include "core/ingest_request.hpp"
#include "core/root_guard.hpp"
#include "temp_dir.hpp"

TEST(RootGuard, LexicalOverlap) {
    EXPECT_TRUE(pf::paths_overlap("/srv/photos", "/srv/photos/"));
    EXPECT_TRUE(pf::paths_overlap("/srv/inbox", "/srv/inbox/library"));
    EXPECT_TRUE(pf::paths_overlap("/srv/inbox/./lib/..//", "/srv//inbox"));
    EXPECT_TRUE(pf::paths_overlap("/srv/library/inbox", "/srv/library"));
    EXPECT_FALSE(pf::paths_overlap("/srv/in", "/srv/inbox"));
    EXPECT_FALSE(pf::paths_overlap("/srv/inbox", "/srv/library"));
    EXPECT_EQ(pf::normalize_path("/a//b/./c/../d/"), "/a/b/d");
}

TEST(RootGuard, ConflictsByNameAndThroughLinks) {
    pf::test::TempDir t;
    ASSERT_EQ(mkdir((t / "inbox").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((t / "inbox/lib").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((t / "elsewhere").c_str(), 0700), 0);
    ASSERT_EQ(symlink((t / "inbox/lib").c_str(), (t / "library").c_str()), 0);
    EXPECT_NE(pf::roots_conflict(t / "inbox", -1, t / "inbox/lib", -1), "");
    EXPECT_NE(pf::roots_conflict(t / "inbox/lib", -1, t / "inbox", -1), "");
    EXPECT_NE(pf::roots_conflict(t / "inbox", -1, t / "inbox", -1), "");
    int in = open((t / "inbox").c_str(), O_RDONLY | O_DIRECTORY);
    int lib = open((t / "library").c_str(), O_RDONLY | O_DIRECTORY);  // the link, followed: a root may be one
    int other = open((t / "elsewhere").c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_EQ(pf::roots_conflict(t / "inbox", -1, t / "library", -1), "");  // names alone do not show it
    EXPECT_NE(pf::roots_conflict(t / "inbox", in, t / "library", lib), "");
    EXPECT_EQ(pf::roots_conflict(t / "inbox", in, t / "elsewhere", other), "");
    EXPECT_TRUE(pf::dir_within(lib, in));
    EXPECT_FALSE(pf::dir_within(in, lib));
    close(in);
    close(lib);
    close(other);
}

TEST(RootGuard, ScanNeverEntersTheLibrary) {
    pf::test::TempDir inbox;
    inbox.write("Phone/IMG_1.JPG", "photo");
    inbox.write("library/Originals/2023/IMG_0.JPG", "stored");
    int fd = inbox.open_dir();
    struct stat lib;
    ASSERT_EQ(stat((inbox / "library").c_str(), &lib), 0);
    pf::FileIdentity skip = pf::identity_of(lib);
    std::vector<std::string> seen;
    pf::ScanStats stats;
    pf::scan_inbox(fd, [&](const pf::InboxEntry& e) { seen.push_back(e.rel_path); }, stats, 64, &skip);
    close(fd);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], "Phone/IMG_1.JPG");
    ASSERT_EQ(stats.errors.size(), 1u);  // reported, not silently skipped
}

TEST(IngestRequest, TakesExactlyWhatTheScanTakes) {
    pf::test::TempDir inbox;
    inbox.write("Phone/IMG_1.JPG", "photo");
    inbox.write("Phone/.syncthing.IMG_2.JPG.tmp", "half");
    inbox.write("Phone/~syncthing~IMG_3.JPG.tmp", "half");
    inbox.write(".stfolder/x", "");
    inbox.write(".stversions/IMG_4.JPG", "old");
    inbox.write("Phone/IMG_5.JPG.part", "half");
    ASSERT_EQ(symlink("/etc/passwd", (inbox / "Phone/passwd.jpg").c_str()), 0);
    ASSERT_EQ(symlink((inbox / "Phone").c_str(), (inbox / "linked").c_str()), 0);
    ASSERT_EQ(mkfifo((inbox / "Phone/pipe.jpg").c_str(), 0600), 0);
    int fd = inbox.open_dir();
    EXPECT_EQ(pf::ingest_request_refusal(fd, "Phone/IMG_1.JPG"), "");
    for (const char* refused : {"Phone", ".stfolder", "Phone/.syncthing.IMG_2.JPG.tmp", "Phone/~syncthing~IMG_3.JPG.tmp",
                                ".stversions/IMG_4.JPG", "Phone/IMG_5.JPG.part", "Phone/..", "Phone/../Phone/IMG_1.JPG",
                                "Phone/./IMG_1.JPG", "Phone//IMG_1.JPG", "Phone/passwd.jpg", "linked/IMG_1.JPG",
                                "Phone/pipe.jpg", ""})
        EXPECT_NE(pf::ingest_request_refusal(fd, refused), "") << refused;
    EXPECT_EQ(pf::ingest_request_refusal(fd, "Phone/missing.jpg"), "");  // reported as vanished
    close(fd);
}
