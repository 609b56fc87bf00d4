// pf-thumbnail: the core's renderer outside PostgreSQL, one JSON line per file.
// Used by the unit tests (peak RSS must be measured in a process of its own)
// and by the benchmark (bench/thumbnails.sh).
//
//   pf-thumbnail [--thumb N] [--preview N] [--max-mp N] [--max-decode-mb N]
//                [--out DIR] FILE...
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/imaging_runtime.hpp"
#include "core/json_writer.hpp"
#include "core/thumbnail_render.hpp"

int main(int argc, char** argv) {
    pf::RenderSettings s;
    std::string out_dir;
    std::vector<std::string> files;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--thumb") s.thumbnail_size = std::atoi(next());
        else if (a == "--preview") s.preview_size = std::atoi(next());
        else if (a == "--max-mp") s.max_pixels = std::atoll(next()) * 1000 * 1000;
        else if (a == "--max-decode-mb") s.max_decode_bytes = static_cast<size_t>(std::atoll(next())) << 20;
        else if (a == "--out") out_dir = next();
        else files.push_back(a);
    }
    if (files.empty()) {
        std::fprintf(stderr, "usage: pf-thumbnail [--thumb N] [--preview N] [--max-mp N] [--max-decode-mb N] [--out DIR] FILE...\n");
        return 2;
    }
    pf::imaging_init(pf::ImagingSettings{});
    int failures = 0;
    for (const auto& f : files) {
        pf::JsonObject o;
        o.add("file", f);
        int fd = open(f.c_str(), O_RDONLY | O_CLOEXEC);
        auto t0 = std::chrono::steady_clock::now();
        try {
            if (fd < 0) throw pf::ThumbnailError(pf::ThumbFailure::Missing, std::strerror(errno));
            std::string name = f.substr(f.rfind('/') + 1);
            pf::RenderResult r = pf::render_renditions(fd, name, s);
            o.add("ok", true);
            o.add("decoder", r.decoder);
            o.add("source_width", static_cast<int64_t>(r.source_width));
            o.add("source_height", static_cast<int64_t>(r.source_height));
            o.add("preview_width", static_cast<int64_t>(r.preview_width));
            o.add("preview_height", static_cast<int64_t>(r.preview_height));
            o.add("thumbnail_width", static_cast<int64_t>(r.thumbnail_width));
            o.add("thumbnail_height", static_cast<int64_t>(r.thumbnail_height));
            if (!out_dir.empty()) {
                std::ofstream(out_dir + "/" + name + ".preview.jpg", std::ios::binary) << r.bytes.preview;
                std::ofstream(out_dir + "/" + name + ".thumb.webp", std::ios::binary) << r.bytes.thumbnail;
            }
        } catch (const std::exception& e) {
            failures++;
            o.add("ok", false);
            o.add("error", e.what());
        }
        if (fd >= 0) close(fd);
        pf::imaging_release_memory();
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        o.add("ms", static_cast<int64_t>(ms));
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        o.add("max_rss_kb", static_cast<int64_t>(ru.ru_maxrss));
        std::printf("%s\n", o.str().c_str());
    }
    return failures == 0 ? 0 : 1;
}
