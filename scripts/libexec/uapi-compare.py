#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the uapi constants userspace helpers depend on between two
kernel trees: every enum member and object-like #define of the listed
headers (as the first tree spells them) must have the same value in the
second, except the maximum of an attribute enum we append to, which may
only grow.  Prints one line per difference; exit status 1 if any."""
import os
import re
import subprocess
import sys
import tempfile

HEADERS = [
    'linux/netfilter/nfnetlink_cthelper.h',
    'linux/netfilter/nfnetlink.h',
    'linux/netfilter/nfnetlink_queue.h',
    'linux/netfilter/nfnetlink_log.h',
    'linux/netfilter/nfnetlink_conntrack.h',
]
# Which names matter: the whole cthelper header, and from the others the
# families the glue and the helpers use.
WANTED = re.compile(r'^(NFCT_HELPER_|NFNL_MSG_CTHELPER|NFCTH_|NFNL_SUBSYS_|'
                    r'NFQA_|NFQNL_|NFULA_|NFULNL_|CTA_HELP|CTA_EXPECT|'
                    r'NF_CT_EXPECT_)')
# Attribute enums the series appends to (NFCTH_FLAGS, NFCTH_STATS): their
# maximum grows, every value upstream has stays.
GROWS = {'NFCTH_MAX'}


def names(path):
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    found = []
    for m in re.finditer(r'enum\s+\w*\s*\{(.*?)\}', text, flags=re.S):
        for item in m.group(1).split(','):
            name = item.split('=')[0].strip()
            if re.match(r'^[A-Z_][A-Z0-9_]*$', name):
                found.append(name)
    for m in re.finditer(r'^#define\s+([A-Z_][A-Z0-9_]*)\s+\S', text, flags=re.M):
        found.append(m.group(1))
    return [n for n in found if WANTED.match(n)]


def values(root, wanted, tmp, tag):
    src = os.path.join(tmp, tag + '.c')
    with open(src, 'w') as f:
        f.write('#include <stdio.h>\n#include <sys/socket.h>\n')
        for h in HEADERS:
            f.write('#include <%s>\n' % h)
        f.write('int main(void)\n{\n')
        for n in wanted:
            f.write('#ifdef %s\n' % n)
            f.write('\tprintf("%s %%lld\\n", (long long)(%s));\n' % (n, n))
            f.write('#else\n')
            f.write('\tprintf("%s %%lld\\n", (long long)(%s));\n' % (n, n))
            f.write('#endif\n')
        f.write('\treturn 0;\n}\n')
    exe = os.path.join(tmp, tag)
    subprocess.run(['gcc', '-w', '-I', root, src, '-o', exe], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return dict(line.split() for line in out.splitlines())


def main():
    ref_root, our_root = sys.argv[1], sys.argv[2]
    # A header missing from a tree would be taken from the system's
    # include path and compared in its place.
    missing = [os.path.join(root, h) for root in (ref_root, our_root)
               for h in HEADERS if not os.path.isfile(os.path.join(root, h))]
    for path in missing:
        print('%s: no such header' % path)
    if missing:
        return 1
    wanted = []
    for h in HEADERS:
        for n in names(os.path.join(ref_root, h)):
            if n not in wanted:
                wanted.append(n)
    with tempfile.TemporaryDirectory() as tmp:
        ref = values(ref_root, wanted, tmp, 'ref')
        try:
            ours = values(our_root, wanted, tmp, 'ours')
        except subprocess.CalledProcessError:
            print('our headers lack some constants (compile failed)')
            return 1
    grown = [n for n in wanted
             if n in GROWS and int(ours[n]) > int(ref[n])]
    bad = [n for n in wanted if ref[n] != ours[n] and n not in grown]
    for n in grown:
        print('%s: upstream %s, ours %s (appended)' % (n, ref[n], ours[n]))
    for n in bad:
        print('%s: upstream %s, ours %s' % (n, ref[n], ours[n]))
    print('%d constants compared, %d differ' % (len(wanted), len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
