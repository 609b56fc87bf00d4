#include "core/sha256.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "core/errors.hpp"

namespace pf {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw Error("OpenSSL: cannot initialise SHA-256");
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
    if (this != &other) {
        EVP_MD_CTX_free(ctx_);
        ctx_ = std::exchange(other.ctx_, nullptr);
    }
    return *this;
}

void Sha256::update(const void* data, size_t n) {
    if (n > 0 && EVP_DigestUpdate(ctx_, data, n) != 1) throw Error("OpenSSL: SHA-256 update failed");
}

std::string Sha256::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) throw Error("OpenSSL: SHA-256 final failed");
    static const char* hex = "0123456789abcdef";
    std::string out(len * 2, '0');
    for (unsigned int i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xF];
    }
    return out;
}

std::string sha256_file_fd(int fd, bool (*cancelled)(void*), void* cancel_ctx) {
    Sha256 h;
    std::vector<unsigned char> buf(1 << 20);
    off_t off = 0;
    for (;;) {
        if (cancelled != nullptr && cancelled(cancel_ctx)) throw Cancelled();
        ssize_t n = pread(fd, buf.data(), buf.size(), off);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError("reading for SHA-256", errno);
        }
        if (n == 0) break;
        h.update(buf.data(), static_cast<size_t>(n));
        off += n;
    }
    return h.hex_digest();
}

}  // namespace pf
