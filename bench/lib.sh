# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# What bench/run-in-vm.sh and bench/profile-in-vm.sh share, inside the
# VM; after tests/lib.sh.

# bench_guest_check: skip (4, and scripts/bench boots again) on a guest
# whose rates would not compare with other boots: a jiffies clock (its
# TSC calibration failed, now and then under TCG; latencies would be
# multiples of the tick), or a local APIC timer that failed its check
# (its ticks come from the emulated PIT, and the same kernel measured
# that way ran 0.6 as fast)
bench_guest_check() {
	local cs

	cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
	case $cs in
	*jiffies*) skip "clocksource $cs: latencies would be multiples of the tick" ;;
	esac
	if dmesg | grep -q 'APIC timer disabled'; then
		skip "no local APIC timer: rates would not compare with other boots"
	fi
}

# bench_setup: namespaces s (the server, RR on 192.0.2.1 tcp/21) and c
# (the client); s lets in new connections to tcp/21 and what conntrack
# relates to them (an expectation), nothing else, so conntrack runs
bench_setup() {
	setup_pair s c || exit 1
	ip netns exec s iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	ip netns exec s iptables -A INPUT -p tcp --dport 21 -j ACCEPT
	ip netns exec s iptables -A INPUT -p tcp -j DROP
	ip netns exec s "$RR" server 192.0.2.1 21 >/dev/null &
	busywait 5000 listens s 21
}

# bench_nfqueue QUEUE: no helper, every tcp/21 packet of s through NFQUEUE
# QUEUE (with NFQA_CT) to tests/progs/nfq, which accepts it; its pid in
# NFQ_PID
bench_nfqueue() {
	ip netns exec s "$TESTS_BIN/nfq" -c -q "$1" -t 86400 >/dev/null 2>&1 &
	NFQ_PID=$!
	busywait 5000 sh -c "grep -q '^ *$1 ' /proc/$NFQ_PID/net/netfilter/nfnetlink_queue"
	ip netns exec s iptables -t mangle -A INPUT -p tcp --dport 21 -j NFQUEUE --queue-num "$1"
	ip netns exec s iptables -t mangle -A OUTPUT -p tcp --sport 21 -j NFQUEUE --queue-num "$1"
}
