// Bounded work per file (issue #10 item 10): a size limit checked before any
// byte is read, and a cancel callback polled while reading.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "core/asset_reader.hpp"
#include "core/errors.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_report.hpp"
#include "temp_dir.hpp"

namespace {
// A "JPEG" of `size` bytes, sparse: what a hostile inbox can offer cheaply.
int sparse_jpeg(const pf::test::TempDir& t, off_t size) {
    t.write("big.jpg", std::string("\xff\xd8\xff\xe0", 4));
    int fd = open((t / "big.jpg").c_str(), O_RDWR);
    if (fd >= 0 && ftruncate(fd, size) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
}  // namespace

TEST(ReadLimits, FileAboveTheLimitIsRefusedUnread) {
    pf::test::TempDir t;
    int fd = sparse_jpeg(t, 64 << 20);
    ASSERT_GE(fd, 0);
    pf::ReadOptions o;
    o.max_bytes = 1 << 20;
    int calls = 0;
    o.cancel_ctx = &calls;
    o.cancelled = [](void* c) { return ++*static_cast<int*>(c) > 1000000; };
    try {
        pf::read_asset(fd, "big.jpg", o);
        FAIL() << "no limit applied";
    } catch (const pf::RejectError& e) {
        EXPECT_EQ(e.reason, pf::RejectReason::TooLarge);
        EXPECT_STREQ(pf::to_string(e.reason), "too_large");
    }
    EXPECT_EQ(calls, 0);  // not a byte read
    close(fd);
}

TEST(ReadLimits, CancelStopsALongRead) {
    pf::test::TempDir t;
    int fd = sparse_jpeg(t, 256 << 20);
    ASSERT_GE(fd, 0);
    pf::ReadOptions o;
    int calls = 0;
    o.cancel_ctx = &calls;
    o.cancelled = [](void* c) { return ++*static_cast<int*>(c) > 3; };
    EXPECT_THROW(pf::read_asset(fd, "big.jpg", o), pf::Cancelled);
    EXPECT_EQ(calls, 4);  // stopped after three chunks, not 256
    close(fd);
}

TEST(LogEscape, ControlCharactersAndInvalidUtf8) {
    EXPECT_EQ(pf::escape_for_log("moving IMG_\nforged line.jpg"), "moving IMG_%0Aforged line.jpg");
    EXPECT_EQ(pf::escape_for_log("bad\xff\xfe.jpg: caf\xc3\xa9"), "bad%FF%FE.jpg: caf\xc3\xa9");
    EXPECT_EQ(pf::escape_for_log("plain / path"), "plain / path");
}

TEST(ReadLimits, InboxReportShowsFilesAboveTheLimit) {
    pf::test::TempDir t;
    t.write("small.jpg", std::string("\xff\xd8\xff\xe0", 4) + std::string(100, 'x'));
    int fd = sparse_jpeg(t, 1 << 20);
    ASSERT_GE(fd, 0);
    close(fd);
    int root = t.open_dir();
    std::string json = pf::inbox_report_json(root, 0, 4096);
    close(root);
    EXPECT_NE(json.find("\"path\":\"big.jpg\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"state\":\"too_large\""), std::string::npos) << json;
}
