#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The conntrack that nfnetlink_queue (NFQA_CT) and nfnetlink_log
# (NFULA_CT) attach to packets has, attribute for attribute and in the
# same order, the shape it has on pristine Linux 6.12.
. "$(dirname "$0")/../lib.sh"
checktool nfct
checktool iptables
checktool socat

like_pristine ct-attrs.txt "the shape of NFQA_CT / NFULA_CT" \
	"$TESTS_DIR/progs/ct-attrs.sh"
echo "$(grep -c '^queue \|^log ' "$TESTS_DIR/golden/ct-attrs.txt") NFQA_CT/NFULA_CT trees as on pristine 6.12"
