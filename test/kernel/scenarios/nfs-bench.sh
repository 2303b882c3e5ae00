#!/bin/bash
# NFS benchmark scenario (bench/nfs.ts --guest): the Linux kernel's NFS client against several servers, measured row
# by row and, within a row, server by server in the order of /run/lab/mounts, so that drift of the machine (TCG on
# shared cores) hits every server alike; the figures that mean something are the ratios the host computes.
#   seq-write  fio: LAB_BENCH_MIB MiB written sequentially in 1 MiB blocks through the page cache, with a final fsync
#              (bytes/s; fio counts the fsync in the job's time)
#   seq-read   fio: that file read back in 1 MiB blocks, the guest's page cache dropped first (bytes/s)
#   creates    LAB_BENCH_FILES files of 4 KiB, each created, written and closed by bash itself, so no process start
#              is in the figure, then a syncfs (files/s); close-to-open makes each close flush its file to the server
# /run/lab/mounts, one line per server:  NAME SOURCE OPTIONS   (as in nfs.sh), all mounted before the first row.
# Emits the block `results`, one line per server and row: "NAME ROW VALUE", or "NAME ROW error TEXT" when the
# server failed that row (the scenario goes on with the others; which failures end the run is the host's call).
# Every fio job and creates loop runs under `timeout`, and fio stops after LAB_BENCH_RUNTIME s (a write stopped early
# leaves a shorter file, which the read then reads whole), so a stuck server costs a bounded time.
# Environment: LAB_RUN_ID, LAB_BENCH_MIB (256), LAB_BENCH_FILES (500), LAB_BENCH_RUNTIME (60).
. "$LAB_DIR/lib.sh"

: "${LAB_RUN_ID:?}"
BENCH_MIB=${LAB_BENCH_MIB:-256}
BENCH_FILES=${LAB_BENCH_FILES:-500}
RUNTIME=${LAB_BENCH_RUNTIME:-60}
# fio's own bound plus the final fsync and start-up; past it the job is killed (NFS waits are killable).
BOUND=$((RUNTIME * 2 + 30))
RESULTS=/tmp/results
FIO_COMMON=(--filename=seq.dat --bs=1m --ioengine=psync --fallocate=none --runtime="$RUNTIME" --output-format=terse --terse-version=3)

mapfile -t MOUNTS < <(grep -v '^\s*$' /run/lab/mounts)
[ "${#MOUNTS[@]}" -gt 0 ] || fail "no mounts in /run/lab/mounts"
: > "$RESULTS"

declare -A SOURCE OPTS DOWN
NAMES=()
for line in "${MOUNTS[@]}"; do
  read -r name source opts <<< "$line"
  NAMES+=("$name")
  SOURCE[$name]=$source
  OPTS[$name]=$opts
done

record() { echo "$*" >> "$RESULTS"; }
# The first line that says what went wrong, for the host's one-line n/a (fio's terse lines start with "3;").
first_line() { grep -m1 -v -e '^\s*$' -e '^3;' "$1" | tr -s '[:blank:]' ' ' | cut -c1-200 || echo "no output"; }
# What a command run under `timeout -s KILL` ended with: the first line it said, or the kill.
said() { if [ "$1" = 137 ]; then echo "killed after $2 s"; else first_line "$3"; fi; }
# Bounded: after a job killed on a stuck server, a plain sync would wait on that server's dirty pages for ever.
drop_caches() { timeout -s KILL "$BOUND" sync && echo 3 > /proc/sys/vm/drop_caches; }

