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
    int inbox_fd = inbox.open_dir();
    int storage_fd = storage.open_dir();
    ~Layout() {
        close(inbox_fd);
        close(storage_fd);
    }
    pf::InterruptedMove move(const std::string& content, const std::string& dest = "Originals/2023/2023-12-25/IMG_1.JPG") {
        pf::InterruptedMove m;
        m.inbox_fd = inbox_fd;
        m.source_rel = "Phone/IMG_1.JPG";
        m.storage_fd = storage_fd;
        m.dest_rel = dest;
        m.sha256 = content.empty() ? std::string() : sha(content);
        return m;
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
    pf::InterruptedMove m = l.move("", "Rejected/2026-11-25/IMG_1.JPG");
    auto d = pf::resolve_interrupted_move(m);
    EXPECT_FALSE(d.finish);
    EXPECT_TRUE(l.in_inbox());
}

TEST(MoveRecovery, UnhashedFileRenamedBeforeTheCrashIsFinished) {
    Layout l;
    l.storage.write("Rejected/2026-11-25/IMG_1.JPG", "unreadable when it was read");
    pf::InterruptedMove m = l.move("", "Rejected/2026-11-25/IMG_1.JPG");
    auto d = pf::resolve_interrupted_move(m);
    EXPECT_TRUE(d.finish);
    EXPECT_EQ(d.final_rel, "Rejected/2026-11-25/IMG_1.JPG");
}

// A sync peer swaps an inbox folder for a link to somewhere else (the data
// directory) holding a file of the same name after the move: recovery must not
// follow the link, let alone unlink what it finds there.
TEST(MoveRecovery, SymlinkedInboxFolderIsNeverFollowed) {
    Layout l;
    pf::test::TempDir outside;
    outside.write("IMG_1.JPG", "photo");  // same bytes as the stored file
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "photo");
    ASSERT_EQ(symlink(outside.path().c_str(), (l.inbox / "Phone").c_str()), 0);
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_TRUE(d.finish);  // the move itself had completed
    EXPECT_EQ(access((outside / "IMG_1.JPG").c_str(), F_OK), 0) << "a file outside the inbox was deleted";
}

TEST(MoveRecovery, SymlinkedLibraryFolderIsNeverFollowed) {
    Layout l;
    pf::test::TempDir outside;
    outside.write("2023-12-25/IMG_1.JPG", "photo");
    l.inbox.write("Phone/IMG_1.JPG", "photo");
    ASSERT_EQ(mkdir((l.storage / "Originals").c_str(), 0700), 0);
    ASSERT_EQ(symlink(outside.path().c_str(), (l.storage / "Originals/2023").c_str()), 0);
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_FALSE(d.finish);  // the copy outside is not the library's
    EXPECT_TRUE(l.in_inbox()) << "the inbox file was released on the strength of a file outside the library";
}

// The destination holds the verified content, but the inbox name now holds
// other bytes (a new photo synced under the same name): recorded, not released.
TEST(MoveRecovery, SourceIsReleasedOnlyOnItsOwnProof) {
    Layout l;
    l.inbox.write("Phone/IMG_1.JPG", "a newer photo with the same name");
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "photo");
    auto d = pf::resolve_interrupted_move(l.move("photo"));
    EXPECT_TRUE(d.finish);
    EXPECT_TRUE(l.in_inbox()) << "an unverified inbox file was deleted";
}

TEST(MoveRecovery, DotDotInTheJournalLeadsNowhere) {
    Layout l;
    pf::test::TempDir outside;
    l.storage.write("Originals/2023/2023-12-25/IMG_1.JPG", "photo");
    pf::InterruptedMove m = l.move("photo");
    // A journal row pointing above the inbox (a tampered or corrupt row).
    std::string up = "../" + outside.path().substr(outside.path().rfind('/') + 1) + "/IMG_1.JPG";
    outside.write("IMG_1.JPG", "photo");
    m.source_rel = up;
    pf::resolve_interrupted_move(m);
    EXPECT_EQ(access((outside / "IMG_1.JPG").c_str(), F_OK), 0);
}
