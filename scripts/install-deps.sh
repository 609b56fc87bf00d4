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
  clang libclang-rt-14-dev
  util-linux procps
  libcurl4-openssl-dev libxml2-dev nlohmann-json3-dev syncthing
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
