// pf::IngestQueue: the librarian's scheduling (settling, companion groups,
// Syncthing temporaries, failures, claims, batches, several librarians).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/companions.hpp"
#include "core/ingest_queue.hpp"

namespace {

constexpr time_t kNow = 1'700'000'000;

struct timespec at(time_t s) { return timespec{s, 0}; }

// An entry last changed `age` seconds before kNow.
pf::InboxEntry file(const std::string& rel, double age, off_t size = 1000,
                    pf::NameVerdict verdict = pf::NameVerdict::Candidate) {
    pf::InboxEntry e;
    e.rel_path = rel;
    e.name = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    e.type = pf::EntryType::Regular;
    e.st = {};
    e.st.st_size = size;
    e.st.st_mtim = at(kNow - static_cast<time_t>(age));
    e.st.st_ctim = e.st.st_mtim;
    e.st.st_mtime = e.st.st_mtim.tv_sec;
    e.st.st_ctime = e.st.st_ctim.tv_sec;
    e.verdict = verdict;
    return e;
}

pf::PassSettings settings(double settle = 5, int workers = 1, int index = 0, double sidecar_wait = 0) {
    pf::PassSettings s;
    s.settle_s = settle;
    s.sidecar_wait_s = sidecar_wait;
    s.workers = workers;
    s.index = index;
    return s;
}

std::vector<std::string> names(const pf::IngestQueue& q) {
    std::vector<std::string> out;
    for (const auto& it : q.batch()) out.push_back(q.entry(it.entry).rel_path);
    return out;
}

// Every batch of one pass, as relative paths; reasons alongside.
std::vector<std::vector<std::string>> pass(pf::IngestQueue& q, const pf::PassSettings& s,
                                           std::vector<pf::BatchReason>* reasons = nullptr) {
    q.start_pass(at(kNow), s);
    std::vector<std::vector<std::string>> out;
    pf::BatchReason r;
    while (q.next_batch([] { return false; }, &r)) {
        out.push_back(names(q));
        if (reasons) reasons->push_back(r);
    }
    return out;
}

// Starts a pass and takes its first batch, left in q.batch().
bool first(pf::IngestQueue& q, const pf::PassSettings& s) {
    q.start_pass(at(kNow), s);
    pf::BatchReason r;
    return q.next_batch([] { return false; }, &r);
}

const auto Full = pf::BatchReason::Full;
const auto Bytes = pf::BatchReason::Bytes;
const auto Last = pf::BatchReason::Last;

}  // namespace

TEST(IngestQueue, PathHashIsFnv1a) {
    EXPECT_EQ(pf::path_hash(""), 2166136261u);
    EXPECT_EQ(pf::path_hash("a"), 0xe40c292cu);
}

TEST(IngestQueue, ScanKeepsCandidatesWithCompanionsAdjacent) {
    pf::IngestQueue q;
    q.replace_scan({file("b/IMG_1.JPG", 60), file("a/IMG_9.JPG", 60), file("b/IMG_1.MOV", 60),
                    file("b/.hidden.jpg", 60, 10, pf::NameVerdict::Hidden)});
    ASSERT_EQ(q.size(), 3u);
    EXPECT_EQ(q.key(0), pf::inbox_companion_key("a/IMG_9.JPG"));
    EXPECT_EQ(q.key(1), q.key(2));  // IMG_1.JPG and IMG_1.MOV travel together
    auto batches = pass(q, settings());
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0], (std::vector<std::string>{"a/IMG_9.JPG", "b/IMG_1.JPG", "b/IMG_1.MOV"}));
}

TEST(IngestQueue, GroupWaitsUntilEveryMemberHasSettled) {
    pf::IngestQueue q;
    q.replace_scan({file("IMG_1.JPG", 60), file("IMG_1.MOV", 2), file("IMG_2.JPG", 60)});
    auto b = pass(q, settings(5));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"IMG_2.JPG"}));
    EXPECT_EQ(q.settling(), 2);
    auto hint = q.take_settle_hint();
    ASSERT_TRUE(hint.has_value());
    EXPECT_NEAR(*hint, 3.0, 1e-6);  // IMG_1.MOV settles in 3 s
    EXPECT_FALSE(q.take_settle_hint().has_value());

    pf::Backlog bl = q.backlog(at(kNow), 5);
    EXPECT_EQ(bl.ready, 2);
    EXPECT_EQ(bl.settling, 1);
    EXPECT_EQ(bl.stuck, 0);
}

