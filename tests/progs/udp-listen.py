#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A bound UDP socket that reads nothing, so that datagrams to ADDR PORT
get no port unreachable error: prints "listening", then holds the socket
for SECONDS (default 60).

usage: udp-listen.py ADDR PORT [SECONDS]
"""
import socket
import sys
import time


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    print("listening", flush=True)
    time.sleep(float(sys.argv[3]) if len(sys.argv) == 4 else 60)


if __name__ == "__main__":
    main()
