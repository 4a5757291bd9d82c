#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put the submitter's identity into generated patches.

usage: identity.py IDENTITY_FILE [--ours "Name <address>"]... PATCH...

Our own authors are the identity of IDENTITY_FILE (its first line that
is not a comment or blank) and each given with --ours (the authors of
the branch's own commits).  A patch whose From: names one of them gets
the identity in its From: header; a patch credited to someone else (a
fix taken from upstream) keeps its author.  In every patch, the
Signed-off-by: of one of our authors becomes the identity's; other
trailers stay.  The cover letter is from the identity, and the
shortlog's heading of each of our authors ("Name (N):") gets the
identity's name, so that it does not depend on who applied or committed
the patches.
"""
import re
import sys

IDENT = r"[^<>@\n]+ <[^<>@\s]+@[^<>@\s]+>"


def identity(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                if not re.fullmatch(IDENT, line):
                    sys.exit(f"{path}: not \"Name <address>\": {line}")
                return line
    sys.exit(f"{path}: no identity")


def name(ident):
    return ident.rsplit(" <", 1)[0]


def rewrite(path, who, ours):
    with open(path) as f:
        text = f.read()
    head, sep, body = text.partition("\n\n")
    m = re.search(r"^From: (.*)$", head, re.M)
    if not m:
        sys.exit(f"{path}: no From: header")
    cover = path.endswith("0000-cover-letter.patch")
    # the posting is the submitter's, whoever wrote its last patch
    if cover or m.group(1) in ours:
        head = head[:m.start()] + "From: " + who + head[m.end():]
    # our sign-off, under our patches and under upstream's we carry
    for author in ours:
        body = re.sub(r"^Signed-off-by: " + re.escape(author) + "$",
                      "Signed-off-by: " + who, body, flags=re.M)
    if cover:
        for other in {name(o) for o in ours}:
            body = re.sub(r"^" + re.escape(other) + r"( \(\d+\):)$",
                          lambda s: name(who) + s.group(1), body,
                          flags=re.M)
    with open(path, "w") as f:
        f.write(head + sep + body)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__.split("\n\n")[1])
    who = identity(args.pop(0))
    ours = {who}
    while len(args) >= 2 and args[0] == "--ours":
        if re.fullmatch(IDENT, args[1]):
            ours.add(args[1])
        args = args[2:]
    for path in args:
        rewrite(path, who, ours)


main()
