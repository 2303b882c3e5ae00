#!/bin/bash
# NFS scenario: the Linux kernel's NFS client against an export, once per line of /run/lab/mounts:
#   NAME SOURCE OPTIONS          e.g.  v3 10.0.2.100:/srv/export vers=3,proto=tcp,port=2049,mountport=20048,mountproto=tcp,nolock
# For each: mount -t nfs -o OPTIONS SOURCE (and check the negotiated version); if /run/lab/seeded exists (lines
# "sha256  ./path", paths under the export's root: files that were there before), check those. Then in a directory
# of its own, lab-$LAB_RUN_ID-NAME: create a tree of files, rename a directory and a file, delete a subtree and a
# file, write a large file with fsync; list everything and checksum every file; unmount, mount again and check both
# (the data now comes from the server); unmount. Emits listing-NAME and manifest-NAME blocks (the directory's final
# tree) so the host can compare the server's own copy.
#
# LAB_FIO=1 adds, before the remount, fio jobs with crc32c block checksums in fio/: 64 MiB written sequentially
#   through the page cache (bs=1M) and 4 MiB of 4 KiB random O_DIRECT writes; after the remount fio --verify_only
#   reads their blocks back from the server.
# LAB_KILL_MARKER=1 adds, after the remount, a server crash in kill/: 8 MiB written with fsync, then a rate-limited
#   fio write job (fsync every 4 MiB) during which the scenario prints SGW-LAB-KILL-SERVER; the host SIGKILLs the
#   server and restarts it, and the hard mount must carry the job through. Then more writes, a mkdir and a rename,
#   and another unmount, remount and check of the whole directory, with fio --verify_only of the job's blocks.
# Environment: LAB_RUN_ID, LAB_TREE_FILES (60), LAB_TREE_MAXKIB (256), LAB_BIG_MIB (64), LAB_FIO, LAB_KILL_MARKER.
. "$LAB_DIR/lib.sh"

: "${LAB_RUN_ID:?}"
TREE_FILES=${LAB_TREE_FILES:-60}
TREE_MAXKIB=${LAB_TREE_MAXKIB:-256}
BIG_MIB=${LAB_BIG_MIB:-64}
KILL_MARKER=SGW-LAB-KILL-SERVER

FIO_COMMON=(--verify=crc32c --verify_fatal=1 --verify_state_save=0 --fallocate=none --output-format=terse --terse-version=3)
# Through the page cache the client sends 1 MiB UNSTABLE writes and a COMMIT; O_DIRECT 4 KiB writes each go as a
# stable WRITE of their own, eight in flight (one at a time, with a sync on the server each, ran at 18 IOPS under TCG).
FIO_SEQ=(--name=seq --filename=seq.dat --size=64m --rw=write --bs=1m --end_fsync=1 "${FIO_COMMON[@]}")
FIO_RAND=(--name=rand --filename=rand.dat --size=4m --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=8 --randrepeat=1 "${FIO_COMMON[@]}")
# At 2 MiB/s the job runs at least 16 s, long enough for the kill and the restart to land inside it; with an fsync
# every 4 MiB, committed, sent but uncommitted, and unsent data all exist at the kill.
FIO_KILL=(--name=kill --filename=during.dat --size=32m --rw=write --bs=1m --rate=,2m --fsync=4 --end_fsync=1 "${FIO_COMMON[@]}")

mapfile -t MOUNTS < <(grep -v '^\s*$' /run/lab/mounts)
[ "${#MOUNTS[@]}" -gt 0 ] || fail "no mounts in /run/lab/mounts"

step "preparing a $BIG_MIB MiB file in the guest"
dd if=/dev/urandom of=/tmp/big.bin bs=1M count="$BIG_MIB" status=none
big_sha=$(sha256sum < /tmp/big.bin | cut -d' ' -f1)

nfs_mount() {
  local source=$1 opts=$2 mnt=$3 want got
  local started=$SECONDS
  mount -t nfs -o "$opts" "$source" "$mnt"
  want=$(grep -o 'vers=[0-9.]*' <<< "$opts" || true)
  got=$(awk -v m="$mnt" '$2 == m { print $3 " " $4 }' /proc/mounts)
  [ -z "$want" ] || grep -q "$want[,]" <<< "$got," || fail "$source mounted with $got, not $want"
  echo "mounted in $((SECONDS - started)) s: $got"
}

# run_fio DIR WHAT FIO-ARGS...: fio in DIR; prints its throughput, fails with its output.
run_fio() {
  local dir=$1 what=$2
  shift 2
  (cd "$dir" && fio "$@" > /tmp/fio.out 2>&1) || { cat /tmp/fio.out; fail "$what: fio failed"; }
  fio_summary /tmp/fio.out
}

fio_summary() {
  awk -F';' 'NF > 100 { printf "fio %s: write %s KiB/s %s IOPS, read %s KiB/s\n", $3, $48, $49, $7 }' "$1"
}

# The work directory's tree and checksums as the client sees them now.
snapshot() {
  (cd "$work" && find . | sort) > "/tmp/listing-$name"
  manifest "$work" > "/tmp/manifest-$name"
}

