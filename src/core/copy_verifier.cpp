#include "core/copy_verifier.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "core/imaging_runtime.hpp"
#include "core/storage_read.hpp"

namespace pf {

CopyVerifier::~CopyVerifier() {
    {
        std::lock_guard<std::mutex> g(m_);
        closing_ = abandon_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void CopyVerifier::submit(std::size_t key, UniqueFd fd, const std::string& sha256, const std::string& what) {
    std::unique_ptr<PendingWrite> f(new PendingWrite);
    f->fd = std::move(fd);
    submit(key, std::move(f), sha256, what);
}

void CopyVerifier::submit(std::size_t key, std::unique_ptr<PendingWrite> file, const std::string& sha256,
                          const std::string& what) {
    {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [&] { return queue_.size() < kMaxQueued || !thread_.joinable() || gone_; });
        queue_.push_back(Job{key, std::move(file), sha256, what});
    }
    cv_.notify_all();
    if (!thread_.joinable()) {
        SignalsBlocked blocked;  // inherited by the thread: backend signals never land there
        thread_ = std::thread([this] { run(); });
    }
}

std::map<std::size_t, CopyVerifier::Outcome> CopyVerifier::finish() {
    {
        std::lock_guard<std::mutex> g(m_);
        closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::map<std::size_t, Outcome> out;
    out.swap(done_);
    closing_ = gone_ = false;
    return out;
}

void CopyVerifier::run() {
    for (;;) {
        Job j;
        {
            std::unique_lock<std::mutex> g(m_);
            cv_.wait(g, [&] { return abandon_ || closing_ || !queue_.empty(); });
            if (abandon_ || queue_.empty()) {
                gone_ = true;
                cv_.notify_all();
                return;
            }
            j = std::move(queue_.front());
            queue_.pop_front();
        }
        cv_.notify_all();  // room in the queue
        Outcome o = verify(j);
        std::lock_guard<std::mutex> g(m_);
        try {
            done_[j.key] = std::move(o);
        } catch (...) {
            gone_ = true;  // no outcome for this key: finish() reports it as not verified
            cv_.notify_all();
            return;
        }
    }
}

CopyVerifier::Outcome CopyVerifier::verify(Job& j) {
    Outcome o;
    try {
        PendingWrite& f = *j.file;
        if (f.writer) {
            try {
                f.writer->finish();
            } catch (const IoError& e) {
                o.err = e.err != 0 ? e.err : EIO;
                o.message = "writing the copy of " + j.what + ": " + e.what();
                return o;
            }
            f.writer.reset();
            fchmod(f.fd.fd, f.mode);
            futimens(f.fd.fd, f.times);
        }
        if (fsync(f.fd.fd) != 0) {
            o.err = errno;
            o.message = "fsync of the copy of " + j.what + ": " + std::strerror(o.err);
            return o;
        }
        std::string back = hash_from_storage(f.fd.fd).hex;
        if (back != j.sha) {
            o.err = EIO;
            o.message = "the copy of " + j.what + " reads back as " + back + " instead of " + j.sha;
            return o;
        }
        o.ok = true;
    } catch (const IoError& e) {
        o.err = e.err != 0 ? e.err : EIO;
        o.message = std::string("verifying the copy of ") + j.what + ": " + e.what();
    } catch (const std::exception& e) {
        o.err = EIO;
        o.message = std::string("verifying the copy of ") + j.what + ": " + e.what();
    }
    return o;
}

}  // namespace pf
