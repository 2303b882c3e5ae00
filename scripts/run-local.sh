#!/usr/bin/env bash
# Installs and builds sgw, starts sgwd on the embedded local object store (state in ./.state), activates the
# gateway, gives it an upload buffer and a cache, creates a cached volume and shows its iSCSI target, and a file
# share and its NFS export. Safe to run
# again: a running daemon, the disks and the volume are reused, and activation is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export SGW_STATE_DIR="$PWD/.state" SGW_SOCKET="$PWD/.state/sgw.sock" SGW_ISCSI_LISTEN="${SGW_ISCSI_LISTEN:-127.0.0.1:3260}"
export SGW_NFS_LISTEN="${SGW_NFS_LISTEN:-127.0.0.1:2049}" SGW_PORTMAP_LISTEN="${SGW_PORTMAP_LISTEN:-off}"
sgw() { node bin/sgw.js "$@"; }

npm ci --no-audit --no-fund
npm run build
if ! sgw gateway info --json >/dev/null 2>&1; then
  node bin/sgwd.js
fi
sgw activate --json >/dev/null
mkdir -p .state/disks
if [ "$(sgw disk list --json)" = "[]" ]; then
  sgw disk add-upload-buffer "$PWD/.state/disks/upload-buffer" --size 1GiB --json >/dev/null
  sgw disk add-cache "$PWD/.state/disks/cache" --size 2GiB --json >/dev/null
fi
sgw volume describe demo --json >/dev/null 2>&1 || sgw volume create demo --cached 10GiB --json >/dev/null
sgw share describe files --json >/dev/null 2>&1 || sgw share create files --bucket local-files --json >/dev/null
sgw gateway info
sgw volume describe demo
sgw share describe files
echo
echo "sgwd runs in the background (log: .state/sgwd.log); the volume is an iSCSI disk at $SGW_ISCSI_LISTEN, the share an NFS export at $SGW_NFS_LISTEN. Try:"
echo "  iscsi-ls -s iscsi://$SGW_ISCSI_LISTEN          # (apt-get install libiscsi-bin)"
nfs_host=${SGW_NFS_LISTEN%:*} nfs_port=${SGW_NFS_LISTEN##*:}
echo "  nfs-ls -R 'nfs://$nfs_host/files?version=3&nfsport=$nfs_port&mountport=$nfs_port'   # (apt-get install libnfs-utils)"
echo "  SGW_SOCKET=$SGW_SOCKET node bin/sgw.js --help"
echo "Stop it with: kill \$(cat .state/sgwd.pid)"
