#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what wgdp needs to build, run and test on Debian 12, reserves and
# mounts hugepages. Safe to run any number of times: it only acts on what is
# missing. Run as root.
#
#   WGDP_HUGEPAGES   2 MiB hugepages to reserve (default 512 = 1 GiB)
#   WGDP_SKIP_APT=1  do not touch packages (only check them)
set -euo pipefail

HUGEPAGES=${WGDP_HUGEPAGES:-512}

# Build: toolchain and libraries. Run/test: peers, tools.
PACKAGES=(
	gcc libc6-dev pkg-config meson ninja-build
	dpdk-dev libdpdk-dev libipsec-mb-dev libsodium-dev libb2-dev
	libjansson-dev libmicrohttpd-dev libbpf-dev
	wireguard-go wireguard-tools iproute2 iputils-ping iperf3 tcpdump ethtool util-linux curl
	python3 procps psmisc kmod clang libclang-rt-14-dev openssl
)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and reserves hugepages)"

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	[ "${WGDP_SKIP_APT:-0}" = 1 ] && die "missing packages: ${missing[*]}"
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine has no package lists; update once, then install.
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/wgdp-apt.log 2>&1; then
		apt-get update -q >>/tmp/wgdp-apt.log 2>&1 || die "apt-get update failed (see /tmp/wgdp-apt.log)"
		apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/wgdp-apt.log 2>&1 ||
			die "apt-get install failed (see /tmp/wgdp-apt.log)"
	fi
else
	log "packages: all ${#PACKAGES[@]} present"
fi

# Hugepages for DPDK: reserve (never shrink what someone else reserved) and mount.
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$nr" ]; then
	have=$(cat "$nr")
	if [ "$have" -lt "$HUGEPAGES" ]; then
		echo "$HUGEPAGES" >"$nr" 2>/dev/null || true
		have=$(cat "$nr")
		[ "$have" -ge "$HUGEPAGES" ] || log "warning: only $have of $HUGEPAGES hugepages could be reserved"
	fi
	log "hugepages: $have x 2 MiB reserved"
else
	log "warning: $nr not writable; DPDK will need --no-huge or --in-memory with existing pages"
fi
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null ||
		log "warning: could not mount hugetlbfs on /dev/hugepages"
fi
grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts && log "hugetlbfs: mounted on /dev/hugepages"
mkdir -p /var/run/wireguard
exit 0
