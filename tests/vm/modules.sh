#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfnetlink_cthelper as a module (run on the modular kernel only): loaded
# on demand through its nfnetlink subsystem alias by the first nfct call,
# unloaded with and without helpers registered, kept while a rule uses one
# of its helpers, free of references once a namespace is gone; a
# namespace's helper and the kernel's helper of the same name.
. "$(dirname "$0")/../lib.sh"

checktool nfct
checktool iptables
[ -e /proc/modules ] || skip "kernel without modules"

loaded() {
	grep -q "^$1 " /proc/modules
}

unloads() {
	rmmod nfnetlink_cthelper 2>/dev/null && ! loaded nfnetlink_cthelper
}

# earlier tests may have loaded it: start without it
if loaded nfnetlink_cthelper; then
	nfct flush helper 2>/dev/null
	busywait 5000 unloads || fail "rmmod refused before the test"
fi
nfct list helper >/dev/null || fail "nfct list helper failed"
loaded nfnetlink_cthelper || fail "nfct list helper did not load nfnetlink_cthelper"
unloads || fail "rmmod refused with no helper registered"

nfct add helper ftp inet tcp || fail "nfct add helper failed after rmmod"
loaded nfnetlink_cthelper || fail "nfct add helper did not load the module"
nfct list helper | grep -q 'name = ftp' || fail "helper not listed"
unloads || fail "rmmod refused with an unused helper registered"
[ -z "$(nfct list helper)" ] || fail "a helper survived the module"

nfct add helper ftp inet tcp || fail "nfct add helper failed"
iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp ||
	fail "CT --helper ftp refused"
rmmod nfnetlink_cthelper 2>/dev/null && fail "rmmod allowed while a rule uses the helper"
nfct list helper | grep -q ftp || fail "helper gone after the refused rmmod"
nfct delete helper ftp inet tcp 2>/dev/null && fail "helper deleted while a rule uses it"
iptables -t raw -F PREROUTING
busywait 5000 unloads || fail "rmmod refused once the rule was gone"

# Unloaded while a hung daemon holds 200 packets of a helped flow; then
# the daemon sends their verdicts, which find nothing.  No rule holds the
# helper (removing one would drop the flow's queued packets first): the
# conntrack comes from ctnetlink with CTA_HELP, as conntrackd installs it.
# The debug kernel's KASAN, lockdep and kmemleak, and the console scan,
# judge what happens.
helper=$TESTS_BIN/nf_cthelper
[ -x "$helper" ] || fail "$helper not built"
setup_pair s c || fail "namespaces"
ip netns exec s "$helper" ctl new name=toy-udp tuple=2:17 policy=1:u/8/30 \
	privlen=32 queue=1 status=1 >/dev/null || fail "helper registration"
release=$(mktemp -u)
out=$(mktemp)
ip netns exec s "$helper" helper -n toy-udp -q 1 -p udp -L 1000 \
	-H "$release" >"$out" 2>&1 &
busywait 30000 grep -q '^ready' "$out" || fail "daemon: $(cat "$out")"
# conntrack hooks in s: a rule that needs them
ip netns exec s iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED \
	-j ACCEPT
ip netns exec s "$helper" ctflow toy-udp udp 192.0.2.2 40555 192.0.2.1 5555 \
	>/dev/null || fail "ctnetlink conntrack with CTA_HELP refused"
ip netns exec c "$helper" udp 192.0.2.1 5555 40555 200 ||
	fail "sending the datagrams failed"
busywait 20000 sh -c "[ \$(grep -c '^packet' $out) -ge 200 ]" ||
	fail "$(grep -c '^packet' "$out") of 200 packets queued"
# in_queue1: how many packets wait in s's queue 1
in_queue1() {
	nfqueue_fields s 1 3
}
[ "$(in_queue1)" = 200 ] ||
	fail "$(in_queue1) packets in queue 1 before rmmod, want 200"
busywait 5000 unloads || fail "rmmod refused with packets queued"
[ "$(in_queue1)" = 0 ] || fail "$(in_queue1) packets still queued after rmmod"
touch "$release"
busywait 20000 grep -q '^released 200 refused 200' "$out" ||
	fail "daemon: $(tail -n 2 "$out")"

# A namespace goes away while an nft object and a rule of its own still
# hold its helper.  nf_tables was loaded first, so its pernet exit runs
# after nfnetlink_cthelper's: the helper is unregistered first and freed
# by the object's last reference.  The module unloads once the namespace
# is gone: no reference was left behind.
nft list ruleset >/dev/null || fail "nft"
if loaded nfnetlink_cthelper; then
	busywait 5000 unloads || fail "rmmod refused before the namespace test"
fi
ip netns add t || fail "namespace t"
NETNS+=(t)
ip link add tpeer type veth peer name tpeer netns t || fail "veth to t"
ip netns exec t nfct add helper ftp inet tcp || fail "nfct add helper in t"
ip netns exec t nft -f - <<EOF || fail "nft ct helper object in t"
table ip hold {
	ct helper h {
		type "ftp" protocol tcp
	}
}
EOF
ip netns exec t iptables -t raw -A PREROUTING -p tcp --dport 21 \
	-j CT --helper ftp || fail "CT --helper ftp refused in t"
ip netns del t
busywait 30000 sh -c '! ip link show tpeer >/dev/null 2>&1' ||
	fail "namespace t not dismantled"
busywait 5000 unloads || fail "rmmod refused after namespace t went away"

# A namespace's helper does not keep the kernel's helper of that name from
# loading; that namespace keeps using its own.
ip netns add u || fail "namespace u"
NETNS+=(u)
ip netns exec u nfct add helper ftp inet tcp || fail "nfct add helper in u"
modprobe nf_conntrack_ftp || fail "kernel ftp helper refused by u's helper"
nfct add helper ftp inet tcp 2>/dev/null &&
	fail "host registered ftp next to the kernel's"
ip netns exec u iptables -t raw -A PREROUTING -p tcp --dport 21 \
	-j CT --helper ftp || fail "CT --helper ftp refused in u"
# u registered ftp for IPv4 only: it owns the name, the kernel's IPv6
# ftp helper is not for u
ip netns exec u ip6tables -t raw -A PREROUTING -p tcp --dport 21 \
	-j CT --helper ftp 2>/dev/null && fail "u got the kernel's ftp for IPv6"
ip netns exec u nfct delete helper ftp inet tcp 2>/dev/null &&
	fail "u's rule did not hold u's own helper"
ip netns exec u iptables -t raw -F PREROUTING
ip netns exec u nfct delete helper ftp inet tcp || fail "delete in u"
busywait 5000 rmmod nf_conntrack_ftp || fail "rmmod nf_conntrack_ftp"
echo "autoload by nfct; rmmod with and without helpers, with 200 packets in the queue, after a namespace went with rules holding its helper; refused while CT uses one; a namespace keeps its own helper next to the kernel's"
