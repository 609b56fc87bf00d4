#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/move_recovery.hpp"
#include "core/sha256.hpp"
#include "temp_dir.hpp"

namespace {

std::string sha(const std::string& s) {
    pf::Sha256 h;
    h.update(s.data(), s.size());
    return h.hex_digest();
}

struct Layout {
    pf::test::TempDir inbox, storage;
    pf::InterruptedMove move(const std::string& content) {
        return pf::InterruptedMove{inbox.path(), "Phone/IMG_1.JPG", storage.path(), "Originals/2023/2023-12-25/IMG_1.JPG",
                                   sha(content)};
    }
    bool in_inbox() const { return access((inbox / "Phone/IMG_1.JPG").c_str(), F_OK) == 0; }
    bool stored(const std::string& name = "IMG_1.JPG") const {
        return access((storage / ("Originals/2023/2023-12-25/" + name)).c_str(), F_OK) == 0;
    }
};

}  // namespace

TEST(MoveRecovery, RenamedFileIsFinished) {
    Layout l;
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "photo");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_TRUE(d.finish);
    EXPECT_EQ(d.final_rel, "Originals/2023/2023-12-25/IMG_1.JPG");
}

TEST(MoveRecovery, NotYetMovedIsRolledBackAndPartialCopyRemoved) {
    Layout l;
    l.inbox.write("Phone/IMG_1.JPG", "photo");
    l.storage.write("Originals/2023/2023-12-25/.pf-incoming-abc", "pho");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_FALSE(d.finish);
    EXPECT_TRUE(l.in_inbox());
    EXPECT_NE(access((l.storage / "Originals/2023/2023-12-25/.pf-incoming-abc").c_str(), F_OK), 0);
}

TEST(MoveRecovery, VerifiedCopyReleasesSource) {
    Layout l;
    l.inbox.write("Phone/IMG_1.JPG", "photo");
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "photo");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_TRUE(d.finish);
    EXPECT_FALSE(l.in_inbox());
    EXPECT_TRUE(l.stored());
}

TEST(MoveRecovery, ForeignFileAtDestinationKeepsSourceAndRollsBack) {
    Layout l;
    l.inbox.write("Phone/IMG_1.JPG", "photo");
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "someone else's");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_FALSE(d.finish);
    EXPECT_TRUE(l.in_inbox());
    EXPECT_TRUE(l.stored());  // never removed either
}

TEST(MoveRecovery, FindsFileUnderCollisionSuffix) {
    Layout l;
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "other");
    l.storage.write("Originals/2023/2023-12-25/IMG_1~1.JPG", "photo");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_TRUE(d.finish);
    EXPECT_EQ(d.final_rel, "Originals/2023/2023-12-25/IMG_1~1.JPG");
}

TEST(MoveRecovery, VanishedFileIsRolledBack) {
    Layout l;
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_FALSE(d.finish);
}

// A rejected entry the librarian could not read (no hash in the journal): a
// different file under a collision name must never count as its copy, and a
// FIFO source must never be opened (that would block recovery forever).
TEST(MoveRecovery, UnhashedSourceIsNeverReleasedOnAnUnverifiedMatch) {
    Layout l;
    ASSERT_EQ(mkdir((l.inbox / "Phone").c_str(), 0700), 0);
    ASSERT_EQ(mkfifo((l.inbox / "Phone/IMG_1.JPG").c_str(), 0600), 0);
    l.storage.write("Rejected/2026-11-25/IMG_1~1.JPG", "someone else's rejected file");
    pf::InterruptedMove m{l.inbox.path(), "Phone/IMG_1.JPG", l.storage.path(), "Rejected/2026-11-25/IMG_1.JPG", ""};
    auto d = pf::resolve_interrupted_move(m);
    EXPECT_FALSE(d.finish);
    EXPECT_TRUE(l.in_inbox());
}

TEST(MoveRecovery, UnhashedFileRenamedBeforeTheCrashIsFinished) {
    Layout l;
    l.storage.write("Rejected/2026-11-25/IMG_1.JPG", "unreadable when it was read");
    pf::InterruptedMove m{l.inbox.path(), "Phone/IMG_1.JPG", l.storage.path(), "Rejected/2026-11-25/IMG_1.JPG", ""};
    auto d = pf::resolve_interrupted_move(m);
    EXPECT_TRUE(d.finish);
    EXPECT_EQ(d.final_rel, "Rejected/2026-11-25/IMG_1.JPG");
}
