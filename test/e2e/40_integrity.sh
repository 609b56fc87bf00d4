#!/usr/bin/env bash
# End to end: verifying the library (bit rot, missing files), in the calling
# session and in the background, and reconciling disk and ledger (orphans
# found and adopted). Runs after the ingest tests, on the files they stored.
source "$(dirname "$0")/lib/assert.sh"

# Assets stored on the tmpfs of 30_storage_faults are really gone (it was
# unmounted): verify rightly reports them missing. Assertions below look at
# the library under $storage, and count those as known problems.
assets=$(sql "SELECT count(*) FROM photofactory.media_assets")
here_assets=$(sql "SELECT count(*) FROM photofactory.media_assets WHERE final_path LIKE '$storage/%'")
elsewhere=$((assets - here_assets))
ok "there are stored assets to verify" test "$here_assets" -gt 5
is "$(sql "SELECT count(*) FROM photofactory.verify_assets(100000) WHERE final_path LIKE '$storage/%'")" "0" "a healthy library verifies clean"
is "$(sql "SELECT count(*) FROM photofactory.asset_integrity i JOIN photofactory.media_assets m ON m.id = i.asset_id
           WHERE i.status = 'ok' AND m.final_path LIKE '$storage/%'")" "$here_assets" \
  "every asset has an ok integrity record"

# Damage two stored files (test fixtures): one bit flipped, one moved away.
rot=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_name = 'IMG_0002.JPG'")
gone=$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_name = 'digitized.jpg'")
printf '\x00' | dd of="$rot" bs=1 seek=200 conv=notrunc status=none
mv "$gone" "$PF_TEST_RUN/digitized.jpg.aside"
problems=$(sql "SELECT status || ' ' || replace(final_path, '$storage/', '') FROM photofactory.verify_assets(100000)
                WHERE final_path LIKE '$storage/%' ORDER BY 1")
is "$problems" "hash_mismatch ${rot#"$storage/"}
missing ${gone#"$storage/"}" "verify_assets reports bit rot and the missing file, with paths"
ok "verify never touched the damaged files" test -f "$rot"

# Background run through factory-db, reported as the verifier service.
run=$(sql "SELECT photofactory.start_verification()")
ok "background verification finishes" wait_for 60 sql_is "SELECT status FROM photofactory.verification_runs WHERE id = $run" done
is "$(sql "SELECT checked || '/' || total || ' ' || problems FROM photofactory.verification_runs WHERE id = $run")" "$assets/$assets $((2 + elsewhere))" \
  "the run checked every asset and counted the two problems"
ok "the verifier service reported progress" test -n "$(sql "SELECT 1 FROM photofactory.system_status_history WHERE service_name = 'verifier'")"
run2=$(sql "SELECT photofactory.start_verification(sample => 0.5)")
ok "a sampled run finishes" wait_for 60 sql_is "SELECT status FROM photofactory.verification_runs WHERE id = $run2" done
ok "a sampled run checks fewer assets" test "$(sql "SELECT checked FROM photofactory.verification_runs WHERE id = $run2")" -lt "$assets"

# Reconcile: the missing file, and an orphan nobody recorded.
mkdir -p "$storage/Originals/2015/2015-05-05"
convert -size 20x20 xc:coral "$storage/Originals/2015/2015-05-05/IMG_20150505_050505.jpg"
cp "$rot" "$storage/Originals/2015/2015-05-05/copy_of_rotten.jpg" 2>/dev/null
cp "$(sql "SELECT final_path FROM photofactory.media_assets WHERE original_name = 'imagedate.jpg'")" \
   "$storage/Originals/2015/2015-05-05/dup_orphan.jpg"
chown -R postgres: "$storage/Originals/2015"
is "$(sql "SELECT count(*) FROM photofactory.reconcile() WHERE problem = 'outside_storage_root'")" "$elsewhere" \
  "reconcile reports the ledger rows outside the current storage root"
is "$(sql "SELECT problem || ' ' || replace(path, '$storage/', '') FROM photofactory.reconcile()
           WHERE problem NOT IN ('outside_storage_root', 'missing_rendition', 'orphan_rendition')")" \
"missing_file ${gone#"$storage/"}
orphan_file Originals/2015/2015-05-05/IMG_20150505_050505.jpg
orphan_file Originals/2015/2015-05-05/copy_of_rotten.jpg
orphan_file Originals/2015/2015-05-05/dup_orphan.jpg" "reconcile lists the missing file and the orphans"
id=$(sql "SELECT photofactory.adopt_orphan('$storage/Originals/2015/2015-05-05/IMG_20150505_050505.jpg')")
is "$(sql "SELECT captured_at || ' ' || date_source FROM photofactory.media_assets WHERE id = '$id'")" "2015-05-05 05:05:05 filename" \
  "adopt_orphan records the file in place, with its metadata"
err=$(sql "SELECT photofactory.adopt_orphan('$storage/Originals/2015/2015-05-05/dup_orphan.jpg')" 2>&1)
ok "adopt_orphan refuses a duplicate, and says of which asset" grep -q "same content as asset" <<<"$err"
err=$(sql "SELECT photofactory.adopt_orphan('/etc/passwd')" 2>&1)
ok "adopt_orphan refuses files outside Originals/" grep -q "only files under" <<<"$err"
ok "the duplicate orphan is still there" test -f "$storage/Originals/2015/2015-05-05/dup_orphan.jpg"

# Repair by hand and re-check: back to clean (test fixtures only).
mv "$PF_TEST_RUN/digitized.jpg.aside" "$gone"
sql "SELECT photofactory.adopt_orphan('$storage/Originals/2015/2015-05-05/copy_of_rotten.jpg')" >/dev/null 2>&1
is "$(sql "SELECT count(*) FROM photofactory.reconcile() WHERE problem = 'missing_file'")" "0" "restored file no longer missing"

pf_summary
