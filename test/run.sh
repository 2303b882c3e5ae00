#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests need, builds, runs every test, and
# ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v fallocate >/dev/null || need_apt+=(util-linux)
# Real iSCSI initiators: libiscsi's tools and conformance suite, and qemu's initiator.
command -v iscsi-test-cu >/dev/null || need_apt+=(libiscsi-bin)
command -v qemu-io >/dev/null || need_apt+=(qemu-utils)
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so ] || need_apt+=(qemu-block-extra)
# A real NFS client: libnfs's nfs-ls, nfs-cat, nfs-cp, nfs-stat.
command -v nfs-ls >/dev/null || need_apt+=(libnfs-utils)
# rpcinfo, a real ONC RPC client for the portmapper; ip and unshare for its namespace.
command -v rpcinfo >/dev/null || [ -x /usr/sbin/rpcinfo ] || need_apt+=(rpcbind)
command -v ip >/dev/null || need_apt+=(iproute2)
# A real terminal for sgw top: tmux, whose pane is captured.
command -v tmux >/dev/null || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# moto (S3 + Glacier test server) ships pip-installed in the machine image; it is not in Debian or npm.
export PATH="$PATH:$HOME/.pyenv/shims"
if ! command -v moto_server >/dev/null; then
  echo "moto_server not found on PATH or in ~/.pyenv/shims: the S3 and Glacier tests need moto 5.x" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

npm ci --no-audit --no-fund
npm run build

mkdir -p .tap
rm -f .tap/kernel.tap .tap/package.tap
set +e
npx tap --reporter=tap --disable-coverage "$@" 2>&1 | tee .tap/results.tap
status=${PIPESTATUS[0]}
# The whole suite also runs the kernel-client lab: a Linux guest under qemu against sgw (about 10 minutes, of
# which 2-3 build the guest image once per machine). Not when only some tests were asked for.
if [ $# -eq 0 ]; then
  bash test/kernel/run.sh 2>&1 | tee .tap/kernel.tap
  kernel=${PIPESTATUS[0]}
  [ "$status" -ne 0 ] || status=$kernel
  # And the Debian package: built, installed with apt into a fresh Debian 13 root, driven, purged (about 5 minutes).
  bash test/packaging/deb-install.sh 2>&1 | tee .tap/package.tap
  package=${PIPESTATUS[0]}
  [ "$status" -ne 0 ] || status=$package
fi
set -e
node test/count-results.mjs .tap/results.tap $(ls .tap/kernel.tap .tap/package.tap 2>/dev/null)
exit $status
