#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/batch_plan.hpp"
#include "core/companions.hpp"
#include "temp_dir.hpp"

namespace {

pf::LocalDateTime at(int y, int mo, int d, int h, int mi) {
    pf::LocalDateTime t;
    t.year = y, t.month = mo, t.day = d, t.hour = h, t.minute = mi;
    return t;
}

pf::PlanFile media(const std::string& rel, const std::string& sha, bool video, const std::string& format,
                   pf::LocalDateTime when, std::optional<int> off, const std::string& source) {
    pf::PlanFile f;
    f.kind = pf::PlanFile::Kind::Media;
    f.key = pf::inbox_companion_key(rel);
    f.name = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    f.sha256 = sha;
    f.video = video;
    f.format = format;
    f.captured = when;
    f.utc_offset_minutes = off;
    f.date_source = source;
    return f;
}

pf::PlanFile sidecar(const std::string& rel, const std::string& sha, bool may_wait = false) {
    pf::PlanFile f;
    f.kind = pf::PlanFile::Kind::Sidecar;
    f.key = pf::inbox_companion_key(rel);
    f.name = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    f.sha256 = sha;
    f.may_wait = may_wait;
    return f;
}

pf::PlanInput input(std::vector<pf::PlanFile> files) {
    pf::PlanInput in;
    in.files = std::move(files);
    for (size_t i = 0; i < in.files.size(); i++) in.new_ids.push_back("id" + std::to_string(i));
    in.today = "2026-11-25";
    return in;
}

using O = pf::PlanDecision::Outcome;

}  // namespace

TEST(Companions, NamesSplitIntoStemAndTail) {
    auto p = pf::split_name("IMG_1234.HEIC", false);
    EXPECT_EQ(p.stem, "IMG_1234");
    EXPECT_EQ(p.tail, ".HEIC");
    p = pf::split_name("IMG_1234.HEIC.xmp", true);
    EXPECT_EQ(p.stem, "IMG_1234");
    EXPECT_EQ(p.tail, ".HEIC.xmp");
    p = pf::split_name("IMG_1234.HEIC.supplemental-metadata.json", true);
    EXPECT_EQ(p.stem, "IMG_1234");
    p = pf::split_name("2024.05.01 beach.jpg", false);
    EXPECT_EQ(p.stem, "2024.05.01 beach");
    EXPECT_EQ(pf::split_name("IMG_O1234.AAE", true).key_stem, "IMG_1234");
    EXPECT_EQ(pf::split_name("IMG_E1234.HEIC", false).key_stem, "IMG_1234");
    EXPECT_EQ(pf::split_name("IMG_E12X4.HEIC", false).key_stem, "IMG_E12X4");
}

TEST(Companions, KeysIgnoreCaseAndExtensionButNotFolder) {
    EXPECT_EQ(pf::companion_key("DCIM/IMG_1.HEIC", false), pf::companion_key("dcim/img_1.mov", false));
    EXPECT_EQ(pf::companion_key("DCIM/IMG_1.HEIC", false), pf::companion_key("DCIM/IMG_1.HEIC.xmp", true));
    EXPECT_NE(pf::companion_key("A/IMG_1.HEIC", false), pf::companion_key("B/IMG_1.MOV", false));
    EXPECT_EQ(pf::sidecar_kind("x.XMP"), pf::SidecarKind::Xmp);
    EXPECT_EQ(pf::sidecar_kind("IMG_1.AAE"), pf::SidecarKind::Aae);
    EXPECT_EQ(pf::sidecar_kind("IMG_1.jpg"), pf::SidecarKind::None);
    EXPECT_EQ(pf::syncthing_final_name(".syncthing.IMG_1.HEIC.tmp"), "IMG_1.HEIC");
    EXPECT_EQ(pf::syncthing_final_name("~syncthing~IMG_1.MOV.tmp"), "IMG_1.MOV");
    EXPECT_EQ(pf::syncthing_final_name("IMG_1.tmp"), "");
    EXPECT_LT(pf::leader_rank(false, "dng"), pf::leader_rank(false, "jpeg"));
    EXPECT_LT(pf::leader_rank(false, "heic"), pf::leader_rank(true, "mov"));
}

