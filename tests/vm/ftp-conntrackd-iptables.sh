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
ftp_through s c s

# Control: with the helper disabled no expectation is made and the data
# connection is dropped.
ip netns exec s nfct disable helper ftp inet tcp || fail "nfct disable"
ftp_blocked c s
echo "transfer through the expectation; refused once the helper is disabled"
