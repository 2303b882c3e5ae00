#!/bin/bash
# NFS scenario: the Linux kernel's NFS client against an export, once per line of /run/lab/mounts:
#   NAME SOURCE OPTIONS          e.g.  v3 10.0.2.100:/srv/export vers=3,proto=tcp,port=2049,mountport=20048,mountproto=tcp,nolock
# For each: mount -t nfs -o OPTIONS SOURCE (and check the negotiated version), then in a directory of its own,
# lab-$LAB_RUN_ID-NAME: create a tree of files, rename a directory and a file, delete a subtree and a file, write a
# large file with fsync; list everything and checksum every file; unmount, mount again and check both (the data
# now comes from the server); unmount. Emits listing-NAME and manifest-NAME blocks so the host can compare the
# server's own copy.
# Environment: LAB_RUN_ID, LAB_TREE_FILES (60), LAB_TREE_MAXKIB (256), LAB_BIG_MIB (64).
. "$LAB_DIR/lib.sh"

: "${LAB_RUN_ID:?}"
TREE_FILES=${LAB_TREE_FILES:-60}
TREE_MAXKIB=${LAB_TREE_MAXKIB:-256}
BIG_MIB=${LAB_BIG_MIB:-64}

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

for line in "${MOUNTS[@]}"; do
  read -r name source opts <<< "$line"
  mnt=/mnt/$name
  work=$mnt/lab-$LAB_RUN_ID-$name
  mkdir -p "$mnt"
  step "$name: mount -t nfs -o $opts $source"
  nfs_mount "$source" "$opts" "$mnt"

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

  (cd "$work" && find . | sort) > "/tmp/listing-$name"
  manifest "$work" > "/tmp/manifest-$name"
  umount "$mnt"

  step "$name: mount again and check $(wc -l < "/tmp/manifest-$name") files"
  nfs_mount "$source" "$opts" "$mnt"
  (cd "$work" && find . | sort) | diff -u "/tmp/listing-$name" - || fail "$name: the tree differs after remounting"
  (cd "$work" && sha256sum --quiet --strict -c "/tmp/manifest-$name") || fail "$name: files differ after remounting"
  umount "$mnt"
  emit_block "listing-$name" "/tmp/listing-$name"
  emit_block "manifest-$name" "/tmp/manifest-$name"
done
step "nfs scenario passed"