TEST(Companions, PlanNamesAvoidCaseInsensitiveCollisionsAndKeepGroupsTogether) {
    pf::test::TempDir st;
    st.write("Originals/2024/2024-01-01/img_1.heic", "x");  // lower case on disk
    int fd = st.open_dir();
    std::vector<pf::NameRequest> reqs = {
        {"Originals/2024/2024-01-01", "IMG_1", ".HEIC", "", 0},
        {"Originals/2024/2024-01-01", "IMG_1", ".MOV", "", 0},
        {"Originals/2024/2024-01-01", "IMG_2", ".JPG", "", -1},
        {"Originals/2024/2024-01-01", "IMG_2", ".jpg", "", -1},
    };
    auto names = pf::plan_names(fd, {"Originals/2024/2024-01-01/IMG_1~1.mov"}, reqs);
    close(fd);
    // ~1 is taken for the MOV (in flight), so the whole group moves to ~2.
    EXPECT_EQ(names[0], "Originals/2024/2024-01-01/IMG_1~2.HEIC");
    EXPECT_EQ(names[1], "Originals/2024/2024-01-01/IMG_1~2.MOV");
    EXPECT_EQ(names[2], "Originals/2024/2024-01-01/IMG_2.JPG");
    EXPECT_EQ(names[3], "Originals/2024/2024-01-01/IMG_2~1.jpg");
}

TEST(BatchPlan, LivePhotoTravelsWithItsStillAcrossMidnightAndTakesItsOffset) {
    pf::test::TempDir st;
    int fd = st.open_dir();
    // Still at 23:59:58 local (+02:00); the video's mvhd says 21:59:59 UTC, read
    // with a default zone of UTC: 2024-06-01 21:59:59 (+00:00).
    auto in = input({
        media("DCIM/IMG_0001.MOV", "v", true, "mov", at(2024, 6, 1, 21, 59), 0, "video_utc"),
        media("DCIM/IMG_0001.HEIC", "s", false, "heic", at(2024, 6, 1, 23, 59), 120, "exif_original"),
        sidecar("DCIM/IMG_0001.AAE", "a"),
    });
    auto d = pf::plan_batch(fd, in);
    close(fd);
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[1].outcome, O::Ingested);
    EXPECT_EQ(d[1].dest_rel, "Originals/2024/2024-06-01/IMG_0001.HEIC");
    EXPECT_TRUE(d[1].companion_of.empty());
    EXPECT_EQ(d[0].outcome, O::Ingested);
    EXPECT_EQ(d[0].companion_of, "id1");
    EXPECT_EQ(d[0].dest_rel, "Originals/2024/2024-06-01/IMG_0001.MOV");
    ASSERT_TRUE(d[0].captured.has_value());
    EXPECT_EQ(d[0].captured->hour, 23);
    EXPECT_EQ(d[0].utc_offset_minutes, 120);
    EXPECT_EQ(d[2].outcome, O::Sidecar);
    EXPECT_EQ(d[2].asset_id, "id1");
    EXPECT_EQ(d[2].dest_rel, "Originals/2024/2024-06-01/IMG_0001.AAE");
}

TEST(BatchPlan, RawLeadsItsJpegAndTheGroupSharesOneSuffix) {
    pf::test::TempDir st;
    st.write("Originals/2023/2023-03-03/DSC_1.jpg", "older");
    int fd = st.open_dir();
    auto in = input({
        media("DSC_1.JPG", "j", false, "jpeg", at(2023, 3, 3, 10, 0), std::nullopt, "exif_original"),
        media("DSC_1.NEF", "r", false, "nef", at(2023, 3, 3, 10, 0), std::nullopt, "exif_original"),
        sidecar("DSC_1.NEF.xmp", "x"),
    });
    auto d = pf::plan_batch(fd, in);
    close(fd);
    EXPECT_EQ(d[1].companion_of, "");
    EXPECT_EQ(d[0].companion_of, "id1");
    EXPECT_EQ(d[0].dest_rel, "Originals/2023/2023-03-03/DSC_1~1.JPG");
    EXPECT_EQ(d[1].dest_rel, "Originals/2023/2023-03-03/DSC_1~1.NEF");
    EXPECT_EQ(d[2].dest_rel, "Originals/2023/2023-03-03/DSC_1~1.NEF.xmp");
}

TEST(BatchPlan, LateCompanionJoinsItsStoredAnchorOnlyWhenCapturedClose) {
    pf::test::TempDir st;
    int fd = st.open_dir();
    pf::Anchor a;
    a.key = pf::companion_key("DCIM/IMG_0002.HEIC", false);
    a.asset_id = "anchor";
    a.dir = "Originals/2024/2024-06-01";
    a.stem = "IMG_0002";
    a.suffix = "~1";
    a.captured = at(2024, 6, 1, 23, 59);
    a.utc_offset_minutes = 120;
    a.date_source = "exif_original";
    auto in = input({media("DCIM/IMG_0002.MOV", "v", true, "mov", at(2024, 6, 2, 0, 1), 0, "video_utc"),
                     sidecar("DCIM/IMG_0002.HEIC.xmp", "x")});
    in.anchors.push_back(a);
    auto d = pf::plan_batch(fd, in);
    EXPECT_EQ(d[0].companion_of, "anchor");
    EXPECT_EQ(d[0].dest_rel, "Originals/2024/2024-06-01/IMG_0002~1.MOV");
    EXPECT_EQ(d[1].outcome, O::Sidecar);
    EXPECT_EQ(d[1].asset_id, "anchor");
    EXPECT_EQ(d[1].dest_rel, "Originals/2024/2024-06-01/IMG_0002~1.HEIC.xmp");

    // Two years later the phone's counter is back at IMG_0002: not a companion.
    auto later = input({media("DCIM/IMG_0002.MOV", "w", true, "mov", at(2026, 6, 2, 0, 1), 0, "video_utc")});
    later.anchors.push_back(a);
    d = pf::plan_batch(fd, later);
    close(fd);
    EXPECT_EQ(d[0].companion_of, "");
    EXPECT_EQ(d[0].dest_rel, "Originals/2026/2026-06-02/IMG_0002.MOV");
}

