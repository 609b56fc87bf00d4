// The backup copy protocol and target markers (src/core/backup_*.cpp).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <csignal>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "core/backup_copy.hpp"
#include "core/backup_target.hpp"
#include "core/errors.hpp"
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
bool exists(const std::string& p) {
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
}
int count_temporaries(const std::string& dir) {
    int n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (pf::is_backup_temporary_name(e.path().filename().string())) n++;
    return n;
}
const char* kRel = "Originals/2023/2023-12-25/IMG_1.JPG";

struct Roots {
    pf::test::TempDir storage, target;
    int s = -1, t = -1;
    Roots() {
        s = storage.open_dir();
        t = target.open_dir();
    }
    ~Roots() {
        close(s);
        close(t);
    }
};
}  // namespace

TEST(BackupCopy, CopiesVerifiesAndKeepsLayout) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    auto res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(res.final_rel, kRel);
    EXPECT_EQ(res.bytes, 11u);
    EXPECT_EQ(content(r.target / kRel), "photo bytes");
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
}

TEST(BackupCopy, SameContentAlreadyThereIsTheCopy) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    r.target.write(kRel, "photo bytes");
    auto res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::AlreadyPresent);
    EXPECT_EQ(res.final_rel, kRel);
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
}

TEST(BackupCopy, OtherContentIsNeverOverwritten) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    r.target.write(kRel, "someone else's file");
    auto res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(res.final_rel, "Originals/2023/2023-12-25/IMG_1~1.JPG");
    EXPECT_EQ(content(r.target / kRel), "someone else's file");
    EXPECT_EQ(content(r.target / res.final_rel), "photo bytes");

    auto strict = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), false);
    EXPECT_EQ(strict.outcome, pf::CopyOutcome::DestinationTaken);
    EXPECT_EQ(content(r.target / kRel), "someone else's file");
}

TEST(BackupCopy, CorruptOriginalIsNeverCopied) {
    Roots r;
    r.storage.write(kRel, "rotten bytes");
    auto res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::SourceMismatch);
    EXPECT_FALSE(exists(r.target / kRel));
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
}

TEST(BackupCopy, MissingSourceAndSymlinkedSourceFolder) {
    Roots r;
    auto res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("x"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::SourceMissing);
    pf::test::TempDir elsewhere;
    elsewhere.write("2023/2023-12-25/IMG_1.JPG", "x");
    ASSERT_EQ(symlink(elsewhere.path().c_str(), (r.storage / "Originals").c_str()), 0);
    res = pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("x"), true);
    EXPECT_EQ(res.outcome, pf::CopyOutcome::SourceUnreadable);
    EXPECT_FALSE(exists(r.target / kRel));
}

TEST(BackupCopy, SymlinkedTargetFolderIsATargetError) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    pf::test::TempDir elsewhere;
    ASSERT_EQ(symlink(elsewhere.path().c_str(), (r.target / "Originals").c_str()), 0);
    EXPECT_THROW(pf::copy_verified_file(r.s, kRel, r.t, kRel, sha("photo bytes"), true), pf::TargetIoError);
    EXPECT_TRUE(std::filesystem::is_empty(elsewhere.path()));
}

TEST(BackupCopy, RefusesDotDotAndAbsolutePaths) {
    Roots r;
    EXPECT_THROW(pf::copy_verified_file(r.s, "../x", r.t, "x", sha("x"), true), pf::IoError);
    EXPECT_THROW(pf::copy_verified_file(r.s, "x", r.t, "/etc/x", sha("x"), true), pf::IoError);
    EXPECT_THROW(pf::copy_verified_file(r.s, "x", r.t, "a//x", sha("x"), true), pf::IoError);
}

// A write that fails on the target (here EFBIG from a file size limit, as
// ENOSPC would on a full disk) is a TargetIoError and leaves no temporary.
TEST(BackupCopy, FailedWriteIsATargetErrorAndLeavesNothing) {
    Roots r;
    r.storage.write(kRel, std::string(64 * 1024, 'p'));
    struct rlimit old_limit;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    auto old_handler = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_limit;
    small.rlim_cur = 4096;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    int err = 0;
    try {
        pf::copy_verified_file(r.s, kRel, r.t, kRel, sha(std::string(64 * 1024, 'p')), true);
    } catch (const pf::TargetIoError& e) {
        err = e.err;
    }
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    EXPECT_EQ(err, EFBIG);
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
    EXPECT_FALSE(exists(r.target / kRel));
}

TEST(BackupCopy, VerifyFindsMissingCorruptAndOk) {
    Roots r;
    r.target.write(kRel, "photo bytes");
    EXPECT_EQ(pf::verify_copy(r.t, kRel, sha("photo bytes")).state, pf::CopyState::Ok);
    EXPECT_EQ(pf::verify_copy(r.t, kRel, sha("other")).state, pf::CopyState::Corrupt);
    EXPECT_EQ(pf::verify_copy(r.t, "Originals/2023/2023-12-25/nope.JPG", sha("x")).state, pf::CopyState::Missing);
    size_t seen = 0;
    pf::verify_copy(r.t, kRel, sha("photo bytes"), [&](size_t n) { seen += n; });
    EXPECT_EQ(seen, 11u);
}