TEST(IngestQueue, SyncthingTemporaryHoldsItsGroupUntilAbandoned) {
    pf::IngestQueue q;
    q.replace_scan({file("d/IMG_1.JPG", 60), file("d/.syncthing.IMG_1.MOV.tmp", 10, 5, pf::NameVerdict::Temporary),
                    file("d/IMG_2.JPG", 60)});
    ASSERT_EQ(q.size(), 2u);  // the temporary is no candidate
    auto b = pass(q, settings(5));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"d/IMG_2.JPG"}));
    EXPECT_EQ(q.settling(), 1);
    EXPECT_NEAR(*q.take_settle_hint(), 5.0, 1e-6);

    // Unchanged for 15 minutes: abandoned, it holds nothing back.
    q.replace_scan({file("d/IMG_1.JPG", 2000), file("d/.syncthing.IMG_1.MOV.tmp", 900, 5, pf::NameVerdict::Temporary)});
    b = pass(q, settings(5));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"d/IMG_1.JPG"}));
}

TEST(IngestQueue, BatchesCloseAtFileCountAndNeverSplitAGroup) {
    pf::QueueLimits lim;
    lim.batch_files = 3;
    pf::IngestQueue q(lim);
    q.replace_scan({file("A.JPG", 60), file("B.JPG", 60), file("B.MOV", 60), file("C.JPG", 60), file("C.MOV", 60),
                    file("C.DNG", 60), file("C.XMP", 60), file("D.JPG", 60)});
    std::vector<pf::BatchReason> why;
    auto b = pass(q, settings(), &why);
    // A, B (2) fit; C (4 members) does not fit after them and is larger than
    // a batch: split only because it is, then D.
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"A.JPG", "B.JPG", "B.MOV"}));
    EXPECT_EQ(b[1].size(), 3u);
    EXPECT_EQ(b[2].size(), 2u);
    EXPECT_EQ(b[2].back(), "D.JPG");
    EXPECT_EQ(why, (std::vector<pf::BatchReason>{Full, Full, Last}));

    // A group that would not fit starts the next batch instead.
    q.replace_scan({file("A.JPG", 60), file("A.MOV", 60), file("B.JPG", 60), file("B.MOV", 60)});
    b = pass(q, settings());
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"A.JPG", "A.MOV"}));
    EXPECT_EQ(b[1], (std::vector<std::string>{"B.JPG", "B.MOV"}));
}

TEST(IngestQueue, BatchClosesAfterTheGroupThatReachesTheByteCap) {
    pf::QueueLimits lim;
    lim.batch_bytes = 1500;
    pf::IngestQueue q(lim);
    q.replace_scan({file("A.JPG", 60, 1000), file("A.MOV", 60, 1000), file("B.JPG", 60, 100), file("C.JPG", 60, 100)});
    std::vector<pf::BatchReason> why;
    auto b = pass(q, settings(), &why);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"A.JPG", "A.MOV"}));
    EXPECT_EQ(b[1], (std::vector<std::string>{"B.JPG", "C.JPG"}));
    EXPECT_EQ(why, (std::vector<pf::BatchReason>{Bytes, Last}));
}

TEST(IngestQueue, FailuresGiveUpAfterMaxAttemptsAndStuckFilesWaitUntilTheyChange) {
    pf::IngestQueue q;
    q.replace_scan({file("bad.jpg", 60)});
    for (int attempt = 1; attempt <= 3; attempt++) {
        ASSERT_TRUE(first(q, settings()));
        EXPECT_EQ(q.batch()[0].give_up, "");
        EXPECT_EQ(q.note_failure(q.batch()[0].entry, "disk said no", false), attempt);
    }
    // The fourth time it goes to Rejected/ with its last error.
    ASSERT_TRUE(first(q, settings()));
    EXPECT_EQ(q.batch()[0].give_up, "failed 3 times, last error: disk said no");
    // Even that failed: left alone, reported stuck.
    q.note_failure(q.batch()[0].entry, "EPERM", true);
    EXPECT_FALSE(first(q, settings()));
    EXPECT_EQ(q.stuck(), 1);
    EXPECT_EQ(q.stuck_list(), "bad.jpg\n");
    EXPECT_EQ(q.backlog(at(kNow), 5).stuck, 1);

    // Changed on disk: a fresh start.
    q.replace_scan({file("bad.jpg", 30, 2000)});
    ASSERT_TRUE(first(q, settings()));
    EXPECT_EQ(q.batch()[0].give_up, "");
    EXPECT_EQ(q.stuck_list(), "");

    // Done with it: forgotten.
    q.note_failure(q.batch()[0].entry, "x", false);
    q.forget_failure("bad.jpg");
    ASSERT_TRUE(first(q, settings()));
    q.note_failure(q.batch()[0].entry, "y", false);
    ASSERT_TRUE(first(q, settings()));
    EXPECT_EQ(q.batch()[0].give_up, "");  // 1 attempt again, not 2
}

