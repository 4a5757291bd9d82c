#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# conntrackd's ftp helper across a bridge: the server and the client are
# bridged in a third namespace, which tracks the bridged traffic
# (nf_conntrack_bridge), attaches the helper with a bridge-family nft ct
# helper object and lets only the control connection and what is related
# to it through.  The control connection's packets reach conntrackd and
# its verdicts; the connection is confirmed, assured, with helper=ftp.
# conntrackd 1.4.7 does not parse packets of the bridge family (it answers
# them without looking), so it creates no expectation and the data
# connection stays refused; the selftest's bridge cases show with its own
# helper that the kernel creates the expectation and lets the related
# flow through.
. "$(dirname "$0")/../lib.sh"
for t in nfct conntrackd conntrack nft vsftpd curl; do checktool $t; done

for ns in s c b; do
	ip netns add "$ns" || fail "netns setup"
	NETNS+=("$ns")
done
ip -n s link add veth0 type veth peer name vs netns b || fail "veth s"
ip -n c link add veth0 type veth peer name vc netns b || fail "veth c"
ip -n b link add br0 type bridge || fail "bridge"
ip -n b link set vs master br0 || fail "bridge port vs"
ip -n b link set vc master br0 || fail "bridge port vc"
ip -n s addr add 192.0.2.1/24 dev veth0
ip -n c addr add 192.0.2.2/24 dev veth0
for l in "s lo" "s veth0" "c lo" "c veth0" "b lo" "b vs" "b vc" "b br0"; do
	# shellcheck disable=SC2086 # namespace and device
	set -- $l
	ip -n "$1" link set "$2" up
done

ip netns exec b nfct add helper ftp inet tcp || fail "nfct add helper"
conntrackd_start b "$TESTS_DIR/conf/conntrackd-ftp.conf" ||
	fail "conntrackd did not start"
ip netns exec b nft -f - <<'NFT' || fail "nft ruleset refused"
table bridge filter {
	ct helper ftp-us {
		type "ftp" protocol tcp
		l3proto ip
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-us"
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		tcp dport 21 accept
		meta l4proto tcp drop
	}
}
NFT
ftp_server s || fail "vsftpd did not start"

# The login goes through; the data connection does not (see above).
ftp_blocked c b
ct=$(ip netns exec b conntrack -L -p tcp --dport 21 2>/dev/null)
grep -Eq 'src=192.0.2.2 dst=192.0.2.1 sport=[0-9]+ dport=21 .*\[ASSURED\].*helper=ftp' <<<"$ct" ||
	fail "control connection not confirmed with helper=ftp: $ct"
# queue 0: packets queued (id sequence), none dropped, none left waiting
# once the last ones of the closed connection are answered
queue0() {
	nfqueue_fields b 0 3 6 7 8
}
queue0_idle() {
	[ "$(queue0 | cut -d' ' -f1)" = 0 ]
}
busywait 10000 queue0_idle
q=$(queue0)
read -r waiting dropped udropped ids <<<"$q"
if ! [ "${ids:-0}" -gt 5 ] || [ "$waiting" -ne 0 ] ||
   [ "$dropped" -ne 0 ] || [ "$udropped" -ne 0 ]; then
	fail "conntrackd's queue: $q"
fi
echo "bridged control connection helped by conntrackd ($ids packets answered)"
