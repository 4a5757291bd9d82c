#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfnetlink_queue without conntrack attached still queues and reinjects,
# and conntrack still confirms the reinjected flow.
. "$(dirname "$0")/../lib.sh"
checktool iptables
checktool conntrack

setup_pair nfqa nfqb || fail "netns setup"
# A conntrack match makes the namespace track connections.
ip netns exec nfqa iptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT ||
	fail "iptables conntrack rule"
ip netns exec nfqa iptables -A OUTPUT -p icmp --icmp-type echo-request \
	-j NFQUEUE --queue-num 3 || fail "iptables NFQUEUE rule"

# Nobody listens and there is no bypass: the ping must not pass.
ip netns exec nfqa ping -c 1 -W 1 192.0.2.2 >/dev/null &&
	fail "ping passed with no queue listener"

out=$(mktemp)
ip netns exec nfqa "$TESTS_BIN/nfq" -q 3 -n 3 -t 10 >"$out" &
pid=$!
busywait 5000 grep -q ready "$out" || fail "listener not ready: $(cat "$out")"
ip netns exec nfqa ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
	fail "ping through the queue failed"
wait $pid || fail "listener: $(cat "$out")"
[ "$(grep -c '^packet' "$out")" -eq 3 ] || fail "listener saw: $(cat "$out")"
ip netns exec nfqa conntrack -L -p icmp 2>/dev/null | grep -q 'dst=192.0.2.2' ||
	fail "reinjected flow not confirmed in conntrack"
echo "3 packets queued, accepted and confirmed"
