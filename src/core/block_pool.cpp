#include "core/block_pool.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace pf {
namespace {

// Enough for the busiest user (the copy, the verifier's read-ahead and a
// scrub at once); more than that is freed.
constexpr std::size_t kKeep = 32;

struct Pool {
    std::mutex m;
    std::vector<unsigned char*> idle;
};

// Never destroyed: a block may come back from a thread still running at exit.
Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

}  // namespace

PooledBlock::PooledBlock() : p_(nullptr) {
    {
        Pool& pl = pool();
        std::lock_guard<std::mutex> g(pl.m);
        if (!pl.idle.empty()) {
            p_ = pl.idle.back();
            pl.idle.pop_back();
            return;
        }
    }
    void* v = nullptr;
    if (posix_memalign(&v, kPoolAlign, kPoolBlock) != 0) throw std::bad_alloc();
    p_ = static_cast<unsigned char*>(v);
}

PooledBlock::~PooledBlock() {
    Pool& pl = pool();
    {
        std::lock_guard<std::mutex> g(pl.m);
        if (pl.idle.size() < kKeep) {
            try {
                pl.idle.push_back(p_);
                return;
            } catch (...) {
                // no room to remember it: freed below
            }
        }
    }
    std::free(p_);
}

std::size_t pooled_blocks_idle() {
    Pool& pl = pool();
    std::lock_guard<std::mutex> g(pl.m);
    return pl.idle.size();
}

}  // namespace pf

namespace pf {

void release_idle_blocks() noexcept {
    std::vector<unsigned char*> idle;
    try {
        Pool& pl = pool();
        std::lock_guard<std::mutex> g(pl.m);
        idle.swap(pl.idle);
    } catch (...) {
        return;  // kept: freed another time
    }
    for (unsigned char* p : idle) std::free(p);
}

}  // namespace pf
