#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside scripts/fuzz's VM: what conntrack-tools send, as raw-message
# seeds for the fuzzer (tests/progs/nlraw-seeds.py): each step of
# nfct-steps.sh's kind (add, get, list, disable, delete, flush), and
# conntrackd's registration, queue setup and verdicts while an FTP
# download goes through it.
#
# usage: fuzz-seeds.sh DIR   (the seeds land in DIR, named ct-*)
. "$(dirname "$0")/../lib.sh"
out=$1
seeds=$TESTS_DIR/progs/nlraw-seeds.py
for t in strace nfct conntrackd conntrack vsftpd curl python3; do
	checktool $t
done

# trace NAME CMD...: CMD's netlink messages as seed ct-NAME
trace() {
	local name=$1

	shift
	ip netns exec sd strace -f -qq -xx -e trace=sendto,sendmsg \
		-e write=all -o /tmp/seed.trace "$@" >/dev/null 2>&1
	python3 "$seeds" /tmp/seed.trace "$out/ct-$name"
}

ip netns add sd || fail "netns"
NETNS+=(sd)
trace list nfct list helper
trace add nfct add helper ftp inet tcp
trace add6 nfct add helper tftp inet6 udp
trace get nfct get helper ftp inet tcp
trace disable nfct disable helper ftp inet tcp
trace enable nfct enable helper ftp inet tcp
trace delete nfct delete helper ftp inet tcp
trace flush nfct flush helper

# conntrackd: it daemonizes, strace follows it until it is stopped
setup_pair s c || fail "netns setup"
rm -f /tmp/conntrackd.log /tmp/conntrackd.lock /tmp/conntrackd.sock
ip netns exec s nfct add helper ftp inet tcp || fail "nfct add helper"
ip netns exec s strace -f -qq -xx -e trace=sendto,sendmsg -e write=all \
	-o /tmp/ctd.trace conntrackd -C "$TESTS_DIR/conf/conntrackd-ftp.conf" \
	-d >/dev/null 2>&1 &
tracer=$!
busywait 30000 grep -q 'initialization completed' /tmp/conntrackd.log ||
	fail "conntrackd did not start"
ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 \
	-j CT --helper ftp || fail "iptables CT"
firewall_ftp s || fail "firewall"
ftp_through s c s
ip netns exec s conntrackd -C "$TESTS_DIR/conf/conntrackd-ftp.conf" -k \
	>/dev/null 2>&1
wait $tracer
for kind in others verdicts all; do
	python3 "$seeds" /tmp/ctd.trace "$out/ct-conntrackd-$kind" $kind 16 ||
		fail "no conntrackd messages of kind $kind recorded"
done
echo "seeds from conntrack-tools: $(find "$out" -name 'ct-*' | wc -l)"
