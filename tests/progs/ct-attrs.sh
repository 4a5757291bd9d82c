#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The shape of NFQA_CT and NFULA_CT on any kernel: one TCP flow into a
# namespace with conntrack accounting and timestamps on and a helper
# attached, its first three packets logged (NFLOG) and queued (NFQUEUE),
# each with its conntrack; tests/progs/ctattrs prints the attribute tree
# of each.  The output is compared with what pristine Linux 6.12 printed
# (tests/golden/ct-attrs.txt, made by scripts/golden).
. "$(dirname "$0")/../lib.sh"

setup_pair s c || { echo "netns setup failed"; exit 1; }
# (registering the helper loads conntrack on a modular kernel, which makes
# its sysctls appear)
ip netns exec s nfct add helper ftp inet tcp
ip netns exec s sysctl -qw net.netfilter.nf_conntrack_acct=1 \
	net.netfilter.nf_conntrack_timestamp=1
ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
ip netns exec s iptables -A INPUT -p tcp --dport 21 -j NFLOG --nflog-group 3
ip netns exec s iptables -A INPUT -p tcp --dport 21 -j NFQUEUE --queue-num 4
out=/tmp/ct-attrs.out
ip netns exec s "$TESTS_BIN/ctattrs" -q 4 -g 3 -n 3 -t 2 -w 60 >$out 2>/tmp/ct-attrs.err &
pid=$!
busywait 10000 grep -q ready /tmp/ct-attrs.err || { cat /tmp/ct-attrs.err $out; exit 1; }
ip netns exec s socat -u TCP-LISTEN:21,bind=192.0.2.1,reuseaddr /dev/null &
busywait 10000 listens s 21 || { echo "no listener"; exit 1; }
echo hello | ip netns exec c socat -t 2 - TCP:192.0.2.1:21
wait $pid
rc=$?
grep '^queue ' $out
grep '^log ' $out
grep -v '^queue \|^log ' $out
echo "[exit $rc]"
