// The Syncthing check's decoding and judgement, on answers shaped as
// Syncthing 1.19 sends them (the e2e suite test/e2e/90_syncthing.sh runs the
// same code against two real Syncthing instances).
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/syncthing_client.hpp"
#include "core/syncthing_decode.hpp"
#include "core/syncthing_verdict.hpp"

using namespace pf::syncthing;

namespace {

const char* kConfig = R"({
  "version": 35,
  "folders": [
    {"id": "phone-photos", "label": "Photos", "path": "/srv/Photos_Inbox/", "type": "receiveonly",
     "devices": [{"deviceID": "SERVER-ID", "introducedBy": ""}, {"deviceID": "PHONE-ID", "introducedBy": ""},
                 {"deviceID": "TABLET-ID", "introducedBy": ""}], "paused": false},
    {"id": "music", "label": "Music", "path": "/srv/Music", "type": "sendreceive",
     "devices": [{"deviceID": "SERVER-ID"}], "paused": false}
  ],
  "devices": [
    {"deviceID": "SERVER-ID", "name": "server", "paused": false},
    {"deviceID": "PHONE-ID", "name": "pixel", "paused": false},
    {"deviceID": "TABLET-ID", "name": "", "paused": false}
  ],
  "gui": {"address": "127.0.0.1:8384"}
})";

Snapshot healthy(int64_t now) {
    Snapshot s;
    decode_system_status(R"({"myID": "SERVER-ID", "uptime": 100})", s);
    decode_config(kConfig, s);
    decode_connections(R"({"total": {}, "connections": {
        "PHONE-ID": {"connected": true, "paused": false, "address": "127.0.0.1:22001"},
        "TABLET-ID": {"connected": false, "paused": false, "address": ""}}})",
                       s);
    s.last_seen = {{"PHONE-ID", now - 10}, {"TABLET-ID", now - 3 * 3600}};
    s.folder_states.resize(s.folders.size());
    s.folders[0].at_inbox = true;
    s.folder_states[0] = decode_folder_status(
        R"({"state": "idle", "error": "", "pullErrors": 0, "needFiles": 0, "needBytes": 0, "globalFiles": 12})");
    return s;
}

VerdictOptions opts(int64_t now) {
    VerdictOptions o;
    o.now = now;
    o.url = "http://127.0.0.1:8384";
    return o;
}

}  // namespace

TEST(SyncthingDecode, ConfigFoldersAndDevices) {
    Snapshot s;
    decode_config(kConfig, s);
    ASSERT_EQ(s.folders.size(), 2u);
    EXPECT_EQ(s.folders[0].label, "Photos");
    EXPECT_EQ(s.folders[0].type, "receiveonly");
    EXPECT_EQ(s.folders[0].devices.size(), 3u);
    ASSERT_EQ(s.devices.size(), 3u);
    EXPECT_EQ(s.devices[1].name, "pixel");
}

TEST(SyncthingDecode, MalformedJsonThrows) {
    Snapshot s;
    EXPECT_THROW(decode_config("{\"folders\": [", s), pf::Error);
    EXPECT_THROW(decode_config("{}", s), pf::Error);
    EXPECT_THROW(decode_system_status("[]", s), pf::Error);
}

TEST(SyncthingDecode, DeviceStatsAndTimes) {
    Snapshot s;
    decode_device_stats(R"({"PHONE-ID": {"lastSeen": "2026-11-30T05:00:00.123456789+01:00", "lastConnectionDurationS": 3},
                           "NEW-ID": {"lastSeen": "1970-01-01T01:00:00+01:00"}})",
                        s);
    ASSERT_EQ(s.last_seen.size(), 2u);
    int64_t phone = 0, fresh = -1;
    for (auto& [id, at] : s.last_seen) (id == "PHONE-ID" ? phone : fresh) = at;
    EXPECT_EQ(phone, parse_rfc3339("2026-11-30T04:00:00Z"));
    EXPECT_EQ(fresh, 0);  // never
    EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339("junk"), 0);
    EXPECT_EQ(parse_rfc3339("2026-11-30T04:00:00"), 0);  // no zone: refuse to guess
    EXPECT_EQ(parse_rfc3339("2026-11-30T04:00:00Z") - parse_rfc3339("2026-11-30T04:00:00-02:00"), -7200);
}

