// A scratch folder per test, removed afterwards (test-owned files only).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>
#include <filesystem>

namespace pf::test {

class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pf-unit-XXXXXX";
        char* p = mkdtemp(tmpl.data());
        if (p == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = p;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

    void write(const std::string& rel, const std::string& bytes) const {
        std::filesystem::create_directories(std::filesystem::path(*this / rel).parent_path());
        std::ofstream(*this / rel, std::ios::binary) << bytes;
    }
    int open_dir() const { return ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

private:
    std::string path_;
};

}  // namespace pf::test
