#include "core/ingest_request.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/inbox_file.hpp"
#include "core/inbox_rules.hpp"

namespace pf {

std::string ingest_request_refusal(int inbox_fd, const std::string& rel_path) {
    if (rel_path.empty()) return "no file named below photofactory.inbox_dir";
    size_t start = 0;
    for (;;) {
        size_t slash = rel_path.find('/', start);
        bool last = slash == std::string::npos;
        std::string comp = rel_path.substr(start, last ? std::string::npos : slash - start);
        if (comp.empty() || comp == "." || comp == "..")
            return "path is not inside photofactory.inbox_dir: \".\", \"..\" and empty components are refused";
        if (classify_name(comp, !last) != NameVerdict::Candidate)
            return last ? "the librarian leaves this name alone (hidden, temporary or system file)"
                        : "the librarian leaves this folder alone (hidden or system folder)";
        if (last) break;
        start = slash + 1;
    }
    std::string leaf;
    int dir = open_parent_dir(inbox_fd, rel_path, &leaf);
    if (dir < 0) {
        if (errno == ELOOP || errno == ENOTDIR) return "a folder on its path is a symbolic link or not a folder";
        if (errno == ENOENT) return std::string();  // ingest_file() reports it as vanished
        return "its folder cannot be opened";
    }
    struct stat st;
    int rc = fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(dir);
    if (rc != 0) return e == ENOENT ? std::string() : "it cannot be examined";
    if (S_ISDIR(st.st_mode)) return "it is a folder; ingest_file takes one regular file";
    if (S_ISLNK(st.st_mode)) return "it is a symbolic link; ingest_file takes one regular file";
    if (!S_ISREG(st.st_mode)) return "it is not a regular file";
    return std::string();
}

}  // namespace pf
