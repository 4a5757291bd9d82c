#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside scripts/fuzz's VM: seed inputs (the corpus of earlier runs or the
# differential generator's sequences, and what conntrack-tools send),
# afl-fuzz on tests/progs/cthfuzz for SECONDS, then the kernel PCs the
# resulting corpus reaches and a kmemleak scan.  Everything
# lands in $VM_OUT: seeds/, afl/ (afl-fuzz's output), last-input (the
# input being run, kept should the kernel go down), pcs.txt.
#
# usage: fuzz-in-vm.sh SECONDS [CORPUS]   (CORPUS: inputs of earlier runs)
set -u
secs=$1
corpus=${2:-}
mkdir -p "$VM_OUT/seeds"
if [ -n "$corpus" ] && [ -n "$(ls -A "$corpus" 2>/dev/null)" ]; then
	cp "$corpus"/* "$VM_OUT/seeds/"
else
	# the differential generator's sequences, short, as seeds
	ip netns add seeds && ip -n seeds link set lo up
	for s in $(seq 1 24); do
		ip netns exec seeds "$TESTS_BIN/cthdiff" -t -s "$s" -n 40 \
			-c "$VM_OUT/seeds/gen-$s" >/dev/null
	done
	ip netns del seeds
fi
# what conntrack-tools send (nfct, conntrackd during an FTP download), as
# raw messages, unless the corpus has such inputs already
if ! grep -qs NLRAW1 "$VM_OUT"/seeds/*; then
	"$(dirname "$0")/fuzz-seeds.sh" "$VM_OUT/seeds" ||
		echo "no seeds from conntrack-tools"
fi
echo "seeds: $(find "$VM_OUT/seeds" -type f | wc -l)"
# kmemleak: forget what boot left, report what the fuzzing left
kml=/sys/kernel/debug/kmemleak
[ -e $kml ] && echo scan >$kml && echo clear >$kml
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
	AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1 \
	AFL_FORKSRV_INIT_TMOUT=60000 AFL_FAST_CAL=1 AFL_TMPDIR=/tmp
afl-fuzz -i "$VM_OUT/seeds" -o "$VM_OUT/afl" -V "$secs" -t 20000 -m none \
	-- "$TESTS_BIN/cthfuzz" -l "$VM_OUT/last-input" - >"$VM_OUT/afl.log" 2>&1
echo "afl-fuzz: exit $?"
tail -n 5 "$VM_OUT/afl.log"
# the corpus replayed for its coverage, by cthfuzz as nobody
chmod a+x "$VM_OUT/afl" "$VM_OUT/afl/default" "$VM_OUT/afl/default/queue"
chmod a+r "$VM_OUT"/afl/default/queue/id*
"$TESTS_BIN/cthfuzz" -c "$VM_OUT"/afl/default/queue/id* >"$VM_OUT/pcs.txt"
echo "coverage: $(wc -l <"$VM_OUT/pcs.txt") kernel PCs"
# two passes, as kmemleak wants; a report goes to the console, where
# scripts/boot counts it as a splat
if [ -e $kml ]; then
	if echo scan 2>/dev/null >$kml; then
		sleep 5
		echo scan >$kml
		report=$(cat $kml)
		echo "kmemleak: $(printf '%s' "$report" | grep -c '^unreferenced object') suspects"
		[ -z "$report" ] || printf '%s\n' "$report" | head -n 60 >/dev/console
	else
		echo "kmemleak: disabled, no scan" | tee /dev/console
	fi
fi
