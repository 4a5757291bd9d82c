#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Where the .text of some built-in objects lies in vmlinux.

usage: text-ranges.py OBJDIR OBJECT...   (OBJECT: net/netfilter/foo.o)

Prints LO-HI,... (hex): for each object, the address of one of its
text symbols (a name no other object has) in System.map minus its offset
in the object, and
that plus the object's .text size.  Kernels built without
-ffunction-sections link each object's .text in one piece.
"""
import subprocess
import sys


def main():
    objdir, objs = sys.argv[1], sys.argv[2:]
    addr = {}
    with open(f'{objdir}/System.map') as f:
        for line in f:
            a, t, name = line.split()[:3]
            if t in 'Tt':
                addr.setdefault(name, []).append(int(a, 16))
    out = []
    for obj in objs:
        path = f'{objdir}/{obj}'
        size = 0
        for line in subprocess.run(['objdump', '-h', path],
                                   capture_output=True, text=True,
                                   check=True).stdout.splitlines():
            f = line.split()
            if len(f) > 2 and f[1] == '.text':
                size = int(f[2], 16)
        syms = subprocess.run(['nm', '--defined-only', path],
                              capture_output=True, text=True,
                              check=True).stdout.splitlines()
        for line in syms:
            a, t, name = line.split()[:3]
            # a text symbol whose name is the only one in the kernel
            if t in 'Tt' and len(addr.get(name, [])) == 1:
                lo = addr[name][0] - int(a, 16)
                out.append(f'{lo:x}-{lo + size:x}')
                break
    print(','.join(out))


if __name__ == '__main__':
    main()
