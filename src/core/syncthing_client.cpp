#include "core/syncthing_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/errors.hpp"
#include "core/syncthing_decode.hpp"

namespace pf::syncthing {
namespace {

constexpr size_t kMaxAnswer = 8u << 20;   // a config of thousands of folders is still < 8 MB
constexpr size_t kMaxConfigXml = 4u << 20;

// Blocks every signal for the lifetime of the object: threads libcurl starts
// (threaded resolver) inherit the mask and can never take a signal meant for
// the PostgreSQL process.
class SignalsBlocked {
public:
    SignalsBlocked() {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved_);
    }
    ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
    SignalsBlocked(const SignalsBlocked&) = delete;
    SignalsBlocked& operator=(const SignalsBlocked&) = delete;

private:
    sigset_t saved_;
};

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t collect(char* data, size_t size, size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    size_t bytes = size * n;
    if (out->size() + bytes > kMaxAnswer) return 0;  // aborts the transfer
    out->append(data, bytes);
    return bytes;
}

struct Answer {
    Failure failure = Failure::None;
    std::string detail;
    std::string body;
};

class Session {
public:
    explicit Session(const ClientOptions& opt) : opt_(opt) {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        curl_.reset(curl_easy_init());
        if (!curl_) throw Error("libcurl could not create a handle");
        std::string header = "X-API-Key: " + opt.api_key;
        curl_slist* h = curl_slist_append(nullptr, header.c_str());
        if (h == nullptr) throw std::bad_alloc();
        headers_.reset(h);
    }

    Answer get(const std::string& path) {
        Answer a;
        std::string url = opt_.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += path;
        CURL* c = curl_.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_.get());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opt_.timeout_ms);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opt_.timeout_ms);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxAnswer));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        CURLcode rc;
        {
            SignalsBlocked blocked;
            rc = curl_easy_perform(c);
        }
        if (rc != CURLE_OK) {
            a.failure = Failure::Unreachable;
            a.detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
            return a;
        }
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code == 401 || code == 403) {
            a.failure = Failure::Unauthorized;
            a.detail = "HTTP " + std::to_string(code);
        } else if (code != 200) {
            a.failure = Failure::BadResponse;
            a.detail = "HTTP " + std::to_string(code) + " on " + path;
        }
        return a;
    }

    std::string escape(const std::string& s) {
        char* e = curl_easy_escape(curl_.get(), s.c_str(), static_cast<int>(s.size()));
        if (e == nullptr) throw std::bad_alloc();
        std::string out(e);
        curl_free(e);
        return out;
    }

private:
    const ClientOptions& opt_;
    std::unique_ptr<CURL, CurlDeleter> curl_;
    std::unique_ptr<curl_slist, SlistDeleter> headers_;
};

// Same directory by identity, for folders configured through a symlink or
// another spelling of the inbox path. Read-only stat of a path Syncthing's
// owner configured: nothing is opened or changed.
bool same_directory(const std::string& a, const std::string& b) {
    struct stat sa, sb;
    return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && S_ISDIR(sa.st_mode) &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

Snapshot fetch_snapshot(const ClientOptions& opt) {
    Snapshot s;
    Session http(opt);
    // Each step: a transport or HTTP failure stops the round and says where.
    auto step = [&](const std::string& path, auto&& decode) {
        if (s.failure != Failure::None) return;
        Answer a = http.get(path);
        if (a.failure != Failure::None) {
            s.failure = a.failure;
            s.failure_detail = a.detail;
            return;
        }
        try {
            decode(a.body);
        } catch (const Error& e) {
            s.failure = Failure::BadResponse;
            s.failure_detail = e.what();
        }
    };
    step("/rest/system/status", [&](const std::string& b) { decode_system_status(b, s); });
    step("/rest/config", [&](const std::string& b) { decode_config(b, s); });
    step("/rest/system/connections", [&](const std::string& b) { decode_connections(b, s); });
    step("/rest/stats/device", [&](const std::string& b) { decode_device_stats(b, s); });
    step("/rest/system/error", [&](const std::string& b) { decode_system_errors(b, s); });
    s.folder_states.resize(s.folders.size());
    for (size_t i = 0; i < s.folders.size() && s.failure == Failure::None; i++) {
        Folder& f = s.folders[i];
        f.at_inbox = path_at_or_below(f.path, opt.inbox_path) || same_directory(f.path, opt.inbox_path);
        if (!f.at_inbox) continue;
        std::string q = "?folder=" + http.escape(f.id);
        step("/rest/db/status" + q, [&](const std::string& b) { s.folder_states[i] = decode_folder_status(b); });
        step("/rest/folder/errors" + q, [&](const std::string& b) { decode_folder_errors(b, s.folder_states[i]); });
    }
    return s;
}

std::string api_key_from_config_text(const std::string& xml) {
    if (xml.size() > kMaxConfigXml) throw Error("Syncthing config.xml is larger than 4 MB");
    std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "config.xml", nullptr,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
        xmlFreeDoc);
    if (!doc) throw Error("Syncthing config.xml is not well-formed XML");
    xmlNode* root = xmlDocGetRootElement(doc.get());
    if (root == nullptr || xmlStrcmp(root->name, BAD_CAST "configuration") != 0)
        throw Error("Syncthing config.xml has no <configuration> element");
    for (xmlNode* gui = root->children; gui != nullptr; gui = gui->next) {
        if (gui->type != XML_ELEMENT_NODE || xmlStrcmp(gui->name, BAD_CAST "gui") != 0) continue;
        for (xmlNode* k = gui->children; k != nullptr; k = k->next) {
            if (k->type != XML_ELEMENT_NODE || xmlStrcmp(k->name, BAD_CAST "apikey") != 0) continue;
            std::unique_ptr<xmlChar, void (*)(void*)> text(xmlNodeGetContent(k), xmlFree);
            std::string key = text ? reinterpret_cast<const char*>(text.get()) : "";
            if (!key.empty()) return key;
        }
    }
    throw Error("Syncthing config.xml holds no <gui><apikey>");
}

std::string api_key_from_config(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) throw IoError("cannot open Syncthing config " + path, errno);
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            throw IoError("cannot read Syncthing config " + path, e);
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > kMaxConfigXml) break;
    }
    close(fd);
    return api_key_from_config_text(text);
}

}  // namespace pf::syncthing
