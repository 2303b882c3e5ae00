#!/usr/bin/env bash
# The Debian package end to end, as a Debian 13 user gets it (`npm run test:package`):
#   build the .deb (packaging/deb/build-deb.sh), lintian finds no error in it, systemd-analyze verify finds
#   nothing in its unit; then in a clean trixie root made by debootstrap (minbase): `apt-get install ./sgw_*.deb`
#   pulls nodejs from Debian, `sgw --version`, sgwd started by hand (a chroot has no systemd), `sgw activate`,
#   `sgw gateway info` as root and as a member of the sgw group, `sgw gateway stop`, then remove and purge leave
#   nothing of the package behind; then once more under a real systemd booted in that root: Type=notify start,
#   watchdog, the draining stop, and the maintainer scripts starting and stopping the service.
# Needs root (debootstrap, chroot, mounts, namespaces, a cgroup2 mount) and the Debian mirror. The fresh root is cached per day as a tarball
# in /var/cache/sgw-test, with the .debs apt fetched into it. Prints TAP, then "package test: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${SGW_PACKAGE_TEST_TIMED:-}" ]; then
  # The whole run is bounded; each step below has its own bound too.
  SGW_PACKAGE_TEST_TIMED=1 exec timeout --kill-after=30s 40m "$0" "$@"
fi

if [ "$(id -u)" != 0 ]; then
  echo "the package test needs root: debootstrap, chroot and mounts" >&2
  echo "package test: 0 passed, 1 failed"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
need_apt=()
need() { command -v "$1" >/dev/null || need_apt+=("$2"); }
need debootstrap debootstrap
need dpkg-shlibdeps dpkg-dev
need strip binutils
need lintian lintian
need systemd-analyze systemd
need man man-db
need git git
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need_apt[@]}"
fi

