#include "core/dashboard_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/errors.hpp"

namespace pf::dash {
namespace {

std::string hex(const unsigned char* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out += d[p[i] >> 4];
        out += d[p[i] & 15];
    }
    return out;
}

std::string sha256_hex(std::string_view s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr) != 1) throw Error("SHA-256 failed");
    return hex(md, len);
}

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

bool token_matches(std::string_view setting, std::string_view presented) {
    if (setting.empty() || presented.empty()) return false;
    constexpr std::string_view prefix = "sha256:";
    // Both sides hashed: the comparison takes the same time whatever matches.
    std::string want = setting.substr(0, prefix.size()) == prefix ? std::string(setting.substr(prefix.size()))
                                                                  : sha256_hex(setting);
    return same(want, sha256_hex(presented));
}

bool auth_setting_valid(std::string_view s, std::string& why) {
    if (s.empty()) return true;
    constexpr std::string_view prefix = "sha256:";
    if (s.substr(0, prefix.size()) == prefix) {
        if (is_hex64(s.substr(prefix.size()))) return true;
        why = "sha256: must be followed by 64 lower-case hex digits (e.g. printf %s TOKEN | sha256sum)";
        return false;
    }
    if (s.size() < 16) {
        why = "a token must have at least 16 characters (e.g. openssl rand -hex 16)";
        return false;
    }
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7F) {
            why = "a token must not contain spaces or control characters";
            return false;
        }
    return true;
}

bool split_listen(std::string_view l, std::string& host, int& port) {
    size_t colon;
    if (!l.empty() && l[0] == '[') {
        size_t close = l.find(']');
        if (close == std::string_view::npos || close + 1 >= l.size() || l[close + 1] != ':') return false;
        host = std::string(l.substr(1, close - 1));
        colon = close + 1;
    } else {
        colon = l.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        host = std::string(l.substr(0, colon));
        if (host.find(':') != std::string::npos) return false;
    }
    std::string_view p = l.substr(colon + 1);
    if (p.empty() || p.size() > 5) return false;
    port = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        port = port * 10 + (c - '0');
    }
    return port >= 1 && port <= 65535 && !host.empty();
}

bool is_loopback_listen(std::string_view l) {
    std::string host;
    int port;
    if (!split_listen(l, host, port)) return false;
    if (host == "localhost" || host == "::1") return true;
    // 127.0.0.0/8 in dotted form
    if (host.rfind("127.", 0) != 0) return false;
    int dots = 0;
    for (char c : host) {
        if (c == '.') dots++;
        else if (c < '0' || c > '9') return false;
    }
    return dots == 3;
}

CsrfKey::CsrfKey() {
    if (RAND_bytes(key_, sizeof key_) != 1) throw Error("no random bytes for the CSRF key");
}

std::string CsrfKey::token(std::string_view action) const {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key_, sizeof key_, reinterpret_cast<const unsigned char*>(action.data()), action.size(),
             md, &len) == nullptr)
        throw Error("HMAC failed");
    return hex(md, len);
}

bool CsrfKey::check(std::string_view action, std::string_view presented) const {
    return same(token(action), presented);
}

}  // namespace pf::dash
