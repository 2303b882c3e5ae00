#!/usr/bin/env bash
# The kernel-client lab (`npm run test:kernel`): real Linux initiators and NFS clients in a qemu guest against sgw
# and against the peer servers. Installs what it needs (Debian packages, npm dependencies when absent), builds sgw,
# builds the guest image once per machine (cached under ~/.cache/sgw-lab), then runs test/kernel/*.lab.ts one at a
# time. Arguments replace the list of lab files, e.g. `npm run test:kernel -- test/kernel/volume.lab.ts`.
# Needs root (debootstrap, network namespaces, tgtd) and about 1.1 GB in the cache; see test/kernel/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
need() { command -v "$1" >/dev/null || need_apt+=("$2"); }
need debootstrap debootstrap
need mkfs.ext4 e2fsprogs
need qemu-system-x86_64 qemu-system-x86
need socat socat
need ip iproute2
need unshare util-linux
need ganesha.nfsd nfs-ganesha
need rpcbind rpcbind
need tgtd tgt
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || need_apt+=(nfs-ganesha-vfs)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need_apt[@]}"
fi

# The volume and NFS labs keep the gateway's data in moto (S3): the volume lab to cut the object store off, the NFS lab
# to read the share's bucket with a plain S3 client; as in test/run.sh.
export PATH="$PATH:$HOME/.pyenv/shims"
if ! command -v moto_server >/dev/null; then
  echo "moto_server not found on PATH or in ~/.pyenv/shims: the volume and NFS labs need moto 5.x" >&2
  exit 1
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build

started=$(date +%s)
npx tsx test/kernel/guest-image.ts

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/kernel/*.lab.ts)
set +e
npx tap --reporter=tap --disable-coverage --jobs=1 --timeout=3600 "${files[@]}"
status=$?
set -e
echo "kernel lab: exit $status after $(($(date +%s) - started)) s (image build included when it ran)"
exit $status
