#!/bin/bash
# Tape scenario: the Linux kernel's st and ch drivers (through open-iscsi) with mtx, mt and tar against a virtual
# tape library: a medium changer and tape drives.
#   log in to every target in LAB_TAPE_TARGETS; mtx status; mtx load SLOT DRIVE; find the drive that came online;
#   tar two archives to it (each closed with a filemark) and mt weof one more; mt rewind / fsf / tell; read both
#   archives back and check every file; mt offline; mtx unload to an empty import/export slot (the mailslot) and
#   check that mtx status shows the tape there with its barcode.
# Environment: LAB_PORTAL, LAB_INITIATOR, LAB_TAPE_TARGETS (IQNs, space separated), LAB_TAPE_SLOT (1),
#   LAB_TAPE_DRIVE (0), LAB_TAPE_MAILSLOT (default: the first empty IMPORT/EXPORT element), LAB_TAR_BLOCKING (tar's
#   blocking factor: records of N x 512 bytes, one tape block each; default 64 = 32 KiB),
#   LAB_QUIRKS: known faults of a peer that are reported instead of failing:
#     portal  SendTargets names an address the guest cannot reach: add the node at LAB_PORTAL ourselves
#     tell    READ POSITION does not work (mt tell fails or is wrong)
. "$LAB_DIR/lib.sh"

: "${LAB_PORTAL:?}" "${LAB_INITIATOR:?}" "${LAB_TAPE_TARGETS:?}"
SLOT=${LAB_TAPE_SLOT:-1}
DRIVE=${LAB_TAPE_DRIVE:-0}
BLOCKING=${LAB_TAR_BLOCKING:-64}
RECORD=$((BLOCKING * 512))
QUIRKS=" ${LAB_QUIRKS:-} "
quirk() { [[ $QUIRKS == *" $1 "* ]]; }

echo "InitiatorName=$LAB_INITIATOR" > /etc/iscsi/initiatorname.iscsi
modprobe iscsi_tcp

step "discovery at $LAB_PORTAL"
iscsiadm -m discovery -t sendtargets -p "$LAB_PORTAL" | tee /tmp/discovery
for iqn in $LAB_TAPE_TARGETS; do
  if ! grep -Eq "^$LAB_PORTAL,[0-9]+ $iqn\$" /tmp/discovery; then
    quirk portal || fail "SendTargets did not name $iqn at the portal address $LAB_PORTAL"
    echo "known quirk (portal): SendTargets names $(grep " $iqn\$" /tmp/discovery | cut -d' ' -f1); adding $LAB_PORTAL"
    iscsiadm -m node -T "$iqn" -p "$LAB_PORTAL" -o new > /dev/null
  fi
  iscsiadm -m node -T "$iqn" -p "$LAB_PORTAL" --login
done

wait_until 60 sh -c 'lsscsi -g | grep -q mediumx'
# The non-rewinding tape devices, one per drive (not the nst0a/l/m mode variants).
drives() { find /dev -maxdepth 1 -regex '/dev/nst[0-9]+' | sort -V; }
wait_until 60 sh -c "find /dev -maxdepth 1 -regex '/dev/nst[0-9]+' | grep -q ."
udevadm settle
lsscsi -g
changer=$(lsscsi -g | awk '$2 == "mediumx" { print $NF; exit }')
step "changer $changer, $(drives | wc -l) tape drives: $(drives | paste -sd' ')"

mtx -f "$changer" status | tee /tmp/mtx.before
grep -q "^Data Transfer Element $DRIVE:Empty" /tmp/mtx.before || fail "drive $DRIVE is not empty"
barcode=$(sed -n "s/^ *Storage Element $SLOT:Full :VolumeTag=\([^ ]*\).*/\1/p" /tmp/mtx.before)
[ -n "$barcode" ] || fail "slot $SLOT holds no tape with a barcode"
mailslot=${LAB_TAPE_MAILSLOT:-$(sed -n 's/^ *Storage Element \([0-9]*\) IMPORT\/EXPORT:Empty.*/\1/p' /tmp/mtx.before | head -n1)}
[ -n "$mailslot" ] || fail "no empty import/export element"
grep -Eq "^ *Storage Element $mailslot IMPORT/EXPORT:Empty" /tmp/mtx.before || fail "element $mailslot is not an empty mailslot"

