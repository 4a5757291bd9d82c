#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The differential test: tests/progs/cthdiff's sequence 1 (10,000
# nfnetlink_cthelper requests and verdicts on queued packets) gives, request
# by request, the errno and the resulting state that pristine Linux 6.12
# gave (tests/golden/cthdiff.txt.gz, recorded by scripts/golden), except
# where tests/conf/cthdiff.allow says why not.  Then the same generator
# without -p, with what crashes 6.12, on our kernel alone: it must come
# through (the console is checked by scripts/boot).
. "$(dirname "$0")/../lib.sh"
checktool nft
checktool python3

golden=$TESTS_DIR/golden/cthdiff.txt.gz
[ -f "$golden" ] || skip "no golden output cthdiff.txt.gz"
# the count the golden run was made with, from its last line
count=$(zcat "$golden" | sed -n 's/^# \([0-9]*\) requests.*/\1/p')
[ -n "$count" ] || fail "cthdiff.txt.gz has no request count"
# A debug kernel (kmemleak, KASAN) is several times slower: there the
# sequence's first 2,000 requests, compared with the same part of it.
prefix=
full=3000
if [ -e /sys/kernel/debug/kmemleak ]; then
	count=2000
	prefix=--prefix
	full=1000
fi
"$TESTS_DIR/progs/cthdiff.sh" 1 "$count" >/tmp/cthdiff.ours ||
	fail "cthdiff did not run"
zcat "$golden" >/tmp/cthdiff.upstream
python3 "$TESTS_DIR/progs/cthdiff-compare.py" $prefix \
	"$TESTS_DIR/conf/cthdiff.allow" \
	/tmp/cthdiff.upstream /tmp/cthdiff.ours >/tmp/cthdiff.cmp
rc=$?
grep -v '^  \(upstream\|ours    \)|' /tmp/cthdiff.cmp | tail -n 30
[ $rc -eq 0 ] || { head -n 60 /tmp/cthdiff.cmp; fail "a difference from 6.12 that the allowlist does not name"; }

# what 6.12 cannot take: NFQA_EXP without its tuple or mask among them
CTHDIFF_FLAGS=-t "$TESTS_DIR/progs/cthdiff.sh" 2 $full >/tmp/cthdiff.full ||
	fail "cthdiff without -p did not run"
n=$(grep -cE '^T .* exp\{ (mask|timeout|class|flags|helper|fn|zone|\})' /tmp/cthdiff.full)
[ "$n" -gt 0 ] || fail "no verdict with NFQA_EXP lacking its tuple was sent"
echo "$(grep -c '^[RT] ' /tmp/cthdiff.ours) requests and verdicts compared with 6.12, every difference allowed ($(grep -cE '^(allow|equal) ' "$TESTS_DIR/conf/cthdiff.allow") rules); $n verdicts with NFQA_EXP lacking its tuple taken"
