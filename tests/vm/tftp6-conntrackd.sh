#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# IPv6: conntrackd's userspace tftp helper on the client creates the
# expectation that lets the server's answer, sent from a new port, through
# a client firewall that drops every other udp flow.
. "$(dirname "$0")/../lib.sh"
for t in nfct conntrackd conntrack ip6tables curl; do checktool $t; done

setup_pair s c || fail "netns setup"
echo "hello over tftp" >/tmp/tftp-file
ip netns exec s /usr/bin/python3 "$TESTS_DIR/progs/tftpd.py" 2001:db8::1 /tmp/tftp-file >/tmp/tftpd.log 2>&1 &
busywait 10000 grep -q listening /tmp/tftpd.log || fail "tftp server did not start"

ip netns exec c nfct add helper tftp inet6 udp || fail "nfct add helper"
conntrackd_start c "$TESTS_DIR/conf/conntrackd-tftp6.conf" || fail "conntrackd did not start"
ip netns exec c ip6tables -t raw -A OUTPUT -p udp --dport 69 -j CT --helper tftp ||
	fail "CT --helper tftp refused"
ip netns exec c ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec c ip6tables -A INPUT -p udp -j DROP
ip netns exec c conntrack -E expect >/tmp/expect-events 2>&1 &
sleep 0.2

out=$(ip netns exec c curl -sS --max-time 10 'tftp://[2001:db8::1]/file' 2>&1) ||
	fail "transfer failed: $out"
[ "$out" = "hello over tftp" ] || fail "wrong content: $out"
busywait 3000 grep -q NEW /tmp/expect-events || fail "no expectation event"
grep -q 'src=2001:db8::1 dst=2001:db8::2 .*helper=tftp' /tmp/expect-events ||
	fail "unexpected expectation: $(cat /tmp/expect-events)"

# Control: with the helper disabled the request goes out, no expectation
# is made, the answer is dropped and curl times out (exit 28).
ip netns exec c nfct disable helper tftp inet6 udp || fail "nfct disable"
events=$(grep -c NEW /tmp/expect-events)
rc=0
out=$(ip netns exec c curl -sS --max-time 6 'tftp://[2001:db8::1]/file' 2>&1) ||
	rc=$?
[ $rc -eq 28 ] || fail "want the answer dropped (curl exit 28), got exit $rc: $out"
[ "$(grep -c NEW /tmp/expect-events)" = "$events" ] ||
	fail "an expectation was made: $(cat /tmp/expect-events)"
echo "IPv6 tftp answer admitted by the expectation; refused without the helper"
