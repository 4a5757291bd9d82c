#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fill git format-patch's cover letter template from cover-letter.txt.

usage: cover-letter.py TEXT TEMPLATE >COVER
  TEXT      first line the subject, the rest the blurb
  TEMPLATE  git format-patch --cover-letter's 0000 file
The Date: line becomes $COVER_DATE, so that an unchanged series
regenerates byte for byte.
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    subject, _, blurb = open(sys.argv[1]).read().partition("\n")
    for line in open(sys.argv[2]).read().split("\n"):
        if line.startswith("Date: "):
            line = "Date: " + os.environ["COVER_DATE"]
        line = line.replace("*** SUBJECT HERE ***", subject)
        if line == "*** BLURB HERE ***":
            line = blurb.rstrip("\n")
        print(line)


if __name__ == "__main__":
    main()
