#!/bin/bash
# Volume scenario: the Linux kernel's iSCSI initiator (open-iscsi) against block volumes.
#
#   LAB_PHASE=write   discover, log in (CHAP) to every target; mkfs.ext4, mount, write a tree of files and a large
#                     file, run a fio verify job; sync, unmount, fsck -n clean; log out; emit manifest-NAME blocks
#                     (sha256 of every file) to the host.
#   LAB_PHASE=verify  discover, log in again, fsck -n clean, mount, check every file against manifest-NAME (a file
#                     the host passes back), re-verify fio's blocks (fio --verify_only); unmount, log out.
#
# /run/lab/targets, one line per target:  NAME IQN CHAP_SECRET TARGET_SECRET DIGEST   ('-' for none)
#   CHAP_SECRET: one-way CHAP (user = $LAB_INITIATOR); TARGET_SECRET: mutual CHAP; DIGEST: e.g. CRC32C for header
#   and data digests.
# Environment: LAB_PORTAL (HOST:PORT the portal is reached at and SendTargets must name), LAB_INITIATOR,
#   LAB_TREE_FILES (120), LAB_TREE_MAXKIB (256), LAB_BIG_MIB (32), LAB_FIO_SIZE (16m).
. "$LAB_DIR/lib.sh"

: "${LAB_PHASE:?write or verify}" "${LAB_PORTAL:?}" "${LAB_INITIATOR:?}"
TREE_FILES=${LAB_TREE_FILES:-120}
TREE_MAXKIB=${LAB_TREE_MAXKIB:-256}
BIG_MIB=${LAB_BIG_MIB:-32}
FIO_SIZE=${LAB_FIO_SIZE:-16m}
# The same job writes (write phase) and re-verifies (verify phase): block headers carry a CRC32C of each block.
FIO_JOB=(--name=verify --filename=fio.dat --size="$FIO_SIZE" --rw=randwrite --bs=16k --ioengine=libaio --iodepth=8
  --direct=1 --verify=crc32c --verify_fatal=1 --randrepeat=1 --verify_state_save=0)

mapfile -t TARGETS < <(grep -v '^\s*$' /run/lab/targets)
[ "${#TARGETS[@]}" -gt 0 ] || fail "no targets in /run/lab/targets"

node_op() { iscsiadm -m node -T "$1" -p "$LAB_PORTAL" "${@:2}"; }
set_param() { node_op "$1" -o update -n "$2" -v "$3"; }
device_of() { echo "/dev/disk/by-path/ip-$LAB_PORTAL-iscsi-$1-lun-0"; }
session_id() { iscsiadm -m session | awk -v iqn="$1" '$4 == iqn { gsub(/[][]/, "", $2); print $2 }'; }

echo "InitiatorName=$LAB_INITIATOR" > /etc/iscsi/initiatorname.iscsi
modprobe iscsi_tcp

step "discovery at $LAB_PORTAL"
iscsiadm -m discovery -t sendtargets -p "$LAB_PORTAL" | tee /tmp/discovery
for line in "${TARGETS[@]}"; do
  read -r name iqn _ <<< "$line"
  grep -Eq "^$LAB_PORTAL,[0-9]+ $iqn\$" /tmp/discovery \
    || fail "SendTargets did not name $iqn at the portal address $LAB_PORTAL"
done

