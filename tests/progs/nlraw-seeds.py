#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The netlink messages a client sent, from strace's dump of its sendto()
and sendmsg() calls (strace -f -xx -e trace=sendto,sendmsg -e write=all),
as a raw-message input of tests/progs/cthdiff (RAW_MAGIC, its records:
target, length, bytes).  nfnetlink_queue verdicts get target 1 (they are
sent on the helper's queue, on a packet of its own), everything else 0;
of verdicts of the same length only the first is kept.

usage: nlraw-seeds.py TRACE OUT [all|verdicts|others] [MAX]
exit: 0 a seed was written, 1 the trace held no message of that kind
"""
import re
import struct
import sys

MAGIC = b"NLRAW1"
SUBSYS_QUEUE = 3
QUEUE_VERDICTS = (1, 3)  # NFQNL_MSG_VERDICT, NFQNL_MSG_VERDICT_BATCH
HEX = re.compile(r"\b[0-9a-f]{2}\b")


def sent_buffers(path):
    """the bytes of each traced call, in order"""
    cur = None
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith(" | "):
                if cur is not None:
                    cur += bytes(int(h, 16) for h in HEX.findall(line[10:59]))
            elif line.startswith(" * "):
                continue  # sendmsg: the next iovec follows
            elif "sendto(" in line or "sendmsg(" in line:
                if cur:
                    yield cur
                cur = bytearray()
    if cur:
        yield cur


def messages(buf):
    off = 0
    while off + 16 <= len(buf):
        n = struct.unpack_from("<I", buf, off)[0]
        if n < 16 or off + n > len(buf):
            n = len(buf) - off
        yield bytes(buf[off:off + n])
        off += (n + 3) & ~3


def main():
    trace, out = sys.argv[1], sys.argv[2]
    kind = sys.argv[3] if len(sys.argv) > 3 else "all"
    cap = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    seed = bytearray(MAGIC)
    count = 0
    shapes = set()
    for buf in sent_buffers(trace):
        for msg in messages(buf):
            typ = struct.unpack_from("<H", msg, 4)[0]
            verdict = typ >> 8 == SUBSYS_QUEUE and typ & 0xff in QUEUE_VERDICTS
            if (kind == "verdicts" and not verdict) or \
               (kind == "others" and verdict) or count >= cap:
                continue
            # a verdict like one already kept (same length: the same
            # attributes) adds nothing but time
            if verdict and len(msg) in shapes:
                continue
            if verdict:
                shapes.add(len(msg))
            # sequence number and port id zeroed: the same messages make
            # the same seed
            msg = msg[:8] + bytes(8) + msg[16:]
            seed += bytes([1 if verdict else 0]) + struct.pack(">H", len(msg))
            seed += msg
            count += 1
    if not count:
        return 1
    with open(out, "wb") as f:
        f.write(seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
