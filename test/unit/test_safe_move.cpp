#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <dirent.h>
#include <cstring>

#include <fstream>
#include <iterator>

#include "core/errors.hpp"
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
}  // namespace

TEST(SafeMove, NeverOverwritesAndSuffixesCollisions) {
    pf::test::TempDir src, dst;
    src.write("IMG_1.JPG", "new photo");
    dst.write("IMG_1.JPG", "existing photo");
    int s = src.open_dir(), t = dst.open_dir();
    auto r = pf::move_no_replace(s, "IMG_1.JPG", t, "IMG_1.JPG", sha("new photo"), true);
    close(s);
    close(t);
    EXPECT_EQ(r.final_name, "IMG_1~1.JPG");
    EXPECT_FALSE(r.copied);
    EXPECT_EQ(content(dst / "IMG_1.JPG"), "existing photo");
    EXPECT_EQ(content(dst / "IMG_1~1.JPG"), "new photo");
    EXPECT_NE(access((src / "IMG_1.JPG").c_str(), F_OK), 0);
}

TEST(SafeMove, EnsureDirPathRefusesSymlinkedComponents) {
    pf::test::TempDir root, elsewhere;
    ASSERT_EQ(symlink(elsewhere.path().c_str(), (root / "Originals").c_str()), 0);
    int fd = root.open_dir();
    EXPECT_THROW(pf::ensure_dir_path(fd, "Originals/2023/2023-12-25", true), pf::IoError);
    int made = pf::ensure_dir_path(fd, "Duplicates/2023/2023-12-25", true);
    EXPECT_GE(made, 0);
    close(made);
    close(fd);
    struct stat st;
    EXPECT_EQ(stat((root / "Duplicates/2023/2023-12-25").c_str(), &st), 0);
}

TEST(SafeMove, AcrossFilesystemsCopiesVerifiesAndKeepsMtime) {
    struct statfs a, b;
    pf::test::TempDir src;
    if (statfs(src.path().c_str(), &a) != 0 || statfs("/dev/shm", &b) != 0 || a.f_type == b.f_type)
        GTEST_SKIP() << "needs /dev/shm on another filesystem";
    char tmpl[] = "/dev/shm/pf-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dst = tmpl;
    src.write("IMG_2.JPG", "photo bytes");
    struct timespec t[2] = {{0, UTIME_OMIT}, {1500000000, 0}};
    utimensat(AT_FDCWD, (src / "IMG_2.JPG").c_str(), t, 0);
    int s = src.open_dir();
    int d = open(dst.c_str(), O_RDONLY | O_DIRECTORY);
    auto r = pf::move_no_replace(s, "IMG_2.JPG", d, "IMG_2.JPG", sha("photo bytes"), true);
    EXPECT_TRUE(r.copied);
    EXPECT_EQ(content(dst + "/IMG_2.JPG"), "photo bytes");
    struct stat st;
    stat((dst + "/IMG_2.JPG").c_str(), &st);
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
    EXPECT_NE(access((src / "IMG_2.JPG").c_str(), F_OK), 0);

    // A wrong expected hash: the copy is discarded, the source stays.
    src.write("IMG_3.JPG", "more bytes");
    EXPECT_THROW(pf::move_no_replace(s, "IMG_3.JPG", d, "IMG_3.JPG", sha("something else"), true), pf::Error);
    EXPECT_EQ(content(src / "IMG_3.JPG"), "more bytes");
    EXPECT_NE(access((dst + "/IMG_3.JPG").c_str(), F_OK), 0);
    close(s);
    close(d);
    unlink((dst + "/IMG_2.JPG").c_str());  // test-owned files in a test-owned folder
    rmdir(dst.c_str());
}

// The source folder lets files be read but not removed (here: append-only, the
// one way to refuse unlink to root): a cross-filesystem move must not leave
// its verified copy behind, or each retry would add an orphan to the library.
TEST(SafeMove, AcrossFilesystemsWithdrawsTheCopyWhenTheSourceCannotBeReleased) {
    struct statfs a, b;
    pf::test::TempDir src;
    if (statfs(src.path().c_str(), &a) != 0 || statfs("/dev/shm", &b) != 0 || a.f_type == b.f_type)
        GTEST_SKIP() << "needs /dev/shm on another filesystem";
    src.write("IMG_4.JPG", "kept bytes");
    int s = src.open_dir();
    int flags = 0;
    if (ioctl(s, FS_IOC_GETFLAGS, &flags) != 0) GTEST_SKIP() << "no inode flags here";
    int append_only = flags | FS_APPEND_FL;
    if (ioctl(s, FS_IOC_SETFLAGS, &append_only) != 0) {
        close(s);
        GTEST_SKIP() << "cannot make a folder append-only (needs CAP_LINUX_IMMUTABLE)";
    }
    char tmpl[] = "/dev/shm/pf-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dst = tmpl;
    int d = open(dst.c_str(), O_RDONLY | O_DIRECTORY);
    EXPECT_THROW(pf::move_no_replace(s, "IMG_4.JPG", d, "IMG_4.JPG", sha("kept bytes"), true), pf::IoError);
    ioctl(s, FS_IOC_SETFLAGS, &flags);
    EXPECT_EQ(content(src / "IMG_4.JPG"), "kept bytes");
    int left = 0;
    if (DIR* dir = opendir(dst.c_str())) {
        while (struct dirent* de = readdir(dir))
            if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) left++;
        closedir(dir);
    }
    EXPECT_EQ(left, 0) << "the copy (or a temporary) stayed in the destination";
    close(s);
    close(d);
    rmdir(dst.c_str());
}