TEST(SyncthingDecode, FolderErrorsAndSystemErrors) {
    FolderState st = decode_folder_status(R"({"state": "error", "error": "folder marker missing", "pullErrors": 2})");
    EXPECT_EQ(st.state, "error");
    EXPECT_EQ(st.pull_errors, 2);
    decode_folder_errors(R"({"folder": "x", "errors": [{"path": "IMG_1.JPG", "error": "permission denied"}], "page": 1})",
                         st);
    ASSERT_EQ(st.file_errors.size(), 1u);
    EXPECT_EQ(st.file_errors[0], "IMG_1.JPG: permission denied");
    Snapshot s;
    decode_system_errors(R"({"errors": [{"when": "2026-11-30T04:00:00Z", "message": "insufficient space on disk", "level": 3}]})", s);
    ASSERT_EQ(s.system_errors.size(), 1u);
    decode_system_errors(R"({"errors": null})", s);
    EXPECT_EQ(s.system_errors.size(), 1u);
}

TEST(SyncthingDecode, InboxPathMatching) {
    EXPECT_TRUE(path_at_or_below("/srv/Photos_Inbox/", "/srv/Photos_Inbox"));
    EXPECT_TRUE(path_at_or_below("/srv//Photos_Inbox/./phone", "/srv/Photos_Inbox/"));
    EXPECT_FALSE(path_at_or_below("/srv/Photos_Inbox2", "/srv/Photos_Inbox"));
    EXPECT_FALSE(path_at_or_below("/srv", "/srv/Photos_Inbox"));
    EXPECT_FALSE(path_at_or_below("/srv/Photos_Inbox/../etc", "/srv/Photos_Inbox"));
    EXPECT_FALSE(path_at_or_below("~/Photos", "/srv/Photos_Inbox"));
    EXPECT_FALSE(path_at_or_below("", "/srv/Photos_Inbox"));
}

TEST(SyncthingVerdict, HealthyFolderIsOkAndSaysWhoIsConnected) {
    int64_t now = 1'800'000'000;
    Verdict v = judge(healthy(now), opts(now));
    EXPECT_EQ(v.status, "OK");
    EXPECT_EQ(v.task, "Syncthing check: folder \"Photos\" up to date, 1 of 2 devices connected, TABLET- last seen 3 h ago");
}

TEST(SyncthingVerdict, StaleDeviceWarns) {
    int64_t now = 1'800'000'000;
    Snapshot s = healthy(now);
    s.last_seen = {{"PHONE-ID", now - 8 * 86400}, {"TABLET-ID", now - 60}};
    s.connected = {"TABLET-ID"};
    Verdict v = judge(s, opts(now));
    EXPECT_EQ(v.status, "WARNING");
    EXPECT_NE(v.task.find("device pixel last seen 8 d ago"), std::string::npos) << v.task;
    VerdictOptions o = opts(now);
    o.device_warn_after_s = 9 * 86400;
    EXPECT_EQ(judge(s, o).status, "OK");
}

TEST(SyncthingVerdict, NeverConnectedAndPausedDevicesWarn) {
    int64_t now = 1'800'000'000;
    Snapshot s = healthy(now);
    s.last_seen = {{"PHONE-ID", now - 10}};
    EXPECT_NE(judge(s, opts(now)).task.find("TABLET- has never connected"), std::string::npos);
    s = healthy(now);
    s.devices[2].paused = true;
    Verdict v = judge(s, opts(now));
    EXPECT_EQ(v.status, "WARNING");
    EXPECT_NE(v.task.find("device TABLET- is paused"), std::string::npos);
}

