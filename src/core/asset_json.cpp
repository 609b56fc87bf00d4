#include "core/asset_json.hpp"

#include "core/json_writer.hpp"

namespace pf {

std::string asset_facts_json(const AssetFacts& f, const std::string& destination) {
    JsonObject o;
    o.add("sha256", f.sha256);
    o.add("size_bytes", static_cast<int64_t>(f.size_bytes));
    o.add("media_kind", f.type.kind == MediaKind::Video ? "video" : "image");
    o.add("media_format", f.type.format);
    o.add("captured_at", format_sql_timestamp(f.captured));
    if (f.utc_offset_minutes)
        o.add("utc_offset_minutes", static_cast<int64_t>(*f.utc_offset_minutes));
    else
        o.add_null("utc_offset_minutes");
    o.add("date_source", f.date_source);
    if (f.utc_epoch)
        o.add("utc_epoch", *f.utc_epoch);
    else
        o.add_null("utc_epoch");
    // "gps:Europe/Berlin", "default:Europe/Paris", "file" (the media_assets.time_zone column) or null
    if (f.zone_source.empty())
        o.add_null("time_zone");
    else
        o.add("time_zone", time_zone_label(f));
    o.add("motion_photo", f.motion_photo);
    if (f.location) {
        JsonObject loc;
        loc.add("lat", f.location->lat).add("lon", f.location->lon);
        o.add_raw("location", loc.str());
    } else {
        o.add_null("location");
    }
    std::string errs = "[";
    for (size_t i = 0; i < f.metadata_errors.size(); i++) {
        if (i) errs.push_back(',');
        append_json_string(errs, f.metadata_errors[i]);
    }
    errs.push_back(']');
    o.add_raw("metadata_errors", errs);
    o.add("destination", destination);
    return o.str();
}

}  // namespace pf
