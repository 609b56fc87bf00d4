#include "core/root_guard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace pf {

std::string normalize_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        std::string comp = path.substr(start, slash - start);
        if (comp == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!comp.empty() && comp != ".") {
            parts.push_back(comp);
        }
        start = slash + 1;
    }
    std::string out;
    for (const std::string& p : parts) out += "/" + p;
    return out.empty() ? "/" : out;
}

bool paths_overlap(const std::string& a, const std::string& b) {
    std::string x = normalize_path(a), y = normalize_path(b);
    if (x == y || x == "/" || y == "/") return true;
    auto below = [](const std::string& inner, const std::string& outer) {
        return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
    };
    return below(x, y) || below(y, x);
}

bool dir_within(int inner_fd, int outer_fd) {
    struct stat outer, cur_st;
    if (fstat(outer_fd, &outer) != 0) return false;
    int cur = fcntl(inner_fd, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return false;
    bool found = false;
    for (int depth = 0; depth < 4096; depth++) {
        if (fstat(cur, &cur_st) != 0) break;
        if (cur_st.st_dev == outer.st_dev && cur_st.st_ino == outer.st_ino) {
            found = true;
            break;
        }
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0) break;
        struct stat up_st;
        bool top = fstat(up, &up_st) != 0 || (up_st.st_dev == cur_st.st_dev && up_st.st_ino == cur_st.st_ino);
        close(cur);
        cur = up;
        if (top) break;  // "/" is its own parent
    }
    close(cur);
    return found;
}

std::string roots_conflict(const std::string& inbox_dir, int inbox_fd, const std::string& storage_dir, int storage_fd) {
    std::string in = normalize_path(inbox_dir), lib = normalize_path(storage_dir);
    bool same = in == lib || (inbox_fd >= 0 && storage_fd >= 0 && dir_within(inbox_fd, storage_fd) &&
                              dir_within(storage_fd, inbox_fd));
    if (same) return "photofactory.inbox_dir and photofactory.storage_dir are the same folder (" + in + ")";
    if (paths_overlap(lib, in) && lib.size() > in.size())
        return "photofactory.storage_dir (" + lib + ") is inside photofactory.inbox_dir (" + in + ")";
    if (paths_overlap(lib, in)) return "photofactory.inbox_dir (" + in + ") is inside photofactory.storage_dir (" + lib + ")";
    if (inbox_fd >= 0 && storage_fd >= 0) {
        if (dir_within(storage_fd, inbox_fd))
            return "photofactory.storage_dir (" + lib + ") is inside photofactory.inbox_dir (" + in + "), reached through a link";
        if (dir_within(inbox_fd, storage_fd))
            return "photofactory.inbox_dir (" + in + ") is inside photofactory.storage_dir (" + lib + "), reached through a link";
    }
    return std::string();
}

}  // namespace pf
