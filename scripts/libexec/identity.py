#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put the submitter's identity into generated patches.

usage: identity.py IDENTITY_FILE PATCH...

Each PATCH's From: header names the commit's author; that header, and
every Signed-off-by: of the same author, get the identity of
IDENTITY_FILE (its first line that is not a comment or blank) instead.
Other trailers (someone else's Signed-off-by:, Reported-by:, ...) stay.
"""
import re
import sys


def identity(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                if not re.fullmatch(r"[^<>@\n]+ <[^<>@\s]+@[^<>@\s]+>", line):
                    sys.exit(f"{path}: not \"Name <address>\": {line}")
                return line
    sys.exit(f"{path}: no identity")


def main():
    who = identity(sys.argv[1])
    for path in sys.argv[2:]:
        with open(path) as f:
            text = f.read()
        head, sep, body = text.partition("\n\n")
        m = re.search(r"^From: (.*)$", head, re.M)
        if not m:
            sys.exit(f"{path}: no From: header")
        author = m.group(1)
        head = head[:m.start()] + "From: " + who + head[m.end():]
        body = body.replace("\nSigned-off-by: " + author + "\n",
                            "\nSigned-off-by: " + who + "\n")
        if body.startswith("Signed-off-by: " + author + "\n"):
            body = "Signed-off-by: " + who + body[len("Signed-off-by: " + author):]
        with open(path, "w") as f:
            f.write(head + sep + body)


main()
