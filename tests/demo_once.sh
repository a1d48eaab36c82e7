#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Smoke test of the demo: `scripts/demo.sh --once` (wgdp with one
# wireguard-go client in two namespaces, a ping and a 3-s iperf3 through the
# tunnel) must succeed and leave no namespace or process behind.
#
#   tests/demo_once.sh          (root)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ID=dm$$

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP demo/once: needs root (network namespaces)"
	exit 0
fi
for tool in wireguard-go wg iperf3; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL demo/once: $tool is not installed (scripts/setup.sh installs it)"
		exit 1
	fi
done

out=$(NETNS_ID=$ID WGDP_SKIP_SETUP=1 timeout 300 bash "$HERE/../scripts/demo.sh" --once 2>&1)
rc=$?
left=$(ip netns list | grep -c "^wgt-$ID-" || true)
if [ "$rc" -eq 0 ] && grep -q '^demo: OK' <<<"$out" && [ "$left" -eq 0 ]; then
	echo "PASS demo/once ($(grep -m1 -oE '^ +[0-9]+ Mbit/s' <<<"$out" | sed 's/^ *//') in the 3-s iperf3)"
	exit 0
fi
echo "$out" | tail -60
[ "$left" -eq 0 ] || echo "namespaces left behind: $(ip netns list | grep "^wgt-$ID-")"
echo "FAIL demo/once: exit status $rc"
exit 1
