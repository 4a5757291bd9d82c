#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare two transcripts of tests/progs/cthdiff, episode by episode.

usage: cthdiff-compare.py [--prefix] ALLOWLIST UPSTREAM OURS

--prefix: OURS ran the first part of UPSTREAM's sequence (fewer
requests); only its episodes are compared.

Every line of both transcripts first loses what the allowlist's "strip"
rules match.  Then the lines of an episode are compared one by one.  A
differing pair is described as "R|T DESC -> UPSTREAM || OURS" for a
request or verdict both sides described alike, and otherwise as
"AFTER R|T DESC :: UPSTREAM-LINE || OURS-LINE" (DESC: the request or
verdict before that line), or "UPSTREAM-LINE || OURS-LINE" when there is
none.  The pair is allowed by

  equal NAME FIELD CONTEXT     the description matches CONTEXT and the two
                               lines are the same once FIELD's matches are
                               taken out of both; comparing goes on;
  allow NAME REGEX             the description matches REGEX; comparing
                               goes on when the lines up to the next
                               request or verdict are the same on both
                               sides (the difference changed no state),
                               else the rest of the episode follows from
                               it and is not read.

Anything else fails.  Exit 0 when every difference is allowed; rules that
allowed nothing are listed.
"""
import re
import sys


def load_rules(path):
    rules = []
    why = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip():
                why = []
                continue
            if line.startswith('#'):
                why.append(line[1:].strip())
                continue
            kind, _, rest = line.partition(' ')
            if kind == 'strip':
                rules.append(('strip', None, re.compile(rest), None))
            elif kind == 'allow':
                name, _, rx = rest.partition(' ')
                rules.append(('allow', name, re.compile(rx), None))
            elif kind == 'equal':
                name, field, ctx = rest.split(' ', 2)
                rules.append(('equal', name, re.compile(ctx),
                              re.compile(field)))
            else:
                sys.exit(f'{path}:{n}: unknown rule {kind!r}')
            if not why:
                sys.exit(f'{path}:{n}: a rule without its reason')
    return rules


def episodes(path, strips):
    """{episode number: [lines]}, and the request count line"""
    eps = {}
    cur = None
    total = None
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('# '):
                total = line
                continue
            for rx in strips:
                line = rx.sub('', line)
            if line.startswith('E '):
                cur = int(line[2:])
                eps[cur] = []
            elif cur is not None:
                eps[cur].append(line)
    return eps, total


def subject(lines, i, up, ours):
    """what an allow rule is matched against: for a request or verdict
    both described alike, "R|T DESC -> UPSTREAM || OURS"; for any other
    line, "UPSTREAM-LINE || OURS-LINE" after "AFTER R|T DESC :: " when a
    request or verdict came before it in the episode"""
    if up[:2] in ('R ', 'T ') and ours[:2] == up[:2]:
        ud, _, ur = up.partition(' -> ')
        od, _, orr = ours.partition(' -> ')
        if ud == od:
            return f'{up[0]} {ud.split(" ", 2)[2]} -> {ur} || {orr}'
    before = next((x for x in reversed(lines[:i]) if x[:2] in ('R ', 'T ')),
                  None)
    if before:
        desc = before.partition(' -> ')[0].split(' ', 2)[2]
        return f'AFTER {before[0]} {desc} :: {up} || {ours}'
    return f'{up} || {ours}'


def main():
    args = sys.argv[1:]
    prefix = args[0] == '--prefix'
    if prefix:
        args = args[1:]
    rules = load_rules(args[0])
    strips = [r[2] for r in rules if r[0] == 'strip']
    allows = [r for r in rules if r[0] in ('allow', 'equal')]
    up, up_total = episodes(args[1], strips)
    ours, ours_total = episodes(args[2], strips)
    if prefix:
        up = {ep: lines for ep, lines in up.items() if ep in ours}
        up_total = ours_total
    used = {r[1]: 0 for r in allows}
    bad = []
    requests = 0
    for ep in sorted(set(up) | set(ours)):
        a = up.get(ep)
        b = ours.get(ep)
        if a is None or b is None:
            bad.append((ep, 'only in ' + ('ours' if a is None else 'upstream'),
                        a or [], b or []))
            continue
        requests += sum(1 for line in a if line[:2] in ('R ', 'T '))
        i = 0
        while a != b and i < max(len(a), len(b)):
            if i >= len(a) or i >= len(b):
                bad.append((ep, 'one side has more lines', a, b))
                break
            x, y = a[i], b[i]
            i += 1
            if x == y:
                continue
            s = subject(a, i - 1, x, y)
            rule = next((r for r in allows if r[0] == 'equal' and
                         r[2].search(s) and
                         r[3].sub('', x) == r[3].sub('', y)), None)
            if rule:
                used[rule[1]] += 1
                continue
            rule = next((r for r in allows if r[0] == 'allow' and
                         r[2].search(s)), None)
            if rule is None:
                bad.append((ep, s, a, b))
                break
            used[rule[1]] += 1
            # the state after it: the same on both sides, or diverged
            j = i
            while (j < len(a) and j < len(b) and a[j] == b[j] and
                   a[j][:2] not in ('R ', 'T ')):
                j += 1
            same = ((j >= len(a) and j >= len(b)) or
                    (j < len(a) and j < len(b) and a[j][:2] in ('R ', 'T ')
                     and b[j][:2] == a[j][:2]))
            if not same:
                break
            i = j
    if up_total != ours_total:
        bad.append((0, f'runs differ in length: {up_total} / {ours_total}',
                    [], []))
    for ep, what, a, b in bad[:20]:
        print(f'episode {ep}: not allowed: {what}')
        for line in a:
            print(f'  upstream| {line}')
        for line in b:
            print(f'  ours    | {line}')
    print(f'{requests} requests and verdicts in {len(up)} episodes; '
          f'{sum(used.values())} differences allowed, {len(bad)} episodes '
          f'with one that is not')
    for name, n in used.items():
        print(f'  {name}: {n}')
    print(f'allowlist: {len(allows)} rules, {len(strips)} strip; '
          f'allowing nothing in this run: '
          f'{" ".join(k for k, v in used.items() if not v) or "none"}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
