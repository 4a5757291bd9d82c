#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What bench/profile-in-vm.sh recorded, per transaction.

usage: profile-report.py DIR

For none, nfqueue and helper: the client's rate, the microseconds of one
transaction, the perf samples of one thousand transactions by process and
object, then the symbols that cost the helper most over the bare NFQUEUE
round trip and over no queueing.  Samples come from the guest's cpu-clock:
only their proportions mean something.
"""
import re
import sys

RUNS = ("none", "nfqueue", "helper")


def rate(d, run):
    """transactions and transactions/s the client printed"""
    with open(f"{d}/{run}.txt") as f:
        m = re.match(r"rr (\d+) ([\d.]+)/s", f.read())
    return int(m.group(1)), float(m.group(2))


def samples(path, key):
    """{key: samples} from a perf report --stdio -n"""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s+[\d.]+%\s+(\d+)\s+(.*\S)", line)
            if m:
                k = key(m.group(2))
                out[k] = out.get(k, 0) + int(m.group(1))
    return out


def main():
    d = sys.argv[1]
    per, sym = {}, {}
    print("| run | transactions/s | us per transaction | samples per 1000 transactions, by process and object |")
    print("|---|---|---|---|")
    for run in RUNS:
        n, r = rate(d, run)
        comm = samples(f"{d}/{run}.comm", lambda s: " ".join(s.split()[:2]))
        sym[run] = {k: v * 1000.0 / n for k, v in
                    samples(f"{d}/{run}.sym", lambda s: s).items()}
        per[run] = sum(sym[run].values())
        top = sorted(comm.items(), key=lambda kv: -kv[1])[:5]
        parts = ", ".join(f"{k} {v * 1000.0 / n:.1f}" for k, v in top)
        print(f"| {run} | {r:.1f} | {1e6 / r:.0f} | {per[run]:.1f}: {parts} |")
    print()
    for a, b in (("helper", "nfqueue"), ("helper", "none")):
        print(f"Symbols that cost {a} most over {b}, samples per 1000 transactions:")
        print()
        print(f"| symbol | none | nfqueue | helper | {a} - {b} |")
        print("|---|---|---|---|---|")
        keys = set(sym[a]) | set(sym[b])
        for k in sorted(keys, key=lambda k: sym[b].get(k, 0) - sym[a].get(k, 0))[:15]:
            print("| `%s` | %.2f | %.2f | %.2f | %+.2f |" % (
                k, sym["none"].get(k, 0), sym["nfqueue"].get(k, 0),
                sym["helper"].get(k, 0), sym[a].get(k, 0) - sym[b].get(k, 0)))
        print()


main()
