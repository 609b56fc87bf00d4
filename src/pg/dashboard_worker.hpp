// The dashboard service: one worker serving HTTP from one thread with one
// event loop (libmicrohttpd in external-epoll mode; its epoll descriptor is
// waited on together with the worker's latch in a WaitEventSet).
#pragma once

namespace pf::pg {

// photofactory.dashboard_* settings; called from define_gucs().
void define_dashboard_gucs();

// 1 while photofactory.dashboard_listen is set: the supervisor's count.
extern int g_dashboard_workers;

// Its entry in the worker template's registry (an event loop of its own).
struct ServiceDef;
extern const ServiceDef kDashboardService;

}  // namespace pf::pg
