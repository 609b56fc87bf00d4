#include "core/io_priority.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace pf {
namespace {

constexpr int kWhoProcess = 1;  // IOPRIO_WHO_PROCESS: with id 0, the calling thread
constexpr int kClassShift = 13;
constexpr int kClassIdle = 3;

int get_prio() { return static_cast<int>(syscall(SYS_ioprio_get, kWhoProcess, 0)); }
bool set_prio(int value) { return syscall(SYS_ioprio_set, kWhoProcess, 0, value) == 0; }

}  // namespace

IdleIoPriority::IdleIoPriority() {
    int old = get_prio();
    if (old >= 0 && set_prio((kClassIdle << kClassShift) | 7)) saved_ = old;
}

IdleIoPriority::~IdleIoPriority() {
    if (saved_ >= 0) set_prio(saved_);
}

int io_priority_class() {
    int p = get_prio();
    return p < 0 ? -1 : p >> kClassShift;
}

}  // namespace pf
