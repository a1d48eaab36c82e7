#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Bursts of junk handshake initiations with a valid mac1 (so a responder must
queue them before the costly part), growing until the responder answers one
with a cookie reply, which shows it is under load; then it says so and keeps
going until the duration ends. Used by the cookie tests against wireguard-go
and wgdp. Traffic goes only to the address given (a test namespace).

    hsflood.py HOST PORT RESPONDER_PUBLIC_KEY SOURCE_ADDRESS SECONDS
"""
import base64, hashlib, os, socket, sys, time
host, port, pub, src, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
# mac1 = MAC(HASH("mac1----" || responder public key), message[0:116])
key = hashlib.blake2s(b"mac1----" + base64.b64decode(pub)).digest()
msgs = []
for _ in range(64):
    body = bytes([1, 0, 0, 0]) + os.urandom(112)
    msgs.append(body + hashlib.blake2s(body, key=key, digest_size=16).digest() + bytes(16))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.setblocking(False)
burst, bursts, under_load = 300, 0, False
end = time.monotonic() + duration
while time.monotonic() < end:
    for i in range(burst):
        try:
            s.sendto(msgs[i & 63], (host, port))
        except BlockingIOError:
            pass
    try:
        while True:
            if s.recv(2048)[0] == 3 and not under_load:  # a cookie reply
                under_load = True
                print("under load after %d bursts, now of %d" % (bursts + 1, burst), flush=True)
    except BlockingIOError:
        pass
    bursts += 1
    if not under_load and bursts % 10 == 0 and burst < 4000:
        burst *= 2
    time.sleep(0.05)
