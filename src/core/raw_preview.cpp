#include "core/raw_preview.hpp"

#include <exiv2/exiv2.hpp>

#include "core/exif_reader.hpp"
#include "core/thumbnail_error.hpp"

namespace pf {

RawPreview largest_embedded_preview(const uint8_t* data, size_t n) {
    init_metadata_library();
    RawPreview out;
    try {
        Exiv2::Image::AutoPtr image = Exiv2::ImageFactory::open(data, static_cast<long>(n));
        if (image.get() == nullptr) throw ThumbnailError(ThumbFailure::Unsupported, "Exiv2 cannot read this RAW file");
        image->readMetadata();
        Exiv2::PreviewManager pm(*image);
        Exiv2::PreviewPropertiesList props = pm.getPreviewProperties();  // sorted by size, smallest first
        if (props.empty()) throw ThumbnailError(ThumbFailure::Unsupported, "the RAW file has no embedded preview");
        const Exiv2::PreviewProperties* largest = &props.front();
        for (const auto& p : props)
            if (static_cast<uint64_t>(p.width_) * p.height_ >=
                static_cast<uint64_t>(largest->width_) * largest->height_)
                largest = &p;
        Exiv2::PreviewImage preview = pm.getPreviewImage(*largest);
        out.bytes.assign(reinterpret_cast<const char*>(preview.pData()), preview.size());
        out.width = static_cast<int>(largest->width_);
        out.height = static_cast<int>(largest->height_);
        auto it = image->exifData().findKey(Exiv2::ExifKey("Exif.Image.Orientation"));
        if (it != image->exifData().end() && it->count() > 0) {
            long o = it->toLong();
            if (o >= 1 && o <= 8) out.orientation = static_cast<int>(o);
        }
    } catch (const ThumbnailError&) {
        throw;
    } catch (const Exiv2::AnyError& e) {
        throw ThumbnailError(ThumbFailure::Corrupt, std::string("reading the RAW file: ") + e.what());
    }
    if (out.bytes.empty()) throw ThumbnailError(ThumbFailure::Unsupported, "the RAW file's preview is empty");
    return out;
}

}  // namespace pf
