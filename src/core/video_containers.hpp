// Capture time (and place, where the container has one) of the video
// containers that are not ISO-BMFF: AVI (RIFF), Matroska/WebM (EBML), ASF
// (WMV) and MPEG transport streams (AVCHD .MTS/.M2TS). Each walks the
// container with positioned reads through RandomAccess, bounded in the number
// of elements it looks at and the bytes it loads, so a hostile or huge file
// costs a few kilobytes of reads; problems are recorded in VideoFacts::errors,
// never thrown.
#pragma once

#include "core/core_guard.hpp"

#include "core/bmff_reader.hpp"

namespace pf {

// AVI: LIST hdrl IDIT (the camera's local time, "Mon Mar 10 15:04:43 2003" and
// the vendor spellings exiftool knows) -> camera_local; else the EXIF IFD of a
// strd "AVIF" chunk (Fujifilm, Pentax, ...) -> camera_local (+ offset) and GPS;
// else LIST INFO ICRD with a time of day -> camera_local.
VideoFacts read_avi_facts(const RandomAccess& in);

// Matroska / WebM: Segment/Info/DateUTC (nanoseconds since 2001-01-01 UTC) ->
// creation_utc_epoch.
VideoFacts read_matroska_facts(const RandomAccess& in);

// ASF (WMV): the File Properties object's creation date (FILETIME, UTC) ->
// creation_utc_epoch.
VideoFacts read_asf_facts(const RandomAccess& in);

// MPEG-TS (188-byte packets) and BDAV/AVCHD (192-byte packets): the H.264 SEI
// user data "MDPM" that AVCHD camcorders write into the first video frames
// (date, time and zone) -> camera_local + camera_offset_minutes.
VideoFacts read_mpegts_facts(const RandomAccess& in);

// "Mon Mar 10 15:04:43 2003", "2001/ 1/27  1:42PM", "2005/11/28/ 09:19",
// "2002-12-16  15:35:01": AVI date strings (exposed for tests and the fuzzer).
std::optional<LocalDateTime> parse_riff_date(const std::string& s);

}  // namespace pf
