#!/bin/bash
# /run/lab/main: what the guest's boot hook runs (guest-runner.ts hands it over in fw_cfg with the scenario).
# Brings up the network the host forwards to, exports the scenario's environment, runs the scenario and returns
# its exit status; the boot hook prints it as `SGW-LAB-EXIT <status>` and powers off.
set -u
cd /run/lab

ip link set lo up
iface=$(ls /sys/class/net | grep -vx lo | head -n1)
ip link set "$iface" up
ip addr add 10.0.2.15/24 dev "$iface"
ip route add default via 10.0.2.2 dev "$iface"

set -a
. /run/lab/env
set +a
echo "SGW-LAB-STEP guest up: Linux $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/{print $2}') MiB, $(cut -d' ' -f1 /proc/uptime) s after boot"

bash /run/lab/scenario
status=$?

# Kernel warnings and errors of this boot (the boot hook keeps them off the console while the scenario runs).
dmesg --level=emerg,alert,crit,err,warn | sed 's/^/kernel: /'
exit "$status"
