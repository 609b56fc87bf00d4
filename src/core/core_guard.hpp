// Included first by every core header. A core translation unit (compiled with
// PF_BUILDING_CORE, set by both build systems for src/core/*.cpp) must never
// see PostgreSQL's headers: their macros and longjmp-based errors stay in src/pg.
#pragma once
#if defined(PF_BUILDING_CORE) && (defined(PG_VERSION_NUM) || defined(POSTGRES_H))
#error "src/core must not include PostgreSQL headers"
#endif
