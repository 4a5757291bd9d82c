#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside scripts/fuzz's VM: seed inputs, afl-fuzz on tests/progs/cthfuzz for
# SECONDS, then the kernel PCs the resulting corpus reaches.  Everything
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
echo "seeds: $(find "$VM_OUT/seeds" -type f | wc -l)"
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
