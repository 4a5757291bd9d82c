#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Line coverage of kernel source files from the PCs KCOV recorded.

usage: kcov-lines.py OBJDIR PCS SPEC...

OBJDIR is the kernel's object folder (vmlinux and the .o files), PCS the
PCs, one hex number per line (tests/progs/cthfuzz -c).  SPEC is a source
file, relative to the tree, optionally with :REGEX to count only the
functions whose names match.  A line counts when the compiler put a
coverage callback (__sanitizer_cov_trace_pc) on it; it is covered when one
of those callbacks was reached.  Lines of functions inlined from other
files count for those files, on both sides.
"""
import re
import subprocess
import sys


def instrumented(objdir, src, func_re):
    """{line: set of functions} with a coverage callback, from the .o"""
    obj = f'{objdir}/{src[:-2]}.o'
    out = subprocess.run(['objdump', '-d', '-l', '-r', '--no-show-raw-insn',
                          obj], capture_output=True, text=True,
                         check=True).stdout
    lines = {}
    func = None
    cur = None
    runs = False
    insn = ''
    for text in out.splitlines():
        m = re.match(r'^Disassembly of section (\S+):', text)
        if m:
            # code that runs after boot: not init, exit or startup code
            sec = m.group(1)
            runs = (sec.startswith('.text') and
                    not re.match(r'\.text\.(exit|startup)', sec))
            continue
        m = re.match(r'^[0-9a-f]+ <([^>]+)>:$', text)
        if m:
            func = m.group(1)
            cur = None
            continue
        m = re.match(r'^(/\S+):(\d+)', text)
        if m:
            cur = (m.group(1), int(m.group(2)))
            continue
        # the relocation of a call (a tail jump records its caller's
        # return address, not this line)
        reloc = '__sanitizer_cov_trace_pc' in text and 'R_X86_64' in text
        if not reloc:
            if re.match(r'^\s+[0-9a-f]+:\s', text):
                insn = text
            continue
        if 'call' in insn and runs and cur and func:
            if not cur[0].endswith('/' + src):
                continue
            if func_re and not re.search(func_re, func):
                continue
            lines.setdefault(cur[1], set()).add(func)
    return lines


def covered(objdir, pcs):
    """{(file, line)} of the PCs, through addr2line on vmlinux"""
    # a PC is the return address of the callback: the call is before it
    addrs = [f'{int(p, 16) - 1:x}' for p in pcs]
    out = subprocess.run(['addr2line', '-e', f'{objdir}/vmlinux'],
                         input='\n'.join(addrs), capture_output=True,
                         text=True, check=True).stdout
    hit = set()
    for text in out.splitlines():
        m = re.match(r'^(\S+):(\d+)', text)
        if m:
            hit.add((m.group(1), int(m.group(2))))
    return hit


def main():
    objdir, pcfile, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(pcfile) as f:
        pcs = [line.strip() for line in f if line.strip()]
    hit = covered(objdir, pcs)
    print('| file | lines with coverage callbacks | reached | share |')
    print('|---|---|---|---|')
    for spec in specs:
        src, _, func_re = spec.partition(':')
        lines = instrumented(objdir, src, func_re)
        here = {n for f, n in hit if f.endswith('/' + src)}
        reached = set(lines) & here
        share = 100.0 * len(reached) / len(lines) if lines else 0.0
        name = src + (f' ({func_re})' if func_re else '')
        print(f'| {name} | {len(lines)} | {len(reached)} | {share:.0f}% |')


if __name__ == '__main__':
    main()
