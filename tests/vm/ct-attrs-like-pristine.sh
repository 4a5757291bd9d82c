#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The conntrack that nfnetlink_queue (NFQA_CT) and nfnetlink_log
# (NFULA_CT) attach to packets has, attribute for attribute and in the
# same order, the shape it has on pristine Linux 6.12.
. "$(dirname "$0")/../lib.sh"
checktool nfct
checktool iptables
checktool socat

golden=$TESTS_DIR/golden/ct-attrs.txt
[ -f "$golden" ] || skip "no golden output"
out=$("$TESTS_DIR/progs/ct-attrs.sh")
if ! diff -u "$golden" - <<<"$out" >/tmp/ct-attrs.diff; then
	cat /tmp/ct-attrs.diff
	fail "NFQA_CT / NFULA_CT differ from pristine 6.12"
fi
echo "$(grep -c '^queue \|^log ' "$golden") NFQA_CT/NFULA_CT trees as on pristine 6.12"
