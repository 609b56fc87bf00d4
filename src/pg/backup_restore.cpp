// Restores from backup: the temporaries an interrupted restore left in the
// storage folder are removed once per worker start, and the opt-in automatic
// restore (photofactory.backup_auto_restore) brings back originals found
// missing or corrupt, before the scrub runs.
#include <fcntl.h>
#include <unistd.h>

#include "core/backup_target.hpp"
#include "pg/backup_state.hpp"
#include "pg/gucs.hpp"
#include "pg/pg_headers.hpp"

namespace pf::pg::backup {

int clean_storage() noexcept {
    if (guc_storage_dir == nullptr || guc_storage_dir[0] == '\0') return 0;
    int fd = open(guc_storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    int n = 0;
    try {
        n = pf::remove_backup_temporaries(fd);
    } catch (...) {
    }
    close(fd);
    return n;
}

void auto_restore(void* arg) {
    auto* restored = static_cast<int*>(arg);
    int rc = SPI_execute("SELECT photofactory._backup_auto_restore(10)", false, 0);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "automatic restore failed");
    bool isnull;
    *restored = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

}  // namespace pf::pg::backup
