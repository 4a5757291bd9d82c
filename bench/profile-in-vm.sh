#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: where the time of a round trip to a userspace helper goes.
# 64-byte request/response on one tcp/21 connection between two
# namespaces, the server's firewall keeping conntrack on, three ways:
#   none     no queueing
#   nfqueue  every tcp/21 packet through NFQUEUE (with NFQA_CT) to
#            tests/progs/nfq, which accepts it
#   helper   the selftests' nf_cthelper daemon as userspace helper ftp
# Each runs SECS seconds under `perf record -a` (the guest's cpu-clock);
# the reports go to VM_OUT: NAME.sym (samples by symbol), NAME.comm (by
# process and object), NAME.txt (the client's transactions).
# scripts/bench profile compares them per transaction.
. "$(dirname "$0")/../tests/lib.sh"
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-15}
RR=$TESTS_BIN/rr
out=${VM_OUT:-/tmp}

checktool perf
bench_guest_check
bench_setup

# profile NAME: a short warm-up, then SECS seconds under perf
profile() {
	ip netns exec c "$RR" rr 192.0.2.1 21 2 >/dev/null || fail "$1: rr"
	perf record -q -a -o "$out/$1.data" -- \
		ip netns exec c "$RR" rr 192.0.2.1 21 "$SECS" >"$out/$1.txt" 2>/dev/null ||
		fail "$1: perf record"
	perf report -i "$out/$1.data" --stdio --no-children -n --sort sym \
		>"$out/$1.sym" 2>/dev/null
	perf report -i "$out/$1.data" --stdio --no-children -n --sort comm,dso \
		>"$out/$1.comm" 2>/dev/null
	rm -f "$out/$1.data"
}

profile none

bench_nfqueue 1
profile nfqueue
ip netns exec s iptables -t mangle -F
kill "$NFQ_PID"

ip netns exec s "$TESTS_BIN/nf_cthelper" helper -r -F -n ftp -q 0 >/dev/null 2>&1 &
busywait 5000 sh -c 'ip netns exec s nfct list helper | grep -q ftp'
ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
profile helper
echo "profiled: none nfqueue helper"