first=1
for line in "${TARGETS[@]}"; do
  read -r name iqn secret target_secret digest <<< "$line"
  if [ "$secret" != - ]; then
    set_param "$iqn" node.session.auth.authmethod CHAP
    set_param "$iqn" node.session.auth.username "$LAB_INITIATOR"
    if [ "$first" = 1 ]; then
      # The target must refuse a wrong secret (or CHAP would prove nothing).
      set_param "$iqn" node.session.auth.password "wrong-${secret:6}"
      if node_op "$iqn" --login > /tmp/badlogin 2>&1; then
        cat /tmp/badlogin
        fail "$iqn accepted a wrong CHAP secret"
      fi
      step "$name: a wrong CHAP secret is refused: $(grep -o 'iscsiadm: .*' /tmp/badlogin | tail -n1)"
    fi
    set_param "$iqn" node.session.auth.password "$secret"
  fi
  if [ "$target_secret" != - ]; then
    set_param "$iqn" node.session.auth.username_in "$iqn"
    set_param "$iqn" node.session.auth.password_in "$target_secret"
  fi
  if [ "$digest" != - ]; then
    set_param "$iqn" 'node.conn[0].iscsi.HeaderDigest' "$digest"
    set_param "$iqn" 'node.conn[0].iscsi.DataDigest' "$digest"
  fi
  node_op "$iqn" --login
  wait_until 60 test -b "$(device_of "$iqn")"
  sid=$(session_id "$iqn")
  params=$(iscsiadm -m session -r "$sid" -P 2 | grep -E 'HeaderDigest|DataDigest|username|MaxRecvDataSegmentLength|FirstBurst|ImmediateData' | tr -s ' \t' ' ' | paste -sd';')
  step "$name: logged in ($(readlink -f "$(device_of "$iqn")"), session $sid:$params)"
  if [ "$digest" != - ]; then
    iscsiadm -m session -r "$sid" -P 2 | grep -q "HeaderDigest: $digest" || fail "$name: HeaderDigest is not $digest"
    iscsiadm -m session -r "$sid" -P 2 | grep -q "DataDigest: $digest" || fail "$name: DataDigest is not $digest"
  fi
  first=0
done
step "logged in to ${#TARGETS[@]} targets"

for line in "${TARGETS[@]}"; do
  read -r name iqn _ <<< "$line"
  dev=$(device_of "$iqn")
  mnt=/mnt/$name
  mkdir -p "$mnt"
  if [ "$LAB_PHASE" = write ]; then
    step "$name: mkfs.ext4 on $(blockdev --getsize64 "$dev") bytes"
    mkfs.ext4 -q -F -L "$name" "$dev"
    mount "$dev" "$mnt"
    step "$name: writing $TREE_FILES files (0-$TREE_MAXKIB KiB) and a $BIG_MIB MiB file"
    random_tree "$mnt/tree" "$TREE_FILES" "$TREE_MAXKIB"
    dd if=/dev/urandom of="$mnt/big.bin" bs=1M count="$BIG_MIB" conv=fsync status=none
    step "$name: fio randwrite $FIO_SIZE with crc32c verify"
    (cd "$mnt" && fio "${FIO_JOB[@]}" --do_verify=1 --output-format=terse --terse-version=3 > /tmp/fio.out) \
      || { cat /tmp/fio.out; fail "$name: fio verify failed"; }
    awk -F';' '{ printf "fio: write %s KiB/s %s IOPS, verify read %s KiB/s\n", $48, $49, $7 }' /tmp/fio.out
    sync
    manifest "$mnt" > "/tmp/manifest-$name"
    umount "$mnt"
    step "$name: fsck -n after unmount"
    fsck.ext4 -n -f "$dev"
  else
    [ -s "/run/lab/manifest-$name" ] || fail "no manifest-$name from the host"
    step "$name: fsck -n before mounting"
    fsck.ext4 -n -f "$dev"
    mount "$dev" "$mnt"
    step "$name: checking $(wc -l < "/run/lab/manifest-$name") files against the manifest"
    (cd "$mnt" && sha256sum --quiet --strict -c "/run/lab/manifest-$name") || fail "$name: files differ from the manifest"
    step "$name: fio --verify_only"
    (cd "$mnt" && fio "${FIO_JOB[@]}" --verify_only --output-format=terse --terse-version=3 > /tmp/fio.out) \
      || { cat /tmp/fio.out; fail "$name: fio verify failed"; }
    umount "$mnt"
  fi
done

for line in "${TARGETS[@]}"; do
  read -r name iqn _ <<< "$line"
  node_op "$iqn" --logout
done
step "logged out"
if [ "$LAB_PHASE" = write ]; then
  for line in "${TARGETS[@]}"; do
    read -r name _ <<< "$line"
    emit_block "manifest-$name" "/tmp/manifest-$name"
  done
fi
step "volume scenario ($LAB_PHASE) passed"
