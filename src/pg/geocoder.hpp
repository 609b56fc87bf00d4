#pragma once
#include "pg/service_worker.hpp"
namespace pf::pg {
// The geocoder service: names where each photo was taken (geocoder.cpp).
extern const ServiceDef kGeocoderService;
}
