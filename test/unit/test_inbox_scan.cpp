#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/inbox_scan.hpp"
#include "temp_dir.hpp"

using pf::EntryType;
using pf::NameVerdict;

namespace {

std::map<std::string, pf::InboxEntry> scan(const pf::test::TempDir& d, pf::ScanStats* stats_out = nullptr,
                                           int max_depth = 64) {
    std::map<std::string, pf::InboxEntry> out;
    pf::ScanStats stats;
    int fd = d.open_dir();
    pf::scan_inbox(fd, [&](const pf::InboxEntry& e) { out[e.rel_path] = e; }, stats, max_depth);
    close(fd);
    if (stats_out) *stats_out = stats;
    return out;
}

}  // namespace

TEST(InboxScan, FindsNestedFilesAndClassifiesNames) {
    pf::test::TempDir d;
    d.write("Phone/IMG_1.JPG", "x");
    d.write("Phone/sub/IMG_2.JPG", "y");
    d.write("Phone/.syncthing.IMG_3.JPG.tmp", "partial");
    d.write(".stfolder/marker", "");
    d.write(".stversions/old.jpg", "z");
    auto e = scan(d);
    ASSERT_EQ(e.count("Phone/IMG_1.JPG"), 1u);
    EXPECT_EQ(e["Phone/IMG_1.JPG"].verdict, NameVerdict::Candidate);
    EXPECT_EQ(e["Phone/IMG_1.JPG"].type, EntryType::Regular);
    EXPECT_EQ(e["Phone/IMG_1.JPG"].name, "IMG_1.JPG");
    EXPECT_EQ(e.count("Phone/sub/IMG_2.JPG"), 1u);
    ASSERT_EQ(e.count("Phone/.syncthing.IMG_3.JPG.tmp"), 1u);
    EXPECT_NE(e["Phone/.syncthing.IMG_3.JPG.tmp"].verdict, NameVerdict::Candidate);
    // Hidden folders are not entered at all.
    EXPECT_EQ(e.count(".stversions/old.jpg"), 0u);
    EXPECT_EQ(e.count(".stfolder/marker"), 0u);
}

TEST(InboxScan, NeverFollowsSymlinks) {
    pf::test::TempDir d, outside;
    outside.write("secret.jpg", "s");
    d.write("real.jpg", "r");
    ASSERT_EQ(symlink((outside / "secret.jpg").c_str(), (d / "link.jpg").c_str()), 0);
    ASSERT_EQ(symlink(outside.path().c_str(), (d / "linkdir").c_str()), 0);
    auto e = scan(d);
    ASSERT_EQ(e.count("link.jpg"), 1u);
    EXPECT_EQ(e["link.jpg"].type, EntryType::Symlink);
    ASSERT_EQ(e.count("linkdir"), 1u);
    EXPECT_EQ(e["linkdir"].type, EntryType::Symlink);
    EXPECT_EQ(e.count("linkdir/secret.jpg"), 0u);
}

TEST(InboxScan, ReportsSpecialFilesWithoutOpeningThem) {
    pf::test::TempDir d;
    ASSERT_EQ(mkfifo((d / "pipe.jpg").c_str(), 0600), 0);
    auto e = scan(d);  // would hang here if the FIFO were opened
    ASSERT_EQ(e.count("pipe.jpg"), 1u);
    EXPECT_EQ(e["pipe.jpg"].type, EntryType::Other);
}

TEST(InboxScan, DepthLimitIsReportedNotFatal) {
    pf::test::TempDir d;
    d.write("a/b/c/d/deep.jpg", "x");
    d.write("top.jpg", "x");
    pf::ScanStats stats;
    auto e = scan(d, &stats, 2);
    EXPECT_EQ(e.count("top.jpg"), 1u);
    EXPECT_EQ(e.count("a/b/c/d/deep.jpg"), 0u);
    ASSERT_FALSE(stats.errors.empty());
    EXPECT_NE(stats.errors[0].find("deeper"), std::string::npos);
}

TEST(InboxScan, UnreadableFolderIsReported) {
    if (geteuid() == 0) GTEST_SKIP() << "root reads everything";
    pf::test::TempDir d;
    d.write("locked/x.jpg", "x");
    chmod((d / "locked").c_str(), 0);
    pf::ScanStats stats;
    scan(d, &stats);
    chmod((d / "locked").c_str(), 0700);
    EXPECT_FALSE(stats.errors.empty());
}

TEST(InboxScan, RepeatedScansOfOneDescriptorSeeEverything) {
    pf::test::TempDir d;
    d.write("one.jpg", "1");
    int fd = d.open_dir();
    for (int round = 0; round < 3; round++) {
        size_t n = 0;
        pf::ScanStats stats;
        pf::scan_inbox(fd, [&](const pf::InboxEntry&) { n++; }, stats);
        EXPECT_EQ(n, 1u) << "round " << round;
    }
    close(fd);
}