# Unmount, mount again and compare with the snapshot: the data now comes from the server.
remount_check() {
  umount "$mnt"
  step "$name: mount again and check $(wc -l < "/tmp/manifest-$name") files"
  nfs_mount "$source" "$opts" "$mnt"
  (cd "$work" && find . | sort) | diff -u "/tmp/listing-$name" - || fail "$name: the tree differs after remounting"
  (cd "$work" && sha256sum --quiet --strict -c "/tmp/manifest-$name") || fail "$name: files differ after remounting"
}

for line in "${MOUNTS[@]}"; do
  read -r name source opts <<< "$line"
  mnt=/mnt/$name
  work=$mnt/lab-$LAB_RUN_ID-$name
  mkdir -p "$mnt"
  step "$name: mount -t nfs -o $opts $source"
  nfs_mount "$source" "$opts" "$mnt"

  if [ -s /run/lab/seeded ]; then
    step "$name: reading $(wc -l < /run/lab/seeded) files that were there before the mount"
    ls -la "$mnt"
    (cd "$mnt" && sha256sum --quiet --strict -c /run/lab/seeded) || fail "$name: a file that was there reads differently"
  fi

  step "$name: creating a tree of $TREE_FILES files, renaming and deleting"
  mkdir "$work"
  random_tree "$work/tree" "$TREE_FILES" "$TREE_MAXKIB"
  mv "$work/tree/d1" "$work/tree/d1-renamed"
  first=$(find "$work/tree/d2" -type f | sort | head -n1)
  mv "$first" "${first%.bin}.renamed"
  rm -r "$work/tree/d3"
  rm "$(find "$work/tree/d4" -type f | sort | head -n1)"
  mkdir -p "$work/tree/empty/nested"
  echo "appended once" >> "$work/tree/d5/notes.txt"
  echo "appended twice" >> "$work/tree/d5/notes.txt"
  [ ! -e "$work/tree/d1" ] && [ ! -e "$work/tree/d3" ] || fail "$name: renamed or deleted directory still there"

  step "$name: writing $BIG_MIB MiB with fsync"
  started=$SECONDS
  dd if=/tmp/big.bin of="$work/big.bin" bs=1M conv=fsync status=none
  echo "big.bin written and fsync'd in $((SECONDS - started)) s"
  [ "$(sha256sum < "$work/big.bin" | cut -d' ' -f1)" = "$big_sha" ] || fail "$name: big.bin reads back different"

  if [ "${LAB_FIO:-0}" = 1 ]; then
    step "$name: fio 64 MiB sequential (bs=1M) and 4 MiB random 4 KiB O_DIRECT writes with crc32c verify"
    mkdir "$work/fio"
    run_fio "$work/fio" "$name: sequential" "${FIO_SEQ[@]}"
    run_fio "$work/fio" "$name: random" "${FIO_RAND[@]}"
  fi

  snapshot
  remount_check
  if [ "${LAB_FIO:-0}" = 1 ]; then
    step "$name: fio --verify_only of both jobs after the remount"
    run_fio "$work/fio" "$name: sequential" "${FIO_SEQ[@]}" --verify_only
    run_fio "$work/fio" "$name: random" "${FIO_RAND[@]}" --verify_only
  fi

  if [ "${LAB_KILL_MARKER:-0}" = 1 ]; then
    step "$name: 8 MiB with fsync, then a write job during which the server is SIGKILLed and restarted"
    mkdir "$work/kill"
    dd if=/dev/urandom of="$work/kill/before.bin" bs=1M count=8 conv=fsync status=none
    # A bound of its own: on a hard mount a server that never comes back would hang the guest until the host's
    # hard timeout, with nothing said.
    (cd "$work/kill" && exec timeout -s KILL 300 fio "${FIO_KILL[@]}" > /tmp/fio-kill.out 2>&1) &
    job=$!
    sleep 5
    kill -0 "$job" 2>/dev/null || { cat /tmp/fio-kill.out; fail "$name: the write job ended before the kill"; }
    echo "$KILL_MARKER"
    started=$SECONDS
    wait "$job" || { cat /tmp/fio-kill.out; fail "$name: the write job failed or hung across the server's restart"; }
    fio_summary /tmp/fio-kill.out
    step "$name: the write job finished $((SECONDS - started)) s after the kill marker; writing more"
    dd if=/dev/urandom of="$work/kill/after.bin" bs=1M count=8 conv=fsync status=none
    mkdir "$work/kill/after-dir"
    mv "$work/kill/after.bin" "$work/kill/after-dir/after.bin"
    echo "written after the restart" > "$work/kill/after-dir/notes.txt"
    snapshot
    remount_check
    step "$name: fio --verify_only of the job that ran through the restart"
    run_fio "$work/kill" "$name: through the restart" "${FIO_KILL[@]}" --verify_only
  fi

  umount "$mnt"
  emit_block "listing-$name" "/tmp/listing-$name"
  emit_block "manifest-$name" "/tmp/manifest-$name"
done
step "nfs scenario passed"