TEST(BatchPlan, DuplicatesLonelySidecarsAndRejects) {
    pf::test::TempDir st;
    int fd = st.open_dir();
    auto in = input({
        media("a/IMG_3.JPG", "same", false, "jpeg", at(2022, 2, 2, 2, 2), std::nullopt, "exif_original"),
        media("b/IMG_3 copy.JPG", "same", false, "jpeg", at(2022, 2, 2, 2, 2), std::nullopt, "exif_original"),
        media("c/IMG_4.JPG", "old", false, "jpeg", at(2022, 2, 2, 2, 2), std::nullopt, "exif_original"),
        sidecar("d/IMG_9.xmp", "s1", true),
        sidecar("d/IMG_8.xmp", "s2", false),
    });
    in.known.push_back({"old", "stored"});
    pf::PlanFile bad;
    bad.kind = pf::PlanFile::Kind::Reject;
    bad.key = pf::inbox_companion_key("notes.txt");
    bad.name = "notes.txt";
    in.files.push_back(bad);
    in.new_ids.push_back("id5");
    auto d = pf::plan_batch(fd, in);
    close(fd);
    EXPECT_EQ(d[0].outcome, O::Ingested);
    EXPECT_EQ(d[1].outcome, O::Duplicate);
    EXPECT_EQ(d[1].asset_id, "id0");
    EXPECT_EQ(d[1].dest_rel, "Duplicates/2022/2022-02-02/IMG_3 copy.JPG");
    EXPECT_EQ(d[2].outcome, O::Duplicate);
    EXPECT_EQ(d[2].asset_id, "stored");
    EXPECT_EQ(d[3].outcome, O::Wait);
    EXPECT_EQ(d[4].outcome, O::Rejected);
    EXPECT_EQ(d[4].dest_rel, "Rejected/2026-11-25/IMG_8.xmp");
    EXPECT_EQ(d[5].outcome, O::Rejected);
    EXPECT_EQ(d[5].dest_rel, "Rejected/2026-11-25/notes.txt");
}

// The anchor a stored asset makes: derived from its final path below the
// library (folder, stem as received, the collision suffix its name got).
TEST(BatchPlan, AnchorFromStoredAssetTakesFolderStemAndSuffixFromItsPath) {
    pf::StoredAsset s;
    s.key = "k";
    s.asset_id = "a1";
    s.final_path = "/lib/Originals/2024/2024-06-01/IMG_0002~1.HEIC";
    s.original_name = "IMG_0002.HEIC";
    s.captured_at = "2024-06-01 23:59:00";
    s.utc_offset_minutes = 120;
    s.date_source = "exif_original";
    auto a = pf::anchor_from_stored("/lib", s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->key, "k");
    EXPECT_EQ(a->asset_id, "a1");
    EXPECT_EQ(a->dir, "Originals/2024/2024-06-01");
    EXPECT_EQ(a->stem, "IMG_0002");
    EXPECT_EQ(a->suffix, "~1");
    EXPECT_EQ(a->captured.year, 2024);
    EXPECT_EQ(a->captured.hour, 23);
    EXPECT_EQ(a->utc_offset_minutes, 120);
    EXPECT_EQ(a->date_source, "exif_original");

    // Renamed by the sanitiser (no common stem): no suffix.
    s.original_name = "other.HEIC";
    EXPECT_EQ(pf::anchor_from_stored("/lib", s)->suffix, "");
    // Stored elsewhere (another library, a prefix that is not a folder) or undated: no anchor.
    EXPECT_FALSE(pf::anchor_from_stored("/elsewhere", s).has_value());
    EXPECT_FALSE(pf::anchor_from_stored("/li", s).has_value());
    s.captured_at = "";
    EXPECT_FALSE(pf::anchor_from_stored("/lib", s).has_value());
    s.captured_at = "not a date";
    EXPECT_FALSE(pf::anchor_from_stored("/lib", s).has_value());
}