for name in "${NAMES[@]}"; do
  mnt=/mnt/$name
  mkdir -p "$mnt"
  step "$name: mount -t nfs -o ${OPTS[$name]} ${SOURCE[$name]}"
  status=0
  timeout -s KILL 60 mount -t nfs -o "${OPTS[$name]}" "${SOURCE[$name]}" "$mnt" > /tmp/mount.out 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    DOWN[$name]="mount: $(said "$status" 60 /tmp/mount.out)"
  elif ! mkdir "$mnt/bench-$LAB_RUN_ID-$name" 2> /tmp/mount.out; then
    DOWN[$name]="mkdir: $(first_line /tmp/mount.out)"
  fi
  if [ -n "${DOWN[$name]:-}" ]; then
    echo "${DOWN[$name]}"
  else
    awk -v m="$mnt" '$2 == m { print "mounted: " $3 " " $4 }' /proc/mounts
  fi
done

# fio_row NAME ROW FIELD-KIB FIELD-MS FIO-ARGS...: a fio job in NAME's directory; records bytes/s from fio's terse
# output (KiB moved and milliseconds taken, fields of the read or the write section).
fio_row() {
  local name=$1 row=$2 kib=$3 ms=$4 value status=0
  shift 4
  (cd "/mnt/$name/bench-$LAB_RUN_ID-$name" && timeout -s KILL "$BOUND" fio "$@" "${FIO_COMMON[@]}") > /tmp/fio.out 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    record "$name $row error fio: $(said "$status" "$BOUND" /tmp/fio.out)"
    return 1
  fi
  value=$(awk -F';' -v kib="$kib" -v ms="$ms" 'NF > 100 && $ms > 0 { printf "%.0f\n", $kib * 1024 * 1000 / $ms }' /tmp/fio.out)
  [ -n "$value" ] || { record "$name $row error fio printed no figures: $(first_line /tmp/fio.out)"; return 1; }
  record "$name $row $value"
  echo "$name $row: $((value / 1000000)) MB/s"
}

# A helper script, so that `timeout` can bound the loop while bash itself does every create.
cat > /tmp/creates.sh <<'EOF'
set -e
dir=$1 count=$2
# 3 KiB of random bytes as base64: 4096 characters, and no NUL that a shell variable would drop.
data=$(head -c 3072 /dev/urandom | base64 -w0)
mkdir "$dir"
start=$EPOCHREALTIME
for ((i = 0; i < count; i++)); do printf '%s' "$data" > "$dir/f$i"; done
sync -f "$dir"
end=$EPOCHREALTIME
awk -v s="$start" -v e="$end" -v n="$count" 'BEGIN { printf "%.2f\n", n / (e - s) }'
EOF

declare -A WROTE
for row in seq-write seq-read creates; do
  for name in "${NAMES[@]}"; do
    if [ -n "${DOWN[$name]:-}" ]; then
      record "$name $row error ${DOWN[$name]}"
      continue
    fi
    step "$name: $row"
    drop_caches
    work=/mnt/$name/bench-$LAB_RUN_ID-$name
    case $row in
      seq-write)
        fio_row "$name" "$row" 47 50 --name=seq-write --rw=write --size="${BENCH_MIB}m" --end_fsync=1 \
          && WROTE[$name]=$(stat -c %s "$work/seq.dat")
        ;;
      seq-read)
        if [ -z "${WROTE[$name]:-}" ]; then
          record "$name $row error nothing to read: the write failed"
        else
          fio_row "$name" "$row" 6 9 --name=seq-read --rw=read --size="${WROTE[$name]}" || true
        fi
        ;;
      creates)
        status=0
        timeout -s KILL "$BOUND" bash /tmp/creates.sh "$work/small" "$BENCH_FILES" > /tmp/creates.out 2>&1 || status=$?
        if [ "$status" = 0 ]; then
          record "$name $row $(tail -n1 /tmp/creates.out)"
          echo "$name $row: $(tail -n1 /tmp/creates.out) files/s"
        else
          record "$name $row error $(said "$status" "$BOUND" /tmp/creates.out)"
        fi
        ;;
    esac
  done
done

for name in "${NAMES[@]}"; do
  [ -n "${DOWN[$name]:-}" ] || timeout -s KILL 60 umount "/mnt/$name" || echo "$name: umount failed"
done
emit_block results "$RESULTS"
step "nfs-bench scenario done"
