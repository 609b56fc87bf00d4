#include "core/unique_fd.hpp"
#include "core/companions.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>

#include "core/errors.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_file.hpp"
#include "core/safe_move.hpp"
#include "core/sha256.hpp"

namespace pf {
namespace {

bool iends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && ascii_lower(s.substr(s.size() - suffix.size())) == suffix;
}

// "IMG_E1234" / "IMG_O1234" (iOS: edited rendition, original's adjustments) -> "IMG_1234".
std::string ios_key_stem(const std::string& stem) {
    size_t n = stem.size();
    if (n >= 6 && (stem[n - 5] == 'E' || stem[n - 5] == 'O') && stem[n - 6] == '_') {
        for (size_t i = n - 4; i < n; i++)
            if (stem[i] < '0' || stem[i] > '9') return stem;
        return stem.substr(0, n - 5) + stem.substr(n - 4);
    }
    return stem;
}

using Fd = pf::UniqueFd;

}  // namespace

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string syncthing_final_name(std::string_view n) {
    for (std::string_view prefix : {std::string_view(".syncthing."), std::string_view("~syncthing~")}) {
        if (n.size() > prefix.size() + 4 && n.substr(0, prefix.size()) == prefix && iends_with(n, ".tmp"))
            return std::string(n.substr(prefix.size(), n.size() - prefix.size() - 4));
    }
    return "";
}

SidecarKind sidecar_kind(std::string_view name) {
    if (iends_with(name, ".xmp")) return SidecarKind::Xmp;
    if (iends_with(name, ".aae")) return SidecarKind::Aae;
    if (iends_with(name, ".json")) return SidecarKind::Json;
    return SidecarKind::None;
}

const char* to_string(SidecarKind k) {
    switch (k) {
        case SidecarKind::Xmp: return "xmp";
        case SidecarKind::Aae: return "aae";
        case SidecarKind::Json: return "json";
        case SidecarKind::None: break;
    }
    return "";
}

NameParts split_name(std::string_view name, bool sidecar) {
    NameParts p;
    // The stem ends at the first dot for sidecars (IMG_1.HEIC.xmp, Takeout's
    // IMG_1.HEIC.supplemental-metadata.json), at the last one otherwise
    // (a photo may be called "2024.05.01 beach.jpg").
    size_t dot = sidecar ? name.find('.') : name.rfind('.');
    if (dot == 0 || dot == std::string_view::npos) dot = name.size();
    p.stem = std::string(name.substr(0, dot));
    p.tail = std::string(name.substr(dot));
    p.key_stem = ios_key_stem(p.stem);
    return p;
}

std::string companion_key(std::string_view rel_path, bool sidecar) {
    size_t slash = rel_path.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? std::string_view() : rel_path.substr(0, slash);
    std::string_view leaf = slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1);
    return ascii_lower(dir) + "/" + ascii_lower(split_name(leaf, sidecar).key_stem);
}

std::string inbox_companion_key(std::string_view raw_rel_path) {
    size_t slash = raw_rel_path.rfind('/');
    std::string_view leaf = slash == std::string_view::npos ? raw_rel_path : raw_rel_path.substr(slash + 1);
    return companion_key(sanitize_rel_path(raw_rel_path), sidecar_kind(leaf) != SidecarKind::None);
}

int leader_rank(bool video, std::string_view format) {
    static const char* raws[] = {"dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf",
                                 "rw2", "raf", "pef", "srw", "x3f", "3fr", "iiq", "rwl", "erf", "kdc"};
    if (video) return 2;
    for (const char* r : raws)
        if (format == r) return 0;
    return 1;
}

std::string suffixed_name(const std::string& stem, const std::string& suffix, const std::string& tail) {
    std::string s = stem;
    size_t room = suffix.size() + tail.size() >= 255 ? 0 : 255 - suffix.size() - tail.size();
    if (s.size() > room) {
        s.resize(room);
        while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
        if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0xC0) s.pop_back();
    }
    return s + suffix + tail;
}

std::vector<std::string> plan_names(int storage_fd, const std::vector<std::string>& reserved,
                                    const std::vector<NameRequest>& requests) {
    std::set<std::string> taken;  // lower-cased storage-relative paths
    for (const auto& r : reserved) taken.insert(ascii_lower(r));
    std::set<std::string> listed;
    auto list_dir = [&](const std::string& dir) {
        if (!listed.insert(dir).second) return;
        std::string leaf;
        int fd = open_parent_dir(storage_fd, dir + "/.", &leaf);
        if (fd < 0) {
            if (errno == ENOENT) return;
            throw IoError("opening folder " + dir, errno);
        }
        DIR* d = fdopendir(fd);
        if (d == nullptr) {
            int e = errno;
            close(fd);
            throw IoError("listing folder " + dir, e);
        }
        std::string prefix = ascii_lower(dir) + "/";
        while (struct dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n == "." || n == "..") continue;
            taken.insert(prefix + ascii_lower(n));
        }
        closedir(d);
    };

    std::vector<std::string> out(requests.size());
    std::map<int, std::vector<size_t>> groups;
    for (size_t i = 0; i < requests.size(); i++)
        if (requests[i].group >= 0) groups[requests[i].group].push_back(i);
    std::vector<bool> done(requests.size(), false);

    for (size_t i = 0; i < requests.size(); i++) {
        if (done[i]) continue;
        std::vector<size_t> members{i};
        if (requests[i].group >= 0) members = groups[requests[i].group];
        for (size_t m : members) list_dir(requests[m].dir);
        for (int n = 0;; n++) {
            if (n > 9999) throw IoError("no free name for " + requests[i].stem + requests[i].tail, EEXIST);
            std::string suffix = requests[i].base_suffix + (n > 0 ? "~" + std::to_string(n) : "");
            std::vector<std::string> names;
            bool free = true;
            for (size_t m : members) {
                const NameRequest& r = requests[m];
                std::string path = r.dir + "/" + suffixed_name(r.stem, suffix, r.tail);
                std::string low = ascii_lower(path);
                for (const auto& other : names) free = free && ascii_lower(other) != low;
                free = free && taken.count(low) == 0;
                names.push_back(path);
            }
            if (!free) continue;
            for (size_t k = 0; k < members.size(); k++) {
                out[members[k]] = names[k];
                taken.insert(ascii_lower(names[k]));
                done[members[k]] = true;
            }
            break;
        }
    }
    return out;
}

SidecarFacts read_sidecar(int root_fd, const std::string& rel_path, uint64_t max_bytes) {
    std::string leaf;
    Fd dir;
    dir.fd = open_parent_dir(root_fd, rel_path, &leaf);
    if (dir.fd < 0) throw IoError("opening the folder of " + rel_path, errno);
    Fd f;
    f.fd = openat(dir.fd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (f.fd < 0) throw IoError("opening " + rel_path, errno);
    struct stat st;
    if (fstat(f.fd, &st) != 0) throw IoError("fstat", errno);
    if (!S_ISREG(st.st_mode)) throw RejectError(RejectReason::NotRegularFile, "not a regular file");
    if (st.st_size == 0) throw RejectError(RejectReason::Empty, "the file is empty (0 bytes)");
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        throw RejectError(RejectReason::NotMedia, "too large for a sidecar, and not a photo or video");
    SidecarFacts out;
    out.sha256 = sha256_file_fd(f.fd);
    struct stat after;
    if (fstat(f.fd, &after) != 0) throw IoError("fstat", errno);
    if (after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
        after.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
        throw RejectError(RejectReason::Unstable, "the file changed while it was being read");
    out.size_bytes = static_cast<uint64_t>(st.st_size);
    return out;
}

}  // namespace pf
