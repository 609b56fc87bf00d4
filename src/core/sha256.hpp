// Streaming SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA
// extensions (about 4x coreutils' sha256sum on these machines).
#pragma once

#include "core/core_guard.hpp"

#include <cstddef>
#include <string>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace pf {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&& other) noexcept;
    Sha256& operator=(Sha256&& other) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n);
    std::string hex_digest();  // 64 lower-case hex digits; the object is spent afterwards

private:
    EVP_MD_CTX* ctx_;
};

// Hashes a whole open file from offset 0 with pread (used to verify copies).
// cancelled (may be null) is polled between 1 MB reads; true throws Cancelled.
std::string sha256_file_fd(int fd, bool (*cancelled)(void*) = nullptr, void* cancel_ctx = nullptr);

}  // namespace pf
