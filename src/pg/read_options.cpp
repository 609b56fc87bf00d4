#include "pg/read_options.hpp"

#include "pg/gucs.hpp"

namespace pf::pg {

ReadSettings current_read_settings() {
    const pg_tz* zone = capture_zone();
    return ReadSettings{zone, capture_zone_name(zone), max_file_size_bytes()};
}

}  // namespace pf::pg
