#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfct add/get/list/disable/enable/delete/flush helper print what they
# print on pristine Linux 6.12.
. "$(dirname "$0")/../lib.sh"
checktool nfct

golden=$TESTS_DIR/golden/nfct-helper.txt
[ -f "$golden" ] || skip "no golden output"
out=$("$TESTS_DIR/progs/nfct-steps.sh")
if ! diff -u "$golden" - <<<"$out" >/tmp/nfct.diff; then
	cat /tmp/nfct.diff
	fail "nfct output differs from pristine 6.12"
fi
echo "$(grep -c '^\$' "$golden") nfct steps print what pristine 6.12 printed"
