# Helpers for the scenarios, sourced in the guest: . "$LAB_DIR/lib.sh"
# Lines starting with SGW-LAB- are read by guest-runner.ts on the host.
set -euo pipefail
trap 'echo "SGW-LAB-FAIL line $LINENO: $BASH_COMMAND (status $?)"' ERR

# A progress line on the console (the host test prints and times them).
step() { echo "SGW-LAB-STEP $*"; }

fail() {
  echo "SGW-LAB-FAIL $*"
  exit 1
}

# Prints a command, then runs it.
x() {
  echo "+ $*"
  "$@"
}

# Hands FILE to the host as the named block NAME (base64 on the console, checked with its SHA-256).
emit_block() {
  local name=$1 file=$2
  echo "SGW-LAB-BEGIN $name"
  base64 -w 76 "$file"
  echo "SGW-LAB-END $name $(sha256sum < "$file" | cut -d' ' -f1)"
}

# wait_until SECONDS COMMAND...: polls every 0.5 s until COMMAND succeeds; fails after SECONDS.
wait_until() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $*"
    sleep 0.5
  done
}

# random_tree DIR COUNT MAXKIB: COUNT files of 0..MAXKIB KiB of random bytes in nested directories.
random_tree() {
  local dir=$1 count=$2 maxkib=$3 i sub
  for i in $(seq 1 "$count"); do
    sub="$dir/d$((i % 7))/e$((i % 3))"
    mkdir -p "$sub"
    head -c $(((RANDOM * 32768 + RANDOM) % (maxkib * 1024 + 1))) /dev/urandom > "$sub/f$i.bin"
  done
}

# manifest DIR: "sha256  ./path" for every file under DIR, sorted (sha256sum -c reads it back from DIR).
manifest() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
