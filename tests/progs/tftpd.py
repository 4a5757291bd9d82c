#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Minimal TFTP server for the tests: answers read requests for one file
from a new UDP port, as TFTP does, so that the client's firewall needs the
tftp helper's expectation to let the answer in."""
import socket
import struct
import sys

addr, path = sys.argv[1], sys.argv[2]
family = socket.AF_INET6 if ':' in addr else socket.AF_INET
data = open(path, 'rb').read()[:511]
srv = socket.socket(family, socket.SOCK_DGRAM)
srv.bind((addr, 69))
print('listening', flush=True)
while True:
    req, peer = srv.recvfrom(1500)
    if struct.unpack('!H', req[:2])[0] != 1:    # RRQ
        continue
    out = socket.socket(family, socket.SOCK_DGRAM)
    out.bind((addr, 0))
    out.settimeout(2)
    out.sendto(struct.pack('!HH', 3, 1) + data, peer)
    try:
        out.recvfrom(1500)
    except socket.timeout:
        pass
    out.close()