step "mtx load $SLOT $DRIVE ($barcode)"
mtx -f "$changer" load "$SLOT" "$DRIVE"
online_drive() {
  local d
  for d in $(drives); do
    if mt -f "$d" status 2>/dev/null | grep -qw ONLINE; then echo "$d"; return 0; fi
  done
  return 1
}
wait_until 60 online_drive
tape=$(online_drive)
mt -f "$tape" status
step "$barcode is online in $tape"

random_tree /tmp/a 40 128
random_tree /tmp/b 20 512
manifest /tmp/a > /tmp/a.sha
manifest /tmp/b > /tmp/b.sha
blocks_a=$(($(tar -b "$BLOCKING" -cf - -C /tmp/a . | wc -c) / RECORD))
blocks_b=$(($(tar -b "$BLOCKING" -cf - -C /tmp/b . | wc -c) / RECORD))

# check_tell EXPECTED WHAT: mt tell must say "At block EXPECTED."
check_tell() {
  local said
  if said=$(mt -f "$tape" tell 2>&1) && [ "$said" = "At block $1." ]; then
    echo "mt tell: $said ($2)"
  elif quirk tell; then
    echo "known quirk (tell): mt tell gave '$said' $2, expected block $1"
  else
    fail "mt tell gave '$said' $2, expected 'At block $1.'"
  fi
}

step "tar two archives ($blocks_a and $blocks_b records of $RECORD bytes) to $tape, mt weof"
mt -f "$tape" rewind
check_tell 0 "at the beginning of the tape"
tar -b "$BLOCKING" -cf "$tape" -C /tmp/a .
tar -b "$BLOCKING" -cf "$tape" -C /tmp/b .
mt -f "$tape" weof 1
check_tell $((blocks_a + 1 + blocks_b + 1 + 1)) "after two archives and three filemarks"

step "mt rewind, fsf 1, read the second archive"
mt -f "$tape" rewind
mt -f "$tape" fsf 1
check_tell $((blocks_a + 1)) "after fsf 1"
mkdir /tmp/rb
tar -b "$BLOCKING" -xf "$tape" -C /tmp/rb
(cd /tmp/rb && sha256sum --quiet --strict -c /tmp/b.sha) || fail "the second archive reads back different"

step "mt rewind, read the first archive"
mt -f "$tape" rewind
mkdir /tmp/ra
tar -b "$BLOCKING" -xf "$tape" -C /tmp/ra
(cd /tmp/ra && sha256sum --quiet --strict -c /tmp/a.sha) || fail "the first archive reads back different"
echo "$(wc -l < /tmp/a.sha) + $(wc -l < /tmp/b.sha) files read back identical"

step "mt offline, mtx unload $mailslot $DRIVE (the mailslot)"
mt -f "$tape" rewind
mt -f "$tape" offline
mtx -f "$changer" unload "$mailslot" "$DRIVE"
mtx -f "$changer" status | tee /tmp/mtx.after
grep -Eq "^ *Storage Element $mailslot IMPORT/EXPORT:Full :VolumeTag=$barcode( |\$)" /tmp/mtx.after \
  || fail "$barcode is not in mailslot $mailslot after the unload"
grep -q "^Data Transfer Element $DRIVE:Empty" /tmp/mtx.after || fail "drive $DRIVE is not empty after the unload"

for iqn in $LAB_TAPE_TARGETS; do iscsiadm -m node -T "$iqn" -p "$LAB_PORTAL" --logout; done
step "tape scenario passed"
