#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# conntrackd in the initial network namespace helping that namespace's own
# traffic keeps working now that helpers belong to a namespace: nfct
# registers ftp on the host, iptables attaches it there, and a passive FTP
# transfer from a client namespace goes through the expectation.  The
# client namespace does not see the host's helper.
. "$(dirname "$0")/../lib.sh"
for t in nfct conntrackd conntrack iptables vsftpd curl; do checktool $t; done

host_cleanup() {
	iptables -t raw -D PREROUTING -i hveth0 -p tcp --dport 21 \
		-j CT --helper ftp 2>/dev/null
	iptables -F INPUT 2>/dev/null
	pkill -x vsftpd
	pkill -x conntrackd
	ip link del hveth0 2>/dev/null
	cleanup_netns
	nfct delete helper ftp inet tcp 2>/dev/null
}
trap host_cleanup EXIT

ip netns add c || fail "namespace c"
NETNS+=(c)
ip link add hveth0 type veth peer name veth0 netns c || fail "veth"
ip addr add 192.0.2.1/24 dev hveth0
ip link set hveth0 up
ip -n c addr add 192.0.2.2/24 dev veth0
ip -n c link set veth0 up
ip -n c link set lo up

nfct add helper ftp inet tcp || fail "nfct add helper on the host"
conntrackd_start "" "$TESTS_DIR/conf/conntrackd-ftp.conf" ||
	fail "conntrackd did not start"
iptables -t raw -A PREROUTING -i hveth0 -p tcp --dport 21 -j CT --helper ftp ||
	fail "CT --helper ftp refused on the host"
if ! iptables -A INPUT -i hveth0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT ||
   ! iptables -A INPUT -i hveth0 -p tcp --dport 21 -j ACCEPT ||
   ! iptables -A INPUT -i hveth0 -p tcp -j DROP; then
	fail "firewall rules"
fi

ftp_through "" c ""

# (A rule naming "ftp" in the client namespace would find the kernel's
# ftp helper, loading it on a modular kernel: the selftest checks with a
# name no kernel helper has that other namespaces cannot attach it.)
[ -z "$(ip netns exec c nfct list helper 2>/dev/null)" ] ||
	fail "the client namespace sees the host's helper"
echo "host conntrackd helps host traffic; the client namespace does not see its helper"