mirror=${SGW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=/var/cache/sgw-test
work=$(mktemp -d /tmp/sgw-package-test.XXXXXX)
root="$work/root"
sgwd_pid=
init_pid=
mounted=()

cleanup() {
  if [ -n "$sgwd_pid" ] && kill -0 "$sgwd_pid" 2>/dev/null; then kill -KILL "$sgwd_pid" || true; fi
  # The booted systemd's namespaces, and everything in them, end with it.
  if [ -n "$init_pid" ]; then kill -KILL "$init_pid" 2>/dev/null || true; fi
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
  done
  # Nothing may still be mounted under the root before it is removed: the host's /dev and /sys are.
  if ! grep -q " $work/" /proc/mounts; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

n=0
passed=0
failed=0
echo "TAP version 14"
echo "# Subtest: the Debian package"
ok() {
  n=$((n + 1))
  passed=$((passed + 1))
  echo "    ok $n - $1"
}
not_ok() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "    not ok $n - $1"
  [ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/      # /' | tail -n 40
}
# check NAME COMMAND...: one test, its output shown when it fails.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
finish() {
  echo "    1..$n"
  if [ "$failed" -eq 0 ]; then echo "ok 1 - the Debian package"; else echo "not ok 1 - the Debian package"; fi
  echo "1..1"
  echo "package test: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# fatal NAME OUTPUT: a step the rest depends on failed.
fatal() {
  not_ok "$1" "$2"
  finish || exit 1
}
in_root() { timeout 600 chroot "$root" "$@"; }
started=$(date +%s)

# 1. The package.
if ! deb=$(timeout 20m packaging/deb/build-deb.sh "$work" 2>"$work/build.log"); then fatal "build-deb.sh builds the package" "$(cat "$work/build.log")"; fi
ok "build-deb.sh builds $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(($(date +%s) - started)) s"

lintian_out=$(timeout 10m lintian --tag-display-limit 0 "$deb" 2>&1 || true)
errors=$(grep '^E: ' <<<"$lintian_out" || true)
if [ -z "$errors" ]; then ok "lintian: no errors ($(grep -c '^W: ' <<<"$lintian_out" || true) warnings)"; else not_ok "lintian: no errors" "$errors"; fi

# Against the package's own files and this host's systemd units, so ExecStart= and the man pages are checked too.
verify_root="$work/verify"
mkdir -p "$verify_root/usr/lib/systemd/system"
dpkg-deb -x "$deb" "$verify_root"
cp -a /usr/lib/systemd/system/. "$verify_root/usr/lib/systemd/system/"
check "systemd-analyze verify: sgwd.service is clean" \
  env MANPATH="$verify_root/usr/share/man" systemd-analyze verify --root="$verify_root" /usr/lib/systemd/system/sgwd.service
rm -rf "$verify_root"

# 2. A clean Debian 13 root.
mkdir -p "$cache/apt-archives/partial"
tarball="$cache/trixie-minbase-$(date -u +%Y%m%d).tar"
t0=$(date +%s)
if [ ! -f "$tarball" ]; then
  fresh="$work/fresh"
  if ! out=$(timeout 15m debootstrap --variant=minbase trixie "$fresh" "$mirror" 2>&1); then fatal "debootstrap trixie" "$out"; fi
  tar -C "$fresh" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$fresh"
  # A day's root replaces the ones before it: Debian's updates come with it.
  find "$cache" -maxdepth 1 -name 'trixie-minbase-*.tar' ! -path "$tarball" -delete
fi
mkdir "$root"
tar -C "$root" -xf "$tarball"
ok "a clean trixie root in $(($(date +%s) - t0)) s ($([ -n "${fresh:-}" ] && echo debootstrap || echo cached))"

mount_in() {
  mkdir -p "$root$2"
  mount "${@:3}" "$1" "$root$2"
  mounted+=("$root$2")
}
mount_in proc /proc -t proc
mount_in sysfs /sys -t sysfs
mount_in /dev /dev --bind
mount_in tmpfs /run -t tmpfs -o mode=0755
mount_in "$cache/apt-archives" /var/cache/apt/archives --bind
cp /etc/resolv.conf "$root/etc/resolv.conf"
# As in an image build: services are never started by the package's scripts.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
pkgfile="/tmp/$(basename "$deb")"

# 3. Install, as the README says.
t0=$(date +%s)
in_root apt-get update -qq >"$work/apt.log" 2>&1 || fatal "apt-get update in the root" "$(cat "$work/apt.log")"
if ! in_root apt-get install -y "$pkgfile" >>"$work/apt.log" 2>&1; then fatal "apt-get install ./$(basename "$deb")" "$(cat "$work/apt.log")"; fi
ok "apt-get install ./$(basename "$deb") with nodejs $(in_root dpkg-query -W -f '${Version}' nodejs) in $(($(date +%s) - t0)) s"

version=$(node -p "require('./package.json').version")
check "sgw --version names $version" bash -c "chroot '$root' sgw --version | grep -F 'sgw/$version'"
check "sgwd --version is $version" bash -c "[ \"\$(chroot '$root' sgwd --version)\" = '$version' ]"
check "postinst made the sgw group" in_root getent group sgw
check "postinst made /var/lib/sgw, mode 0750" bash -c "[ \"\$(stat -c %a '$root/var/lib/sgw')\" = 750 ]"
check "postinst enabled sgwd.service without a running systemd" test -L "$root/etc/systemd/system/multi-user.target.wants/sgwd.service"
check "/etc/sgw/sgwd.env is a conffile" bash -c "chroot '$root' dpkg-query -W -f '\${Conffiles}' sgw | grep -q '/etc/sgw/sgwd.env'"
check "bash completion offers the gateway commands" bash -c \
  "chroot '$root' bash -c 'source /usr/share/bash-completion/completions/sgw; COMP_WORDS=(sgw gateway \"\"); COMP_CWORD=2; _sgw; echo \"\${COMPREPLY[*]}\"' | grep -qw info"

# 4. sgwd by hand, as root with its default state dir and socket, listening on loopback.
read -r iscsi_port nfs_port < <(node -e '
  const net = require("node:net");
  const free = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([free(), free()]).then((ports) => console.log(ports.join(" ")));')
if ! out=$(in_root env SGW_ISCSI_LISTEN="127.0.0.1:$iscsi_port" SGW_NFS_LISTEN="127.0.0.1:$nfs_port" SGW_PORTMAP_LISTEN=off sgwd 2>&1); then
  fatal "sgwd starts in the root" "$out$(cat "$root/var/lib/sgw/sgwd.log" 2>/dev/null)"
fi
sgwd_pid=$(sed -n 's/^sgwd started (pid \([0-9]*\)).*/\1/p' <<<"$out")
ok "sgwd starts in the root: $out"
check "the control socket is /run/sgw/sgw.sock, mode 0660, group sgw" bash -c "[ \"\$(chroot '$root' stat -c '%a %G' /run/sgw/sgw.sock)\" = '660 sgw' ]"

# Piped, so both answer in JSON.
activate=$(in_root sgw activate --name pkg-test 2>&1) || true
if grep -q '"name": "pkg-test"' <<<"$activate"; then ok "sgw activate"; else not_ok "sgw activate" "$activate"; fi
info=$(in_root sgw gateway info 2>&1) || true
if node -e '
  const info = JSON.parse(process.argv[1]);
  const { gateway, daemon } = info;
  process.exit(info.activated && gateway.name === "pkg-test" && daemon.pid === Number(process.argv[2]) &&
    daemon.socket === "/run/sgw/sgw.sock" && daemon.stateDir === "/var/lib/sgw" ? 0 : 1);' "$info" "$sgwd_pid" 2>/dev/null; then
  ok "sgw gateway info shows the gateway and the daemon"
else
  not_ok "sgw gateway info shows the gateway and the daemon" "$info"
fi
in_root useradd --system --no-create-home --groups sgw sgw-operator
in_root useradd --system --no-create-home sgw-outsider
check "a member of the sgw group drives sgwd" in_root runuser -u sgw-operator -- env HOME=/tmp sgw gateway info --json
check "anyone else is refused" bash -c "chroot '$root' runuser -u sgw-outsider -- env HOME=/tmp sgw gateway info --json 2>&1 | grep -i 'permission'"
check "sgw gateway stop drains and stops sgwd" in_root sgw gateway stop
check "sgwd is gone" bash -c "for i in \$(seq 50); do kill -0 $sgwd_pid 2>/dev/null || exit 0; sleep 0.2; done; exit 1"
kill -0 "$sgwd_pid" 2>/dev/null || sgwd_pid=
in_root userdel sgw-operator
in_root userdel sgw-outsider

# 5. Remove, then purge.
if ! in_root apt-get remove -y sgw >"$work/apt.log" 2>&1; then fatal "apt-get remove sgw" "$(cat "$work/apt.log")"; fi
ok "apt-get remove sgw"
check "remove keeps the conffile and the state" test -f "$root/etc/sgw/sgwd.env" -a -d "$root/var/lib/sgw"
check "remove takes the program" test ! -e "$root/usr/lib/sgw" -a ! -e "$root/usr/bin/sgw" -a ! -e "$root/usr/bin/sgwd"
if ! in_root apt-get purge -y sgw >"$work/apt.log" 2>&1; then fatal "apt-get purge sgw" "$(cat "$work/apt.log")"; fi
ok "apt-get purge sgw"
check "dpkg knows nothing of sgw" bash -c "! chroot '$root' dpkg -L sgw >/dev/null 2>&1 && ! chroot '$root' dpkg -s sgw >/dev/null 2>&1"
check "no file or directory of the package is left" bash -c \
  "left=\$(cd '$root' && find . \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp -o -path ./var/cache/apt/archives \\) -prune -o -name '*sgw*' -print); [ -z \"\$left\" ] || { echo \"\$left\"; exit 1; }"
check "purge removed /etc/sgw, /var/lib/sgw and /run/sgw" test ! -e "$root/etc/sgw" -a ! -e "$root/var/lib/sgw" -a ! -e "$root/run/sgw"
check "the sgw group stays, as Debian's system groups do" in_root getent group sgw

# 6. The same under a real systemd, booted in the root as PID 1 of its own pid, mount and network namespaces (the
# host's ports stay free): the unit's Type=notify start, watchdog, draining stop and the maintainer scripts'
# start and stop. The root's nodejs stays from above.
t0=$(date +%s)
if ! in_root apt-get install -y --no-install-recommends systemd >"$work/apt.log" 2>&1; then fatal "apt-get install systemd" "$(cat "$work/apt.log")"; fi
rm "$root/usr/sbin/policy-rc.d"
# trixie mounts a tmpfs on /tmp at boot.
cp "$deb" "$root/var/tmp/"
for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}"; done
mounted=()
# sysfs read-only as in any container, cgroup2 writable for systemd; the mounts die with the namespace.
unshare --fork --pid --mount --uts --ipc --net --propagation private sh -c '
  set -e
  mount --bind "$1" "$1"
  mount -t proc proc "$1/proc"
  mount -t sysfs -o ro sysfs "$1/sys"
  mount -t cgroup2 cgroup2 "$1/sys/fs/cgroup"
  mount --bind /dev "$1/dev"
  cd "$1"
  mkdir -p .oldroot
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  exec env container=sgw-test /usr/lib/systemd/systemd' sh "$root" >"$work/systemd.log" 2>&1 &
unshare_pid=$!
# Only once it runs systemd is its root the trixie one: a command that enters earlier has its root swapped under it.
for i in $(seq 100); do
  init_pid=$(pgrep -P "$unshare_pid" || true)
  [ -n "$init_pid" ] && [ "$(readlink "/proc/$init_pid/exe" || true)" = /usr/lib/systemd/systemd ] && break
  sleep 0.1
done
in_systemd() { timeout 600 nsenter -t "$init_pid" -a "$@"; }
# is-system-running --wait needs systemd's private socket, which comes a moment after systemd itself.
for i in $(seq 120); do
  booted=$(in_systemd timeout 60 systemctl is-system-running --wait 2>&1 || true)
  [[ $booted == *"Failed to connect"* ]] || break
  sleep 0.5
done
case $booted in
  running | degraded) ok "systemd boots in the root: $booted, in $(($(date +%s) - t0)) s" ;;
  *) fatal "systemd boots in the root" "$booted$(cat "$work/systemd.log")" ;;
esac
show() { in_systemd systemctl show sgwd.service -p "$1" --value; }

if ! in_systemd apt-get install -y "/var/tmp/$(basename "$deb")" >"$work/apt.log" 2>&1; then fatal "apt-get install under systemd" "$(cat "$work/apt.log")"; fi
if [ "$(show ActiveState)" = active ] && [[ $(show StatusText) == "serving iSCSI on "* ]]; then
  ok "postinst starts sgwd.service, which is active once it sent READY=1: \"$(show StatusText)\""
else
  not_ok "postinst starts sgwd.service, active once it sent READY=1" "$(in_systemd systemctl status sgwd --no-pager 2>&1)"
fi
check "sgw activate and gateway info through the service's socket" bash -c \
  "nsenter -t $init_pid -a sgw activate --name pkg-systemd >/dev/null && nsenter -t $init_pid -a sgw gateway info | grep -q '\"name\": \"pkg-systemd\"'"

# Pings every second hold off a 2 s watchdog; without them sgwd would be killed and restarted.
mkdir -p "$root/etc/systemd/system/sgwd.service.d"
printf '[Service]\nWatchdogSec=2s\n' >"$root/etc/systemd/system/sgwd.service.d/watchdog.conf"
in_systemd systemctl daemon-reload
in_systemd systemctl restart sgwd.service
first=$(show WatchdogTimestampMonotonic)
sleep 6
if [ "$(show ActiveState)" = active ] && [ "$(show NRestarts)" = 0 ] && [ "$(show WatchdogTimestampMonotonic)" -gt "$first" ]; then
  ok "WATCHDOG=1 pings keep sgwd alive under WatchdogSec=2s"
else
  not_ok "WATCHDOG=1 pings keep sgwd alive under WatchdogSec=2s" "$(in_systemd systemctl status sgwd --no-pager 2>&1)"
fi
rm -r "$root/etc/systemd/system/sgwd.service.d"
in_systemd systemctl daemon-reload

main_pid=$(show MainPID)
since=$(in_systemd date '+%Y-%m-%d %H:%M:%S')
in_systemd systemctl stop sgwd.service
journal=$(in_systemd journalctl -u sgwd.service --since "$since" --no-pager -o cat 2>&1)
if [ "$(show ActiveState)" = inactive ] && [ "$(show Result)" = success ] && grep -q '"drained": true' <<<"$journal"; then
  ok "systemctl stop drains first (ExecStop= sgw gateway stop) and sgwd $main_pid ends cleanly"
else
  not_ok "systemctl stop drains first and sgwd ends cleanly" "$journal"
fi
check "systemd got STOPPING=1 with the stop's status" bash -c "[[ \"\$(nsenter -t $init_pid -a systemctl show sgwd.service -p StatusText --value)\" == 'stopping on SIGTERM'* ]]"

in_systemd systemctl start sgwd.service
main_pid=$(show MainPID)
if ! in_systemd apt-get purge -y sgw >"$work/apt.log" 2>&1; then fatal "apt-get purge under systemd" "$(cat "$work/apt.log")"; fi
if [ "$(show LoadState)" = not-found ] && in_systemd test ! -d "/proc/$main_pid" && [ ! -e "$root/var/lib/sgw" ] && [ ! -e "$root/etc/sgw" ]; then
  ok "apt-get purge under systemd stops sgwd and removes the unit, /etc/sgw and /var/lib/sgw"
else
  not_ok "apt-get purge under systemd stops sgwd and removes the unit, /etc/sgw and /var/lib/sgw" "$(cat "$work/apt.log")"
fi
in_systemd systemctl poweroff --no-block >/dev/null 2>&1 || true
for i in $(seq 100); do kill -0 "$unshare_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$init_pid" 2>/dev/null || true
wait "$unshare_pid" 2>/dev/null || true
init_pid=

echo "# the package test took $(($(date +%s) - started)) s"
finish
