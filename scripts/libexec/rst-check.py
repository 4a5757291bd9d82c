#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render one reStructuredText file with docutils, strictly.

usage: rst-check.py FILE [NAME]
Exits 1, printing the message, on any warning or error (NAME, the
file's path in the kernel tree, is what the message calls it).
"""
import sys

import docutils.core
import docutils.utils


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    name = sys.argv[2] if len(sys.argv) == 3 else sys.argv[1]
    try:
        docutils.core.publish_string(open(sys.argv[1]).read(),
                                     source_path=name, writer_name='html',
                                     settings_overrides={'halt_level': 2,
                                                         'report_level': 2})
    except docutils.utils.SystemMessage as e:
        print(e)
        sys.exit(1)


if __name__ == "__main__":
    main()
