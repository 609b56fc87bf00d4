// libFuzzer target over everything the core does with untrusted file bytes:
// content sniffing, Exiv2 (JPEG/TIFF/PNG/WebP/HEIC...) through read_image_facts,
// the QuickTime/MP4 box walker (from memory and through a descriptor), the
// AVI, Matroska, ASF and MPEG-TS (AVCHD MDPM) walkers, the CR3 CMT boxes and
// an embedded EXIF block (X3F), and the
// whole read_asset chain on a memfd — once with the default in-memory head and
// once with a tiny head, so the descriptor-based paths (Exiv2 reading through
// /proc/self/fd, pread box walking) run too. The text parsers fed from
// metadata and names (dates, offsets, ISO 6709, file-name dates, name
// sanitising) get the same bytes as strings.
//
// Contract checked: no crash, no sanitizer report, no exception other than
// the documented RejectError/IoError out of read_asset.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/asset_reader.hpp"
#include "core/bmff_reader.hpp"
#include "core/datetime.hpp"
#include "core/errors.hpp"
#include "core/exif_reader.hpp"
#include "core/filename_date.hpp"
#include "core/filename_sanitize.hpp"
#include "core/media_type.hpp"
#include "core/video_containers.hpp"

namespace {

constexpr int64_t kNow = 1735689600;  // 2025-01-01: results must not depend on the clock
int g_memfd = -1;

void quiet_sink(pf::LogLevel, const char*) {}

// The same bytes under every name the sniffer and the date chain care about.
const char* const kNames[] = {"IMG_20230101_101010.jpg", "clip.mp4", "clip.mov", "photo.heic", "raw.dng",
                             "clip.webm", "clip.asf", "00001.MTS"};

void run_read_asset(size_t size, const char* name, size_t head_bytes) {
    pf::ReadOptions opts;
    opts.now_epoch = kNow;
    opts.head_bytes = head_bytes;
    opts.chunk_bytes = 4096;
    try {
        pf::AssetFacts f = pf::read_asset(g_memfd, name, opts);
        // Invariants every caller relies on.
        if (f.sha256.size() != 64 || f.size_bytes != size || f.date_source.empty()) abort();
        if (f.location && (f.location->lat < -90 || f.location->lat > 90 || f.location->lon < -180 ||
                           f.location->lon > 180))
            abort();
    } catch (const pf::RejectError&) {
    } catch (const pf::IoError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    pf::init_metadata_library();
    pf::set_log_sink(quiet_sink);
    g_memfd = memfd_create("pf-fuzz", MFD_CLOEXEC);
    if (g_memfd < 0) {
        perror("memfd_create");
        abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Metadata parsers straight from memory.
    (void)pf::read_image_facts(data, size, kNow);
    pf::MemoryRandomAccess mem(data, size);
    (void)pf::read_video_facts(mem);
    (void)pf::read_avi_facts(mem);
    (void)pf::read_matroska_facts(mem);
    (void)pf::read_asf_facts(mem);
    (void)pf::read_mpegts_facts(mem);
    pf::Cr3Metadata cr3 = pf::read_cr3_metadata(mem);
    if (!cr3.ifd0.empty() || !cr3.exif.empty() || !cr3.gps.empty())
        (void)pf::read_cr3_blocks(cr3.ifd0, cr3.exif, cr3.gps, kNow);
    std::string embedded = pf::find_embedded_exif(data, size);
    if (!embedded.empty()) (void)pf::read_exif_block(embedded, "", kNow);
    for (const char* name : kNames) (void)pf::sniff_media_type(data, size, name);

    // Text parsers: metadata strings and file names come from the same hostile files.
    std::string_view s(reinterpret_cast<const char*>(data), size);
    (void)pf::parse_exif_datetime(s);
    (void)pf::parse_utc_offset(s);
    (void)pf::parse_iso6709(std::string(s));
    (void)pf::parse_riff_date(std::string(s));
    (void)pf::date_from_filename(s, kNow);
    pf::SanitizedName sn = pf::sanitize_filename(s);
    if (sn.name.size() > 255 || sn.name.find('/') != std::string::npos) abort();
    (void)pf::sanitize_rel_path(s);

    // The whole chain through a descriptor, as the librarian runs it.
    if (ftruncate(g_memfd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(g_memfd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) abort();
        done += static_cast<size_t>(n);
    }
    const char* name = kNames[size % (sizeof kNames / sizeof kNames[0])];
    run_read_asset(size, name, 8u << 20);  // whole file in memory (the common case)
    if (size > 256) run_read_asset(size, name, 256);  // metadata beyond the head: fd paths
    return 0;
}
