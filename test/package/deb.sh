#!/usr/bin/env bash
# The Debian package as production installs it: built with
# `dpkg-buildpackage -us -uc -b` (pg_buildext) from a copy of the checkout,
# installed with dpkg, and CREATE EXTENSION run in a throwaway cluster from
# the package's files -- not from `make install` (dpkg -S owns the .so the
# server loads, and it is byte for byte the package's).
#
# Installing the package replaces the files `make install` wrote (there is one
# /usr/lib/postgresql/15/lib/photofactory.so): run this under the install
# lock; on exit the package is removed again (dpkg -r) and the working tree's
# build reinstalled, so the other suites test the working tree.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PF_TEST_RUN=$(mktemp -d /tmp/photofactory-deb.XXXXXX)
export PF_TEST_RUN PF_TEST_DB=pkg
# shellcheck source=test/e2e/lib/assert.sh
source "$here/../e2e/lib/assert.sh"   # ok/is/wait_for/sql against $PF_TEST_RUN
run=$PF_TEST_RUN
port=${PF_PACKAGE_PORT:-54371}
pgmajor=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
pkg=postgresql-$pgmajor-photofactory
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
deb=${pkg}_${version}_$(dpkg --print-architecture).deb
so=$(pg_config --pkglibdir)/photofactory.so

cleanup() {
  pf_cluster_stop "$run"
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    dpkg -r "$pkg" >"$run/dpkg-r.log" 2>&1 || { cat "$run/dpkg-r.log"; echo "not ok - dpkg -r $pkg failed"; }
  fi
  make -C "$root" -s install >/dev/null || echo "not ok - reinstalling the working tree's build failed"
  [ "$pf_fail" -gt 0 ] && [ -f "$run/log/server.log" ] && tail -40 "$run/log/server.log"
  rm -rf "$run"
}
trap cleanup EXIT

# A copy of the checkout (tracked and new files, no build products): the
# checkout itself stays clean.
mkdir -p "$run/src"
(cd "$root" && git ls-files -z -c -o --exclude-standard | xargs -0 cp --parents -t "$run/src") ||
  { echo "not ok - copying the checkout"; exit 1; }
start=$SECONDS
(cd "$run/src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
  >"$run/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b succeeds ($((SECONDS - start)) s)"
[ "$rc" -eq 0 ] || { tail -40 "$run/build.log"; exit 1; }
ok "it produces $deb" test -f "$run/$deb"
contents=$(dpkg-deb -c "$run/$deb")
for f in "$so" "$(pg_config --sharedir)/extension/photofactory.control" \
         "$(pg_config --sharedir)/extension/photofactory--0.1.0.sql" \
         "$(pg_config --sharedir)/extension/photofactory--0.1.0--0.2.0.sql" \
         "$(pg_config --sharedir)/extension/photofactory--0.2.0.sql"; do
  ok "the package ships $f" grep -q " \.$f\$" <<<"$contents"
done
# The full 0.2.0 script is built from sql/install/*.sql (not in git): the
# package must carry the one make builds from the parts.
ok "its photofactory--0.2.0.sql is the sql/install parts, concatenated" cmp -s \
  <(dpkg-deb --fsys-tarfile "$run/$deb" | tar -xO ".$(pg_config --sharedir)/extension/photofactory--0.2.0.sql") \
  <(cat "$root"/sql/install/*.sql)
ok "no development leftovers in the package" bash -c "! grep -Eq '\\.(o|bc|cpp|hpp)\$' <<<\"\$1\"" _ "$contents"
depends=$(dpkg-deb -f "$run/$deb" Depends)
ok "it depends on postgresql-$pgmajor" grep -q "postgresql-$pgmajor" <<<"$depends"
ok "... and on the Exiv2 library" grep -q 'libexiv2' <<<"$depends"

# Install it over whatever `make install` left; the package must own the files now.
DEBIAN_FRONTEND=noninteractive dpkg -i "$run/$deb" >"$run/dpkg.log" 2>&1
is "$?" 0 "dpkg -i installs it"
is "$(dpkg -S "$so" 2>/dev/null | cut -d: -f1)" "$pkg" "dpkg -S: $so belongs to $pkg"
ok "the installed library is byte for byte the package's" cmp -s "$so" \
  <(dpkg-deb --fsys-tarfile "$run/$deb" | tar -xO ".$so")
ok "dpkg --verify finds the installed files intact" test -z "$(dpkg --verify "$pkg")"

mkdir -p "$run/inbox" "$run/storage"
pf_cluster_init "$run" "$port" "$(pf_server_conf pkg "$run/inbox" "$run/storage")
shared_preload_libraries = 'photofactory'
photofactory.heartbeat_interval = '1s'" || exit 1
pf_own "$run"
pf_cluster_start "$run" || exit 1
pf_psql "$run" -d postgres -q -c "CREATE DATABASE pkg" || exit 1
sql "CREATE EXTENSION photofactory" 2>/dev/null
is "$(sql "SELECT extversion FROM pg_extension WHERE extname = 'photofactory'")" "$(sed -E 's/-[^-]+$//' <<<"$version")" \
  "CREATE EXTENSION from the package gives the package's version"
ok "the server loaded the package's library" grep -q "$so" "/proc/$(head -1 "$run/data/postmaster.pid")/maps"
beat() { sql_is "SELECT count(*) FROM photofactory.system_status WHERE service_name IN ('factory-db', 'librarian')" 2; }
ok "its workers run: factory-db and librarian heartbeats" wait_for 30 beat
convert -size 40x30 xc:teal "$run/pkg.jpg" && touch -d '-1 minute' "$run/pkg.jpg" && pf_own "$run/pkg.jpg" && mv "$run/pkg.jpg" "$inbox/"
sql "SELECT photofactory.ingest_now()" >/dev/null
ok "and ingest a file" wait_for 60 sql_is "SELECT count(*) FROM photofactory.media_assets" 1
pf_summary
