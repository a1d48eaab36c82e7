#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A host on IFACE that answers ARP requests for ADDRESS only after DELAY seconds.

    slow_arp.py IFACE ADDRESS DELAY COUNTS

Run it in a namespace whose kernel does not answer for ADDRESS itself (the
address on lo, arp_ignore=1 on IFACE), so that every resolution and every
re-confirmation of ADDRESS by a neighbour takes DELAY. Replies carry IFACE's
MAC. On SIGTERM it writes "requests N unicast N replies N" to COUNTS (unicast:
requests sent to IFACE's MAC rather than broadcast, i.e. re-confirmations).
"""
import heapq
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4


def main():
    ifname, addr, delay, counts = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((ifname, ETH_P_ARP))
    mac = s.getsockname()[4][:6]
    n = {"requests": 0, "unicast": 0, "replies": 0}
    due = []  # (time, seq, frame)
    seq = 0

    def stop(*_):
        with open(counts, "w") as f:
            f.write("requests %d unicast %d replies %d\n" % (n["requests"], n["unicast"], n["replies"]))
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        if select.select([s], [], [], timeout)[0]:
            frame, where = s.recvfrom(2048)
            if where[2] == PACKET_OUTGOING or len(frame) < 42:
                continue
            htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
            sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
            if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 1) or tpa != addr:
                continue
            n["requests"] += 1
            n["unicast"] += frame[0:6] == mac
            reply = (sha + mac + struct.pack("!HHHBBH", ETH_P_ARP, 1, 0x0800, 6, 4, 2) +
                     mac + addr + sha + spa).ljust(60, b"\0")
            seq += 1
            heapq.heappush(due, (time.monotonic() + delay, seq, reply))
        while due and due[0][0] <= time.monotonic():
            s.send(heapq.heappop(due)[2])
            n["replies"] += 1


if __name__ == "__main__":
    main()
