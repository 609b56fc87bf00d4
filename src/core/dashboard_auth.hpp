// Who may see and change what through the dashboard.
//  - photofactory.dashboard_auth holds a token, or "sha256:<hex>" of one (so
//    postgresql.auto.conf need not hold it in clear). A client presents it as
//    `Authorization: Bearer TOKEN` or as the password of HTTP Basic auth (any
//    user name), which browsers prompt for.
//  - Write actions also carry a CSRF token: HMAC-SHA256 of the action with a
//    secret drawn when the worker starts, compared in constant time.
#pragma once

#include "core/core_guard.hpp"

#include <string>
#include <string_view>

namespace pf::dash {

// Does `presented` match the configured setting? False when either is empty.
bool token_matches(std::string_view setting, std::string_view presented);

// Is the setting well-formed (empty, or a token of >= 16 characters, or
// sha256: plus 64 hex digits)? Else `why` says what is wrong.
bool auth_setting_valid(std::string_view setting, std::string& why);

// Is the listen address a loopback one ("127.x.y.z:port", "[::1]:port",
// "localhost:port")?
bool is_loopback_listen(std::string_view listen);

// Splits "host:port" / "[v6]:port"; false when malformed.
bool split_listen(std::string_view listen, std::string& host, int& port);

class CsrfKey {
public:
    CsrfKey();  // 32 random bytes (OpenSSL RAND_bytes); throws pf::Error on failure
    std::string token(std::string_view action) const;  // 64 hex digits
    bool check(std::string_view action, std::string_view presented) const;

private:
    unsigned char key_[32];
};

}  // namespace pf::dash
