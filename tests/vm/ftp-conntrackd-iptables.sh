#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# conntrack-tools end to end: conntrackd's userspace ftp helper, attached
# with iptables -j CT, creates the expectation that lets a passive FTP data
# connection through a firewall that drops every other tcp flow.
. "$(dirname "$0")/../lib.sh"
for t in nfct conntrackd conntrack iptables vsftpd curl; do checktool $t; done

setup_pair s c || fail "netns setup"
ip netns exec s nfct add helper ftp inet tcp || fail "nfct add helper"
conntrackd_start s "$TESTS_DIR/conf/conntrackd-ftp.conf" || fail "conntrackd did not start"
ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp ||
	fail "CT --helper ftp refused"
firewall_ftp s || fail "firewall rules"
ftp_server s || fail "vsftpd did not start"
ip netns exec s conntrack -E expect >/tmp/expect-events 2>&1 &
sleep 0.2

out=$(ftp_get c) || fail "transfer failed: $out"
[ "$out" = "hello through a userspace helper" ] || fail "wrong content: $out"
busywait 3000 grep -q NEW /tmp/expect-events || fail "no expectation event"
grep -Eq '\[NEW\] [0-9]+ proto=6 src=192.0.2.2 dst=192.0.2.1 sport=0 dport=400(0[0-9]|10) .*class=0 helper=ftp' \
	/tmp/expect-events || fail "unexpected expectation: $(cat /tmp/expect-events)"
ip netns exec s conntrack -L 2>/dev/null |
	grep -E 'src=192.0.2.2 dst=192.0.2.1 sport=[0-9]+ dport=21 .*\[ASSURED\].*helper=ftp' >/dev/null ||
	fail "control connection not confirmed with helper=ftp"

# Control: with the helper disabled no expectation is made and the data
# connection is dropped.
ip netns exec s nfct disable helper ftp inet tcp || fail "nfct disable"
out=$(ftp_get c 8) && fail "transfer passed without the helper: $out"
echo "transfer through the expectation; refused once the helper is disabled"
