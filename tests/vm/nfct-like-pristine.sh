#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfct add/get/list/disable/enable/delete/flush helper print what they
# print on pristine Linux 6.12.
. "$(dirname "$0")/../lib.sh"
checktool nfct

like_pristine nfct-helper.txt "nfct output" "$TESTS_DIR/progs/nfct-steps.sh"
echo "$(grep -c '^\$' "$TESTS_DIR/golden/nfct-helper.txt") nfct steps print what pristine 6.12 printed"
