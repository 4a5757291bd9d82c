#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What the kernel offers for userspace helpers matches how it was built:
# on the stripped base (CTHELPER_SERIES=0) a queue bound with
# NFQA_CFG_F_CONNTRACK is refused and nfct cannot list helpers; with the
# series both work.
. "$(dirname "$0")/../lib.sh"
checktool nfct

out=$("$TESTS_BIN/nfq" -q 7 -c -n 1 -t 1 2>&1)
nfct_out=$(nfct list helper 2>&1)
nfct_rc=$?
if [ "${CTHELPER_SERIES:-1}" = 0 ]; then
	grep -q 'config: Operation not supported' <<<"$out" ||
		fail "F_CONNTRACK not refused on the base: $out"
	[ $nfct_rc -ne 0 ] || fail "nfct list helper worked on the base: $nfct_out"
	echo "base: F_CONNTRACK refused ($out); nfct: $nfct_out"
else
	grep -q 'ready queue=7 conntrack=1' <<<"$out" ||
		fail "F_CONNTRACK refused: $out"
	[ $nfct_rc -eq 0 ] || fail "nfct list helper: $nfct_out"
	echo "series: F_CONNTRACK accepted; nfct list helper works"
fi
