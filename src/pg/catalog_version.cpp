#include "pg/catalog_version.hpp"

#include <cstdio>
#include <cstring>

#include "core/version_order.hpp"
#include "pg/worker.hpp"

namespace pf::pg {

const char* const kCatalogVersionNeeded = "0.2.0";

namespace {

CatalogState last_state = CatalogState::Ready;  // what this process said last
bool said_anything = false;
char wait_reason[192] = "waiting for CREATE EXTENSION photofactory";

}  // namespace

CatalogState catalog_state(char* version, size_t len) {
    version[0] = '\0';
    // Nested SPI is fine: workers call this with SPI already connected.
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    int rc = SPI_execute(
        "SELECT e.extversion FROM pg_catalog.pg_extension e"
        " WHERE e.extname OPERATOR(pg_catalog.=) 'photofactory'::pg_catalog.name",
        true, 1);
    if (rc != SPI_OK_SELECT) elog(ERROR, "reading pg_extension failed: %s", SPI_result_code_string(rc));
    bool found = SPI_processed == 1;
    if (found) {
        char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        snprintf(version, len, "%s", v ? v : "");
    }
    SPI_finish();
    if (!found) return CatalogState::Missing;
    switch (pf::compare_versions(version, kCatalogVersionNeeded)) {
        case pf::VersionOrder::Older: return CatalogState::Older;
        case pf::VersionOrder::Unknown: return CatalogState::Unknown;
        default: return CatalogState::Ready;
    }
}

bool catalog_ready_for_worker() {
    char version[64];
    CatalogState s = catalog_state(version, sizeof version);
    if (s == CatalogState::Missing)
        snprintf(wait_reason, sizeof wait_reason, "waiting for CREATE EXTENSION photofactory");
    else if (s != CatalogState::Ready)
        snprintf(wait_reason, sizeof wait_reason,
                 "waiting for ALTER EXTENSION photofactory UPDATE (catalog %s, library needs %s)", version,
                 kCatalogVersionNeeded);
    if (said_anything && s == last_state) return s == CatalogState::Ready;

    bool was_waiting = said_anything && (last_state == CatalogState::Older || last_state == CatalogState::Unknown);
    if ((s == CatalogState::Older || s == CatalogState::Unknown) && g_worker.kind == WorkerKind::FactoryDb)
        ereport(WARNING,
                (errmsg("photofactory: database \"%s\" has the photofactory catalog at version %s, but this "
                        "library needs %s; its workers wait and write nothing until it is updated",
                        g_worker.database, version, kCatalogVersionNeeded),
                 errhint("Run ALTER EXTENSION photofactory UPDATE in database \"%s\"; the workers resume "
                         "by themselves, no restart needed.",
                         g_worker.database)));
    else if (s == CatalogState::Ready && was_waiting)
        ereport(LOG, (errmsg("photofactory %s: catalog updated to %s, resuming", g_worker.label, version)));
    last_state = s;
    said_anything = true;
    return s == CatalogState::Ready;
}

const char* catalog_wait_reason() { return wait_reason; }

void require_catalog_version(const char* what) {
    char version[64];
    CatalogState s = catalog_state(version, sizeof version);
    if (s == CatalogState::Ready) return;
    if (s == CatalogState::Missing)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("%s needs the photofactory extension in this database", what),
                        errhint("Run CREATE EXTENSION photofactory.")));
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("%s needs the photofactory %s catalog, but this database has version %s", what,
                           kCatalogVersionNeeded, version),
                    errdetail("The server runs a newer photofactory library than the extension's SQL objects in "
                              "this database."),
                    errhint("Run ALTER EXTENSION photofactory UPDATE.")));
}

}  // namespace pf::pg