TEST(BackupCopy, BadCopyIsReplacedFromTheOriginal) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    r.target.write(kRel, "photo bytez");  // bit rot on the target
    auto res = pf::replace_bad_copy(r.s, kRel, r.t, kRel, sha("photo bytes"));
    EXPECT_EQ(res.outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(content(r.target / kRel), "photo bytes");
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
    EXPECT_FALSE(exists(r.target / "Originals/2023/2023-12-25/IMG_1~1.JPG"));
    // Missing copy: copied again.
    std::filesystem::remove(r.target / kRel);
    res = pf::replace_bad_copy(r.s, kRel, r.t, kRel, sha("photo bytes"));
    EXPECT_EQ(res.outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(content(r.target / kRel), "photo bytes");
}

TEST(BackupCopy, BadCopyIsKeptWhenTheOriginalIsBadToo) {
    Roots r;
    r.storage.write(kRel, "rotten");
    r.target.write(kRel, "photo bytez");
    auto res = pf::replace_bad_copy(r.s, kRel, r.t, kRel, sha("photo bytes"));
    EXPECT_EQ(res.outcome, pf::CopyOutcome::SourceMismatch);
    EXPECT_EQ(content(r.target / kRel), "photo bytez");
}

TEST(BackupCopy, SetAsideKeepsTheFileUnderANewName) {
    pf::test::TempDir root;
    root.write(kRel, "rotten");
    root.write("Corrupt/2023/2023-12-25/IMG_1.JPG", "older rotten");
    int fd = root.open_dir();
    std::string got = pf::set_aside(fd, kRel, "Corrupt/2023/2023-12-25/IMG_1.JPG");
    close(fd);
    EXPECT_EQ(got, "Corrupt/2023/2023-12-25/IMG_1~1.JPG");
    EXPECT_EQ(content(root / got), "rotten");
    EXPECT_EQ(content(root / "Corrupt/2023/2023-12-25/IMG_1.JPG"), "older rotten");
    EXPECT_FALSE(exists(root / kRel));
}

TEST(BackupTarget, MarkerStates) {
    pf::test::TempDir t;
    int fd = t.open_dir();
    EXPECT_EQ(pf::check_backup_marker(fd, "id-1").state, pf::MarkerState::Missing);
    pf::write_backup_marker(fd, "id-1", "usb");
    EXPECT_EQ(pf::check_backup_marker(fd, "id-1").state, pf::MarkerState::Ok);
    EXPECT_NO_THROW(pf::write_backup_marker(fd, "id-1", "usb"));
    auto other = pf::check_backup_marker(fd, "id-2");
    EXPECT_EQ(other.state, pf::MarkerState::Foreign);
    EXPECT_EQ(other.found_id, "id-1");
    EXPECT_THROW(pf::write_backup_marker(fd, "id-2", "nas"), pf::Error);
    close(fd);
    t.write(pf::kBackupMarkerName, "garbage");
    fd = t.open_dir();
    EXPECT_EQ(pf::check_backup_marker(fd, "id-1").state, pf::MarkerState::Unreadable);
    close(fd);

    pf::MarkerCheck c;
    EXPECT_EQ(pf::open_backup_target(t / "nope", "id-1", &c), -1);
    EXPECT_EQ(c.state, pf::MarkerState::RootMissing);
}

TEST(BackupTarget, RecoveryRemovesOnlyOurTemporariesInsideTheTree) {
    pf::test::TempDir t, outside;
    t.write("Originals/2023/2023-12-25/.pf-backup-0123456789abcdef.tmp", "half");
    t.write("Originals/2023/2023-12-25/.pf-backup-0123456789abcdeg.tmp", "not ours: not hex");
    t.write("Originals/2023/2023-12-25/.pf-backup-0123456789abcdef.tmp.keep", "not ours");
    t.write("Originals/2023/2023-12-25/IMG_1.JPG", "a copy");
    outside.write(".pf-backup-fedcba9876543210.tmp", "outside the tree");
    ASSERT_EQ(symlink(outside.path().c_str(), (t / "Originals/linked").c_str()), 0);
    // A directory with a temporary's name is never removed either.
    std::filesystem::create_directories(t / "Originals/.pf-backup-aaaaaaaaaaaaaaaa.tmp");
    int fd = t.open_dir();
    EXPECT_EQ(pf::remove_backup_temporaries(fd), 1);
    EXPECT_EQ(pf::remove_backup_temporaries(fd), 0);
    close(fd);
    EXPECT_FALSE(exists(t / "Originals/2023/2023-12-25/.pf-backup-0123456789abcdef.tmp"));
    EXPECT_TRUE(exists(t / "Originals/2023/2023-12-25/.pf-backup-0123456789abcdeg.tmp"));
    EXPECT_TRUE(exists(t / "Originals/2023/2023-12-25/.pf-backup-0123456789abcdef.tmp.keep"));
    EXPECT_TRUE(exists(t / "Originals/2023/2023-12-25/IMG_1.JPG"));
    EXPECT_TRUE(exists(outside / ".pf-backup-fedcba9876543210.tmp"));
    EXPECT_TRUE(exists(t / "Originals/.pf-backup-aaaaaaaaaaaaaaaa.tmp"));
}

TEST(BackupTarget, PathWithin) {
    EXPECT_TRUE(pf::path_within("/a/b", "/a"));
    EXPECT_TRUE(pf::path_within("/a", "/a"));
    EXPECT_TRUE(pf::path_within("/a/b", "/a/"));
    EXPECT_FALSE(pf::path_within("/ab", "/a"));
    EXPECT_FALSE(pf::path_within("/a", "/a/b"));
    EXPECT_TRUE(pf::path_within("/x", "/"));
    EXPECT_FALSE(pf::path_within("/x", ""));
}

TEST(BackupBatch, StagesFlushesOnceVerifiesAndPlaces) {
    Roots r;
    r.storage.write("Originals/2023/2023-12-25/A.JPG", "a bytes");
    r.storage.write("Originals/2023/2023-12-25/B.JPG", "b bytes");
    r.storage.write("Originals/2023/2023-12-26/C.JPG", "rotten");
    r.storage.write("Originals/2023/2023-12-26/D.JPG", "d bytes");
    r.target.write("Originals/2023/2023-12-25/B.JPG", "b bytes");        // copied before a crash
    r.target.write("Originals/2023/2023-12-26/D.JPG", "someone else's");  // never overwritten
    pf::BackupBatch b(r.t);
    size_t a = b.stage(r.s, "Originals/2023/2023-12-25/A.JPG", "Originals/2023/2023-12-25/A.JPG", sha("a bytes"));
    size_t bb = b.stage(r.s, "Originals/2023/2023-12-25/B.JPG", "Originals/2023/2023-12-25/B.JPG", sha("b bytes"));
    size_t c = b.stage(r.s, "Originals/2023/2023-12-26/C.JPG", "Originals/2023/2023-12-26/C.JPG", sha("c bytes"));
    size_t d = b.stage(r.s, "Originals/2023/2023-12-26/D.JPG", "Originals/2023/2023-12-26/D.JPG", sha("d bytes"));
    size_t m = b.stage(r.s, "Originals/2023/2023-12-26/M.JPG", "Originals/2023/2023-12-26/M.JPG", sha("m"));
    EXPECT_FALSE(exists(r.target / "Originals/2023/2023-12-25/A.JPG"));  // nothing placed before finish
    EXPECT_EQ(count_temporaries(r.target.path()), 2);
    b.finish();
    EXPECT_EQ(b.result(a).outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(b.result(a).final_rel, "Originals/2023/2023-12-25/A.JPG");
    EXPECT_EQ(content(r.target / "Originals/2023/2023-12-25/A.JPG"), "a bytes");
    EXPECT_EQ(b.result(bb).outcome, pf::CopyOutcome::AlreadyPresent);
    EXPECT_EQ(b.result(c).outcome, pf::CopyOutcome::SourceMismatch);
    EXPECT_FALSE(exists(r.target / "Originals/2023/2023-12-26/C.JPG"));
    EXPECT_EQ(b.result(d).outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(b.result(d).final_rel, "Originals/2023/2023-12-26/D~1.JPG");
    EXPECT_EQ(content(r.target / "Originals/2023/2023-12-26/D.JPG"), "someone else's");
    EXPECT_EQ(content(r.target / "Originals/2023/2023-12-26/D~1.JPG"), "d bytes");
    EXPECT_EQ(b.result(m).outcome, pf::CopyOutcome::SourceMissing);
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
}

TEST(BackupBatch, AnUnfinishedBatchLeavesNoTemporaries) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    {
        pf::BackupBatch b(r.t);
        b.stage(r.s, kRel, kRel, sha("photo bytes"));
        EXPECT_EQ(count_temporaries(r.target.path()), 1);
    }
    EXPECT_EQ(count_temporaries(r.target.path()), 0);
    EXPECT_FALSE(exists(r.target / kRel));
}

TEST(BackupBatch, ANameTakenMeanwhileIsNeverOverwritten) {
    Roots r;
    r.storage.write(kRel, "photo bytes");
    pf::BackupBatch b(r.t);
    size_t i = b.stage(r.s, kRel, kRel, sha("photo bytes"));
    r.target.write(kRel, "arrived meanwhile");
    b.finish();
    EXPECT_EQ(b.result(i).outcome, pf::CopyOutcome::Copied);
    EXPECT_EQ(b.result(i).final_rel, "Originals/2023/2023-12-25/IMG_1~1.JPG");
    EXPECT_EQ(content(r.target / kRel), "arrived meanwhile");
}