TEST(IngestQueue, GiveUpReasonIsCutLikeTheLibrarianAlwaysDid) {
    pf::IngestQueue q;
    q.replace_scan({file("x.jpg", 60)});
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(first(q, settings()));
        q.note_failure(q.batch()[0].entry, std::string(2000, 'e'), false);
    }
    ASSERT_TRUE(first(q, settings()));
    EXPECT_EQ(q.batch()[0].give_up.size(), 699u);
}

TEST(IngestQueue, SidecarWaitIsMeasuredFromTheLastChange) {
    pf::IngestQueue q;
    q.replace_scan({file("IMG_1.xmp", 10), file("IMG_2.xmp", 100)});
    ASSERT_TRUE(first(q, settings(5, 1, 0, 60)));
    ASSERT_EQ(q.batch().size(), 2u);
    EXPECT_TRUE(q.batch()[0].may_wait);
    EXPECT_NEAR(q.batch()[0].wait_left, 50.0, 1e-6);
    EXPECT_FALSE(q.batch()[1].may_wait);
}

TEST(IngestQueue, SeveralLibrariansStartAtAGroupBoundaryAndWrapAround) {
    pf::IngestQueue q;
    q.replace_scan({file("A.JPG", 60), file("B.JPG", 60), file("B.MOV", 60), file("C.JPG", 60)});
    // Librarian 1 of 2 starts near the middle (index 2), which is inside B's
    // group: it moves on to C, then wraps around to A and B.
    auto b = pass(q, settings(5, 2, 1));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], (std::vector<std::string>{"C.JPG", "A.JPG", "B.JPG", "B.MOV"}));
    // Librarian 0 from the start.
    b = pass(q, settings(5, 2, 0));
    EXPECT_EQ(b[0], (std::vector<std::string>{"A.JPG", "B.JPG", "B.MOV", "C.JPG"}));
    // Every file exactly once whatever the librarian.
    for (int index = 0; index < 3; index++) {
        b = pass(q, settings(5, 3, index));
        std::multiset<std::string> seen(b[0].begin(), b[0].end());
        EXPECT_EQ(seen.size(), 4u);
        EXPECT_EQ(std::set<std::string>(b[0].begin(), b[0].end()).size(), 4u);
    }
}

TEST(IngestQueue, StopEndsThePassAndHandsBackWhatWasCollected) {
    pf::IngestQueue q;
    q.replace_scan({file("A.JPG", 60), file("B.JPG", 60), file("C.JPG", 60)});
    q.start_pass(at(kNow), settings());
    int asked = 0;
    pf::BatchReason r;
    ASSERT_TRUE(q.next_batch([&] { return ++asked > 2; }, &r));
    EXPECT_EQ(r, Last);
    EXPECT_EQ(names(q), (std::vector<std::string>{"A.JPG", "B.JPG"}));
    EXPECT_FALSE(q.next_batch([] { return false; }, &r));
}

TEST(IngestQueue, ClaimsOnePerGroupAndKeepsOnlyGrantedGroups) {
    pf::IngestQueue q;
    q.replace_scan({file("A.JPG", 60), file("A.MOV", 60), file("B.JPG", 60), file("C.JPG", 60), file("C.MOV", 60)});
    ASSERT_TRUE(first(q, settings()));
    std::vector<int32_t> claims = q.group_claims();
    ASSERT_EQ(claims.size(), 3u);
    EXPECT_EQ(claims[0], static_cast<int32_t>(pf::path_hash(q.key(0))));
    EXPECT_EQ(claims[2], static_cast<int32_t>(pf::path_hash(q.key(3))));
    q.keep_claimed({true, false, true});
    EXPECT_EQ(names(q), (std::vector<std::string>{"A.JPG", "A.MOV", "C.JPG", "C.MOV"}));
}

TEST(IngestQueue, UnlistedFoldersAreLoggedOnceByOneLibrarian) {
    pf::IngestQueue q0, q1;
    std::vector<std::string> folders = {"a", "b", "c", "d", "e"};
    std::string n0 = q0.note_unlisted(folders, 2, 0), n1 = q1.note_unlisted(folders, 2, 1);
    EXPECT_EQ(n0.size() + n1.size(), std::string("a\nb\nc\nd\ne\n").size());
    EXPECT_EQ(q0.unlisted(), 5u);
    EXPECT_EQ(q0.note_unlisted(folders, 2, 0), "");  // not again
    EXPECT_EQ(q0.note_unlisted({}, 2, 0), "");
    EXPECT_EQ(q0.unlisted(), 0u);
    // Raw names made printable.
    EXPECT_EQ(pf::IngestQueue().note_unlisted({std::string("bad\nname")}, 1, 0).find("bad\nname"), std::string::npos);
}
