#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Private data round trip: what a verdict stores in CTA_HELP_INFO comes
# back in the NFQA_CT of the flow's next queued packet.
. "$(dirname "$0")/../lib.sh"
checktool iptables
helper=$TESTS_BIN/nf_cthelper
[ -x "$helper" ] || skip "nf_cthelper not built"

setup_pair s c || fail "netns setup"
# a listener, so that no port unreachable error breaks the client's flow
ip netns exec s /usr/bin/python3 "$TESTS_DIR/progs/udp-listen.py" 192.0.2.1 5555 \
	>/tmp/udp-listener.out 2>&1 &
busywait 10000 grep -q listening /tmp/udp-listener.out || fail "udp listener did not start"
ip netns exec s timeout 30 "$helper" helper -r -n toy -p udp -q 3 -x 3 >/tmp/helper.out 2>&1 &
hpid=$!
busywait 30000 grep -q ready /tmp/helper.out || fail "helper: $(cat /tmp/helper.out)"
ip netns exec s iptables -t raw -A PREROUTING -p udp --dport 5555 -j CT --helper toy ||
	fail "CT --helper toy refused"

# seen N: the daemon has printed N packets
seen() {
	[ "$(grep -c '^packet' /tmp/helper.out)" -ge "$1" ]
}

# three datagrams of one flow (one socket); each is sent once the daemon
# has seen the one before, and given a moment for its verdict
export -f busywait seen
# shellcheck disable=SC2016 # expanded by that bash
ip netns exec c bash -c 'exec 3>/dev/udp/192.0.2.1/5555
	n=0
	for m in "first, no data" "DATA hello42" "third"; do
		printf "%s" "$m" >&3
		n=$((n + 1))
		busywait 10000 seen $n
		sleep 0.2
	done'
wait $hpid || fail "helper exited early: $(cat /tmp/helper.out)"

mapfile -t pkts < <(grep '^packet' /tmp/helper.out)
[ ${#pkts[@]} -eq 3 ] || fail "expected 3 queued packets: $(cat /tmp/helper.out)"
case ${pkts[0]} in *"ct=1 ctinfo=2 "*"priv=-"*) ;; *) fail "first packet: ${pkts[0]}" ;; esac
case ${pkts[1]} in *"priv=-"*) ;; *) fail "second packet: ${pkts[1]}" ;; esac
case ${pkts[2]} in *"priv=hello42"*) ;; *) fail "third packet lacks the data: ${pkts[2]}" ;; esac
echo "CTA_HELP_INFO stored by a verdict came back with the next packet"