TEST(SyncthingVerdict, FolderProblemsWarn) {
    int64_t now = 1'800'000'000;
    Snapshot s = healthy(now);
    s.folders[0].paused = true;
    EXPECT_NE(judge(s, opts(now)).task.find("folder \"Photos\" is paused"), std::string::npos);
    s = healthy(now);
    s.folder_states[0].state = "error";
    s.folder_states[0].error = "insufficient free space";
    Verdict v = judge(s, opts(now));
    EXPECT_EQ(v.status, "WARNING");
    EXPECT_NE(v.task.find("has an error: insufficient free space"), std::string::npos);
    s = healthy(now);
    s.folder_states[0].file_errors = {"a.jpg: permission denied"};
    EXPECT_NE(judge(s, opts(now)).task.find("1 file fails to sync (a.jpg: permission denied)"), std::string::npos);
    s = healthy(now);
    s.system_errors = {"insufficient space in folder"};
    EXPECT_EQ(judge(s, opts(now)).status, "WARNING");
}

TEST(SyncthingVerdict, SyncingIsOk) {
    int64_t now = 1'800'000'000;
    Snapshot s = healthy(now);
    s.folder_states[0].state = "syncing";
    s.folder_states[0].need_files = 3;
    s.folder_states[0].need_bytes = 5 * 1024 * 1024;
    Verdict v = judge(s, opts(now));
    EXPECT_EQ(v.status, "OK");
    EXPECT_NE(v.task.find("syncing, 3 files (5.0 MB) to go"), std::string::npos) << v.task;
}

TEST(SyncthingVerdict, Errors) {
    Snapshot s;
    s.failure = Failure::Unreachable;
    s.failure_detail = "Failed to connect to 127.0.0.1 port 8384: Connection refused";
    Verdict v = judge(s, opts(0));
    EXPECT_EQ(v.status, "ERROR");
    EXPECT_NE(v.task.find("unreachable at http://127.0.0.1:8384"), std::string::npos);
    s.failure = Failure::Unauthorized;
    s.failure_detail = "HTTP 403";
    v = judge(s, opts(0));
    EXPECT_NE(v.task.find("refused the API key"), std::string::npos);
    Snapshot none = healthy(1);
    none.folders[0].at_inbox = false;
    v = judge(none, opts(1));
    EXPECT_EQ(v.status, "ERROR");
    EXPECT_NE(v.task.find("no Syncthing folder points at the inbox (2 folders configured)"), std::string::npos);
}

TEST(SyncthingVerdict, LongTasksAreCutOnCharacterBoundaries) {
    int64_t now = 1'800'000'000;
    Snapshot s = healthy(now);
    s.system_errors.assign(40, "Fehler: Speicherplatz ungenügend – ä");
    Verdict v = judge(s, opts(now));
    EXPECT_LE(v.task.size(), 480u);
    EXPECT_EQ(v.task.substr(v.task.size() - 3), "...");
}

TEST(SyncthingConfig, ApiKeyFromConfigXml) {
    EXPECT_EQ(api_key_from_config_text(R"(<configuration version="35"><folder id="x"></folder>
        <gui enabled="true" tls="false"><address>127.0.0.1:8384</address><apikey>abc123XYZ</apikey></gui></configuration>)"),
              "abc123XYZ");
    EXPECT_THROW(api_key_from_config_text("<configuration><gui></gui></configuration>"), pf::Error);
    EXPECT_THROW(api_key_from_config_text("<configuration><gui><apikey>x"), pf::Error);
    // An external entity is neither fetched nor expanded into the key.
    EXPECT_THROW(api_key_from_config_text(R"(<?xml version="1.0"?><!DOCTYPE c [<!ENTITY k SYSTEM "file:///etc/hostname">]>
        <configuration><gui><apikey>&k;</apikey></gui></configuration>)"),
                 pf::Error);
    EXPECT_THROW(api_key_from_config("/nonexistent/config.xml"), pf::IoError);
}
