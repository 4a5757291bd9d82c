#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Userspace connection tracking helpers, the datapath: packets queued to
# the helper daemon, its verdicts (expectations, private data, mangled
# payloads), the fail policies and the faults of a daemon, and the
# completion of a packet after its verdict, routed and bridged.  One
# PASS/FAIL/SKIP line per case.

cd "$(dirname "$0")" || exit 1
# shellcheck source=nf_cthelper_lib.sh
source ./nf_cthelper_lib.sh

# datapath_start NAME L3 ATTACH: the server and client namespaces, the
# helpers (toy over L3, see datapath_helpers) and the rules ATTACH sets up;
# a failure is case NAME-setup or NAME-attach
datapath_start()
{
	flush_helpers
	if ! setup_datapath; then
		fail "$1-setup" "namespaces"
		return 1
	fi
	datapath_helpers "$2"
	if ! "$3"; then
		fail "$1-attach" "CT --helper refused"
		return 1
	fi
}

# the daemon (it registers toy over IPv4, -r), then the CT rules that name
# toy; test_expectations stops that daemon
start_and_attach_xt()
{
	start_helper -r -n toy -q 0 && attach_xt
}

datapath_stop()
{
	CTLNS=""
	cleanup_ns "$srv" "$cli"
}

# The expectations a verdict creates: only the port they name is let in,
# over IPv4 and IPv6, in the classes the helper has, at most max_expected
# per master, naming a helper of their own namespace; the private data
# that a verdict stores comes back with the next packet.  The daemon is
# the one start_and_attach_xt started.
test_expectations()
{
	local out lines=() i seen t

	# an expectation from a verdict is the only way in for port 3000
	if connects 10.0.1.1 3000; then
		fail "expect-needed" "port 3000 reachable, no expectation"
	else
		pass "expect-needed"
	fi
	expect_lets_in expect-ipv4-lets-related-in 3000
	if connects 10.0.1.1 3001; then
		fail "expect-only-that-port" "port 3001 reachable"
	else
		pass "expect-only-that-port"
	fi

	# an expectation may name the helper of the related flow: one of its
	# own namespace, not one registered elsewhere (here on the host)
	control 10.0.1.1 "EXPECT 3009 toy" &
	if slowwait 30 has_expect "dport=3009 .*helper=toy" &&
	   connects 10.0.1.1 3009 &&
	   sx conntrack -L -p tcp --dport 3009 2>/dev/null | grep -q helper=toy
	then
		pass "expect-names-own-helper"
	else
		fail "expect-names-own-helper" "$(sx conntrack -L 2>&1)"
	fi
	wait %%
	seen=$(grep -c '^packet.* data=[1-9]' "$HOUT")
	out=$(ctl_in "" new name=hosty "$T" "$P" "$D")
	control 10.0.1.1 "EXPECT 3010 hosty"
	if [ "$out" != ok ]; then
		fail "expect-other-netns-helper-refused" "host NEW: $out"
	elif ! slowwait 10 answered "$seen"; then
		fail "expect-other-netns-helper-refused" "request not answered"
	elif ! has_expect "dport=3010" && ! connects 10.0.1.1 3010; then
		pass "expect-other-netns-helper-refused"
	else
		fail "expect-other-netns-helper-refused" \
			"$(sx conntrack -L expect)"
	fi
	ctl_in "" del name=hosty >/dev/null

	out=$(sx conntrack -L -p tcp --dport 2121 2>/dev/null)
	if grep -q "$FLOW .*ASSURED.*helper=toy" <<<"$out"; then
		pass "helped-flow-confirmed-assured"
	else
		fail "helped-flow-confirmed-assured" "$out"
	fi

	control dead:1::1 "EXPECT 3002" &
	if slowwait 30 has_expect 'dead:1::2 .*dport=3002' -f ipv6 &&
	   connects dead:1::1 3002; then
		pass "expect-ipv6-lets-related-in"
	else
		fail "expect-ipv6-lets-related-in" \
			"$(sx conntrack -L expect -f ipv6 2>&1)"
	fi
	wait %%

	# classes: the helper has two (0 and 1)
	stop_helper
	start_helper -n toy -q 0 -c 5
	control 10.0.1.1 "EXPECT 3003"
	if ! grep -q '^ready' "$HOUT"; then
		fail "expect-class-above-max-refused" "daemon: $(cat "$HOUT")"
	elif ! slowwait 10 answered 0; then
		fail "expect-class-above-max-refused" "request not answered"
	elif [ "$(expectations dport=3003)" -eq 0 ]; then
		pass "expect-class-above-max-refused"
	else
		fail "expect-class-above-max-refused" "expectation created"
	fi
	stop_helper
	start_helper -n toy -q 0 -c 1
	control 10.0.1.1 "EXPECT 3003"
	if [ "$(expectations 'dport=3003 .*class=1')" -eq 1 ]; then
		pass "expect-class-1"
	else
		fail "expect-class-1" "$(sx conntrack -L expect 2>&1)"
	fi

	# 300 expectations on one master: at most max_expected (8) remain
	for i in $(seq 4000 4299); do
		lines+=("EXPECT $i")
	done
	control 10.0.1.1 "${lines[@]}"
	out=$(expectations 'dport=4[0-9][0-9][0-9] ')
	if [ "$out" -ge 1 ] && [ "$out" -le 8 ]; then
		pass "expect-max-expected"
	else
		fail "expect-max-expected" "$out expectations for one master"
	fi
	sx conntrack -D expect >/dev/null 2>&1

	# a class timeout beyond what an expectation's 32-bit clock holds
	# (timeout * HZ jiffies) is clamped: the expectation lives, with a
	# timeout above the class's former 30 s (the daemon still runs with
	# -c 1), rather than being born expired
	out=$(ctl new name=toy tuple=2:6 policy=2:toy/8/30:toy-b/8/4294967295)
	control 10.0.1.1 "EXPECT 3012"
	t=$(sx conntrack -L expect 2>/dev/null |
		awk '/dport=3012 .*class=1/ { print $1; exit }')
	if [ "$out" != ok ]; then
		fail "expect-timeout-huge-lives" "update: $out"
	elif [ -z "$t" ]; then
		fail "expect-timeout-huge-lives" \
			"$(sx conntrack -L expect 2>&1)"
	elif [ "$t" -le 30 ]; then
		fail "expect-timeout-huge-lives" "timeout ${t}s"
	else
		pass "expect-timeout-huge-lives"
	fi
	ctl new name=toy tuple=2:6 policy=2:toy/8/30:toy-b/8/30 >/dev/null
	sx conntrack -D expect >/dev/null 2>&1

	# NFQA_EXP in a verdict without NFQA_CT still adds its expectation
	stop_helper
	start_helper -n toy -q 0 -c 1 -E
	control 10.0.1.1 "EXPECT 3013"
	if [ "$(expectations 'dport=3013 .*class=1')" -eq 1 ]; then
		pass "expect-without-nfqa-ct"
	else
		fail "expect-without-nfqa-ct" "$(sx conntrack -L expect 2>&1)"
	fi
	sx conntrack -D expect >/dev/null 2>&1
	stop_helper
	start_helper -n toy -q 0 -c 1

	# private data: stored by one verdict, sent along with the next packet
	control 10.0.1.1 "DATA secret42" "next"
	if grep -q 'priv=secret42' "$HOUT"; then
		pass "private-data-round-trip"
	else
		fail "private-data-round-trip" "$(tail -n 3 "$HOUT")"
	fi

	stop_helper
}

# A malformed NFQA_CT: the verdict still applies, the conntrack is left
# alone (no private data).
test_bad_nfqa_ct()
{
	start_helper -n toy -q 0 -B
	control 10.0.1.1 "DATA bad1" "next"
	# a packet of that connection after the one whose verdict carried
	# it shows what the conntrack holds
	if ! slowwait 30 answered 0; then
		fail "bad-nfqa-ct-changes-nothing" "no packet after the verdict"
	elif grep -q 'priv=bad1' "$HOUT"; then
		fail "bad-nfqa-ct-changes-nothing" "private data was stored"
	else
		pass "bad-nfqa-ct-changes-nothing"
	fi
	if connects 10.0.1.1 2121; then
		pass "bad-nfqa-ct-verdict-applied"
	else
		fail "bad-nfqa-ct-verdict-applied" "$(tail -n 3 "$HOUT")"
	fi
	stop_helper
}

# A disabled helper: nothing is queued, flows are confirmed all the same
# (with the helper attached; earlier flows are gone first).
test_disabled()
{
	ctl new name=toy tuple=2:6 status=0 >/dev/null
	start_helper -n toy -q 0
	sx conntrack -D -p tcp --dport 2121 >/dev/null 2>&1
	if grep -q '^ready' "$HOUT" && connects 10.0.1.1 2121 &&
	   ! grep -q '^packet' "$HOUT" &&
	   sx conntrack -L -p tcp --dport 2121 2>/dev/null |
	   grep -q 'helper=toy'; then
		pass "disabled-nothing-queued"
	else
		fail "disabled-nothing-queued" "$(queued) packets queued"
	fi
	ctl new name=toy tuple=2:6 status=1 >/dev/null
	stop_helper
}

# Nobody listens: the flow passes and is confirmed in its true direction
# with its helper; a restarted daemon helps that same connection again.
test_no_listener()
{
	local clients

	sx conntrack -F >/dev/null 2>&1
	clients=()
	long_lived 7
	if slowwait 10 flow_helped; then
		pass "no-listener-true-orientation"
	else
		fail "no-listener-true-orientation" \
			"$(sx conntrack -L -p tcp 2>/dev/null | grep 2121)"
	fi
	start_helper -n toy -q 0
	echo "EXPECT 3004" >&7
	expect_connects restarted-daemon-helps-old-flow 10.0.1.1 3004 "$HOUT"
	end_long_lived 7
	stop_helper
}


# The same helper attached by an nft ct helper object (tcp/2123).
test_nft_attach()
{
	local out

	sx nft -f - <<EOF || { fail "nft-ct-helper-expect" "ruleset"; return; }
table ip cthelper {
	ct helper toy-obj {
		type "toy" protocol tcp
		l3proto ip
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 2123 ct helper set "toy-obj"
	}
}
EOF
	start_helper -n toy -q 0 -M
	CPORT=2123 expect_lets_in nft-ct-helper-expect 3005
	out=$(sx conntrack -L -p tcp --dport 2123 2>/dev/null)
	if grep -q 'dport=2123 .*ASSURED.*helper=toy' <<<"$out"; then
		pass "nft-ct-helper-flow-helped"
	else
		fail "nft-ct-helper-flow-helped" "$out"
	fi
	sx nft delete table ip cthelper
	stop_helper
}

# NAT and a mangled payload: tcp/2122 is translated to the echo server on
# 2121 and the helper replaces "MANGLE" by a longer text.  The sequence
# numbers are adjusted in both directions, so the client gets the mangled
# line echoed and the stream goes on with the next line.
test_nat_mangle()
{
	local out

	sx nft -f - <<EOF || { fail "nat-mangle-seqadj" "ruleset"; return; }
table ip cthelper-nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 2122 dnat to 10.0.1.1:2121
	}
}
EOF
	start_helper -n toy -q 0 -M
	sx iptables -t raw -A PREROUTING -p tcp --dport 2122 -j CT --helper toy
	out=$( (printf 'MANGLE\n'; sleep 1; printf 'after\n'; sleep 1) |
		cx socat -t 3 - TCP:10.0.1.1:2122,connect-timeout=10 \
			2>/dev/null)
	if [ "$out" = $'MANGLED-BY-HELPER\nafter' ]; then
		pass "nat-mangle-seqadj"
	else
		fail "nat-mangle-seqadj" "got '$out'; $(tail -n 2 "$HOUT")"
	fi
	out=$(sx conntrack -L -p tcp --orig-port-dst 2122 2>/dev/null)
	if grep -q 'dport=2122 .*sport=2121 .*ASSURED.*helper=toy' <<<"$out"
	then
		pass "nat-mangle-flow-helped"
	else
		fail "nat-mangle-flow-helped" "$out"
	fi
	sx iptables -t raw -D PREROUTING -p tcp --dport 2122 -j CT --helper toy
	sx nft delete table ip cthelper-nat
	stop_helper
}

# The same over IPv6, six connections at once: the glue must find the
# TCP header past the IPv6 one.  Taking it at an IPv4 header's length
# records a sequence number read from the IPv6 header, and then about
# half of the connections stop after the resized segment.
test_nat6_mangle()
{
	local name=nat6-mangle-seqadj i bad=0 pids=()
	local to='TCP6:[dead:1::1]:2122,connect-timeout=10'

	sx nft -f - <<EOF || { fail "$name" "ruleset"; return; }
table ip6 cthelper-nat6 {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 2122 dnat to [dead:1::1]:2121
	}
}
EOF
	start_helper -n toy -q 0 -M
	sx ip6tables -t raw -A PREROUTING -p tcp --dport 2122 -j CT --helper toy
	for i in 1 2 3 4 5 6; do
		( (printf 'MANGLE\n'; sleep 1; printf 'after\n'; sleep 1) |
			cx socat -t 3 - "$to" >"$TMPD/nat6.$i" 2>/dev/null ) &
		pids+=($!)
	done
	# not a bare wait: the daemon is a job of this shell too
	wait "${pids[@]}"
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$TMPD/nat6.$i")" = $'MANGLED-BY-HELPER\nafter' ] ||
			bad=$((bad + 1))
	done
	if [ "$bad" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "$bad of 6 streams broken; $(tail -n 2 "$HOUT")"
	fi
	sx ip6tables -t raw -D PREROUTING -p tcp --dport 2122 -j CT --helper toy
	sx nft delete table ip6 cthelper-nat6
	stop_helper
}

# The counters, and the fail-closed policy: with nobody listening, and
# with the queue full.
test_policy()
{
	local q v e b d f out

	# every packet of a control connection goes to the daemon and comes
	# back; its command creates one expectation
	start_helper -n toy -q 0
	q=$(stat toy 2:6 queued)
	v=$(stat toy 2:6 verdicts)
	e=$(stat toy 2:6 expected)
	control 10.0.1.1 "EXPECT 3006"
	slowwait 10 sh -c "[ \$(grep -c '^packet' $HOUT) -ge 4 ]"
	out=$(ctl stats name=toy tuple=2:6)
	if [ "$(stat toy 2:6 queued)" -ge $((q + 4)) ] &&
	   slowwait 10 all_answered toy 2:6 $((q - v)) &&
	   [ "$(stat toy 2:6 expected)" -eq $((e + 1)) ]; then
		pass "stats-queued-verdicts-expected"
	else
		fail "stats-queued-verdicts-expected" \
			"before q=$q v=$v e=$e; now $out"
	fi
	stop_helper

	# payload only: the daemon sees the segments with data, nothing else,
	# and still creates the expectation
	ctl new name=toy tuple=2:6 flags=2 >/dev/null
	start_helper -n toy -q 0
	control 10.0.1.1 "EXPECT 3008" &
	local empty='^packet.* data=0 '
	if slowwait 30 has_expect dport=3008 && connects 10.0.1.1 3008 &&
	   grep -q '^packet.* data=[1-9]' "$HOUT" &&
	   ! grep -q "$empty" "$HOUT"; then
		pass "payload-only-queues-data-only"
	else
		fail "payload-only-queues-data-only" \
			"$(grep -c "$empty" "$HOUT") empty segments queued"
	fi
	wait %%
	stop_helper
	ctl new name=toy tuple=2:6 flags=0 >/dev/null

	# a filter: the daemon sees the segments that start with EXPE (the
	# command and the server's echo of it, and their retransmissions on
	# a slow kernel) and nothing else; the others pass in the kernel,
	# counted; the command still creates its expectation
	ctl new name=toy tuple=2:6 filter=words:EXPE >/dev/null
	start_helper -n toy -q 0
	q=$(stat toy 2:6 queued)
	v=$(stat toy 2:6 verdicts)
	f=$(stat toy 2:6 filtered)
	control 10.0.1.1 "DATA secret43"
	control 10.0.1.1 "EXPECT 3011" &
	out=
	slowwait 30 has_expect dport=3011 && connects 10.0.1.1 3011 && out=in
	wait %%
	if [ "$out" = in ] && slowwait 10 all_answered toy 2:6 $((q - v)) &&
	   e=$(grep -c '^packet' "$HOUT") && [ "$e" -ge 2 ] &&
	   [ "$(grep -c '^packet.* data=12 ' "$HOUT")" -eq "$e" ] &&
	   [ "$(stat toy 2:6 queued)" -eq $((q + e)) ] &&
	   [ "$(stat toy 2:6 filtered)" -ge $((f + 12)) ]; then
		pass "filter-queues-matches-only"
	else
		fail "filter-queues-matches-only" \
			"$(cat "$HOUT"; ctl stats name=toy tuple=2:6)"
	fi
	# removed: everything is queued again
	ctl new name=toy tuple=2:6 filter= >/dev/null
	q=$(stat toy 2:6 queued)
	control 10.0.1.1 "DATA secret44"
	if [ "$(stat toy 2:6 queued)" -ge $((q + 3)) ]; then
		pass "filter-removed-queues-all"
	else
		fail "filter-removed-queues-all" \
			"$(ctl stats name=toy tuple=2:6)"
	fi
	stop_helper

	# fail-open, nobody listening: the flow passes, counted as bypassed
	b=$(stat toy 2:6 bypassed)
	d=$(stat toy 2:6 dropped)
	if connects 10.0.1.1 2121 && stats_moved toy 2:6 bypassed "$b" &&
	   [ "$(stat toy 2:6 dropped)" -eq "$d" ]; then
		pass "fail-open-no-listener-bypassed"
	else
		fail "fail-open-no-listener-bypassed" \
			"$(ctl stats name=toy tuple=2:6)"
	fi

	# fail-closed, nobody listening: the flow cannot start
	ctl new name=toy tuple=2:6 flags=1 >/dev/null
	d=$(stat toy 2:6 dropped)
	if ! connects 10.0.1.1 2121 && stats_moved toy 2:6 dropped "$d"; then
		pass "fail-closed-no-listener-drops"
	else
		fail "fail-closed-no-listener-drops" \
			"$(ctl stats name=toy tuple=2:6)"
	fi

	# ... not even the handshake, which payload-only queueing or a
	# filter would let through: no conntrack is confirmed
	ctl new name=toy tuple=2:6 flags=3 >/dev/null
	d=$(stat toy 2:6 dropped)
	sx conntrack -D -p tcp --dport 2121 >/dev/null 2>&1
	if ctl get name=toy tuple=2:6 | grep -q ' flags=3$' &&
	   ! connects 10.0.1.1 2121 && stats_moved toy 2:6 dropped "$d" &&
	   [ -z "$(sx conntrack -L -p tcp --dport 2121 2>/dev/null)" ]; then
		pass "fail-closed-payload-only-no-listener-drops"
	else
		fail "fail-closed-payload-only-no-listener-drops" \
			"$(ctl stats name=toy tuple=2:6)"
	fi
	ctl new name=toy tuple=2:6 flags=1 filter=words:EXPE >/dev/null
	d=$(stat toy 2:6 dropped)
	f=$(stat toy 2:6 filtered)
	sx conntrack -D -p tcp --dport 2121 >/dev/null 2>&1
	if ctl get name=toy tuple=2:6 | grep -q ' flags=1 filter=' &&
	   ! connects 10.0.1.1 2121 && stats_moved toy 2:6 dropped "$d" &&
	   [ "$(stat toy 2:6 filtered)" -eq "$f" ] &&
	   [ -z "$(sx conntrack -L -p tcp --dport 2121 2>/dev/null)" ]; then
		pass "fail-closed-filter-no-listener-drops"
	else
		fail "fail-closed-filter-no-listener-drops" \
			"$(ctl stats name=toy tuple=2:6)"
	fi
	ctl new name=toy tuple=2:6 flags=1 filter= >/dev/null

	# ... and works again once a daemon listens (still fail-closed)
	start_helper -n toy -q 0
	if ctl get name=toy tuple=2:6 | grep -q ' flags=1$'; then
		expect_lets_in fail-closed-with-daemon-helps 3007
	else
		fail "fail-closed-with-daemon-helps" \
			"not fail-closed: $(ctl get name=toy tuple=2:6)"
	fi
	stop_helper
	ctl new name=toy tuple=2:6 flags=0 >/dev/null

	# fail-closed, hung daemon, queue of 5: the helper drops the rest
	# before the queue sees it
	: >"$UDPSINK"
	ctl new name=toy-udp tuple=2:17 flags=1 >/dev/null
	d=$(stat toy-udp 2:17 dropped)
	start_helper -n toy-udp -q 1 -p udp -S -L 5 -O
	udp_burst 20
	slowwait 10 sh -c "[ \$(grep -c '^packet' $HOUT) -ge 5 ]"
	out=$(stat toy-udp 2:17 dropped)
	if [ "$(queued)" -eq 5 ] && [ "$out" -ge $((d + 15)) ] &&
	   [ ! -s "$UDPSINK" ]; then
		pass "fail-closed-queue-full-drops"
	else
		fail "fail-closed-queue-full-drops" \
			"$(queued) queued, $((out - d)) dropped by the helper"
	fi
	stop_helper

	# fail-closed, hung daemon whose socket buffer is full, on a queue
	# bound fail-open: the queue cannot hand the packets over, and drops
	# them rather than let them pass unseen
	: >"$UDPSINK"
	start_helper -n toy-udp -q 1 -p udp -O -b 1
	kill -STOP "$HPID"
	u=$(queue_stat 1 7)
	udp_burst 20
	slowwait 10 queue_stat_ge 1 7 $((u + 10))
	out=$(($(queue_stat 1 7) - u))
	if [ "$out" -ge 10 ] && [ ! -s "$UDPSINK" ]; then
		pass "fail-closed-fail-open-queue-drops"
	else
		fail "fail-closed-fail-open-queue-drops" \
			"$out dropped by the queue, $(wc -l <"$UDPSINK") passed"
	fi
	# killed while stopped: what it holds is dropped, never answered
	stop_helper
	ctl new name=toy-udp tuple=2:17 flags=0 >/dev/null
}

# The daemon is killed and restarted while control connections come and
# go: established connections survive and are helped again, new ones are
# helped, and when the load is over, the conntrack and expectation tables
# are back to where they were.
test_restart_under_load()
{
	local t base_ct base_exp end load i established clients=()

	# short timeouts, so that the tables drain within the test
	for t in syn_sent syn_recv fin_wait close_wait last_ack time_wait \
		 close unacknowledged; do
		sx sysctl -qw "net.netfilter.nf_conntrack_tcp_timeout_$t=1"
	done
	ctl new name=toy tuple=2:6 policy=2:toy/8/30:toy-b/8/30 >/dev/null
	sx conntrack -F >/dev/null 2>&1
	sx conntrack -D expect >/dev/null 2>&1
	base_ct=$(ct_count)
	base_exp=$(exp_count)

	start_helper -n toy -q 0
	# three long-lived control connections, fed through fifos on fds 7-9
	for i in 7 8 9; do
		long_lived "$i"
	done

	# new connections, one command each, for 8 seconds; the daemon is
	# killed after 2 and back after 4
	end=$(( $(date +%s) + 8 ))
	(
		i=0
		while [ "$(date +%s)" -lt $end ]; do
			short "EXPECT $((3300 + i % 50))"
			i=$((i + 1))
		done
	) &
	load=$!
	sleep 2
	stop_helper
	sleep 2
	start_helper -n toy -q 0
	wait "$load"

	established=$(sx conntrack -L -p tcp --dport 2121 2>/dev/null |
		grep -c 'ESTABLISHED.*helper=toy')
	if [ "$established" -eq 3 ]; then
		pass "restart-under-load-keeps-connections"
	else
		fail "restart-under-load-keeps-connections" \
			"$established of 3 long-lived connections left"
	fi

	# the old connections and a new one are helped by the new daemon; the
	# new one stays open too, as its expectation goes when its conntrack
	# does, which with these timeouts is a second after it closes
	long_lived 6
	echo "EXPECT 3201" >&7
	echo "EXPECT 3202" >&8
	echo "EXPECT 3203" >&9
	echo "EXPECT 3204" >&6
	if slowwait 30 has_expect dport=3201 &&
	   slowwait 10 has_expect dport=3202 &&
	   slowwait 10 has_expect dport=3203 &&
	   slowwait 10 has_expect dport=3204; then
		pass "restart-under-load-helps-old-and-new"
	else
		fail "restart-under-load-helps-old-and-new" \
			"$(sx conntrack -L expect 2>&1); $(tail -n 5 "$HOUT")"
	fi

	end_long_lived 6 7 8 9
	if slowwait 60 drained ct_count "$base_ct" &&
	   slowwait 45 drained exp_count "$base_exp"; then
		pass "restart-under-load-tables-drain"
	else
		fail "restart-under-load-tables-drain" \
			"$(ct_count) conntracks (was $base_ct), \
$(exp_count) expectations (was $base_exp): $(sx conntrack -L 2>&1)"
	fi
	stop_helper
}

# A helper daemon that hangs, dies with packets queued, or loses its
# helper while packets are queued.
test_queue_faults()
{
	local before after out

	# hung daemon, queue length 5: 5 packets wait, the rest is dropped
	# and counted
	: >"$UDPSINK"
	start_helper -n toy-udp -q 1 -p udp -S -L 5
	udp_burst 20
	slowwait 10 sh -c "[ \$(grep -c '^packet' $HOUT) -ge 5 ]"
	out=$(queue_stat 1 6)
	if [ "$(queued)" -eq 5 ] && [ "${out:-0}" -ge 15 ] &&
	   [ ! -s "$UDPSINK" ]; then
		pass "hung-daemon-queue-full-drops"
	else
		fail "hung-daemon-queue-full-drops" \
			"$(queued) queued, ${out:-?} dropped"
	fi

	# SIGKILL with packets queued: they are dropped, the conntrack table
	# goes back to what it was, the next flows pass without the daemon
	before=$(sx conntrack -C)
	stop_helper
	if slowwait 10 queue_unbound 1; then
		pass "sigkill-queue-released"
	else
		fail "sigkill-queue-released" "queue 1 still bound"
	fi
	udp_burst 3
	if slowwait 10 test -s "$UDPSINK"; then
		pass "sigkill-next-flows-pass"
	else
		fail "sigkill-next-flows-pass" "nothing reached the server"
	fi
	after=$(sx conntrack -C)
	if [ "$after" -le $((before + 1)) ]; then
		pass "sigkill-no-conntrack-leak"
	else
		fail "sigkill-no-conntrack-leak" \
			"$before conntracks before, $after after"
	fi

	# fail-open queue: what does not fit is accepted
	: >"$UDPSINK"
	start_helper -n toy-udp -q 1 -p udp -S -L 5 -O
	udp_burst 20
	if slowwait 10 sh -c "[ \$(wc -l <$UDPSINK) -ge 15 ]"; then
		pass "fail-open-accepts-overflow"
	else
		fail "fail-open-accepts-overflow" \
			"$(wc -l <"$UDPSINK") of 15 arrived"
	fi

	# verdicts that must be refused
	out=$(sx "$HELPER" verdict 1 1 1)
	if [[ "$out" == "error 1 "* ]]; then
		pass "verdict-non-owner-eperm"
	else
		fail "verdict-non-owner-eperm" "$out"
	fi
	out=$(sx "$HELPER" verdict 77 1 1)
	if [[ "$out" == "error 19 "* ]]; then
		pass "verdict-unknown-queue-enodev"
	else
		fail "verdict-unknown-queue-enodev" "$out"
	fi
	stop_helper

	# verdicts that make no sense, from the owner of the queue:
	# NF_STOLEN (2) and one above NF_MAX_VERDICT (7)
	local verdict name
	for verdict in 2:stolen 7:above-max; do
		name="verdict-${verdict#*:}-einval"
		start_helper -n toy-udp -q 1 -p udp -V "${verdict%%:*}"
		udp_burst 1
		if slowwait 10 grep -q '^error 22 ' "$HOUT"; then
			pass "$name"
		else
			fail "$name" "$(tail -n 2 "$HOUT")"
		fi
		stop_helper
	done

	# the helper is deleted while 1000 packets wait; then their verdicts.
	# No rule holds it (removing the rule would drop the flow's queued
	# packets first): the conntrack comes from ctnetlink with CTA_HELP, as
	# conntrackd installs it.  The deletion drops what waits, and the
	# verdicts are refused.  Another namespace's queue keeps its packets,
	# conntrack-tracked ones included.
	local other=$TMPD/other opid
	rm -f "$TMPD/release" "$other.release"
	cx nft -f - <<EOF
table ip q {
	chain out {
		type filter hook output priority filter;
		udp dport 7777 ct state new queue num 3
	}
}
EOF
	other_queue "$cli" "$other"
	opid=$OPID
	sx iptables -t raw -D PREROUTING -p udp --dport 5555 \
		-j CT --helper toy-udp
	start_helper -n toy-udp -q 1 -p udp -L 1000 \
		-H "$TMPD/release"
	sx conntrack -D -p udp --dport 5555 >/dev/null 2>&1
	sx "$HELPER" ctflow toy-udp udp 10.0.1.2 40555 10.0.1.1 5555 \
		>/dev/null
	cx "$HELPER" udp 10.0.1.1 5555 40555 1000
	slowwait 30 sh -c "[ \$(grep -c '^packet' $HOUT) -ge 1000 ]"
	slowwait 10 sh -c "[ \$(grep -c '^packet' $other) -ge 10 ]"
	local queued
	queued=$(queue_stat 1 3)
	out=$(ctl del name=toy-udp)
	touch "$TMPD/release" "$other.release"
	if [ "$queued" = 1000 ] && [ "$out" = ok ] &&
	   [ "$(queue_stat 1 3)" = 0 ] &&
	   slowwait 30 grep -q '^released 1000 refused 1000' "$HOUT"; then
		pass "helper-deleted-with-queued-packets"
	else
		fail "helper-deleted-with-queued-packets" \
			"$queued queued; del: $out; $(tail -n 2 "$HOUT")"
	fi
	if slowwait 10 grep -q '^released 10 refused 0' "$other"; then
		pass "helper-deleted-other-netns-queue-kept"
	else
		fail "helper-deleted-other-netns-queue-kept" \
			"$(tail -n 2 "$other")"
	fi
	stop_helper
	kill -9 "$opid" 2>/dev/null
	wait "$opid" 2>/dev/null
	cx nft delete table ip q
	rm -f "$other" "$other.release" "$TMPD/release"
}

# A hook registered while the packet waits in the queue shifts the index
# of the hook that queued it: the packet is completed all the same, and
# reaches the daemon once.
test_hook_added_while_queued()
{
	local rel=$TMPD/rel

	rm -f "$rel"
	start_helper -n toy-udp -q 1 -p udp -H "$rel"
	udp_from 4001 5555 hook-added
	if ! slowwait 10 seen_at_least 1 "$HOUT"; then
		fail "hook-added-while-queued-seen-once" "nothing queued"
		stop_helper
		return
	fi
	if ! sx nft -f - <<EOF
table inet late {
	chain in {
		type filter hook input priority 10; policy accept;
	}
}
EOF
	then
		fail "hook-added-while-queued-seen-once" "nft refused the chain"
		stop_helper
		return
	fi
	touch "$rel"
	if slowwait 10 grep -q hook-added "$UDPSINK" &&
	   [ "$(queued)" -eq 1 ]; then
		pass "hook-added-while-queued-seen-once"
	else
		fail "hook-added-while-queued-seen-once" \
			"the daemon saw it $(queued) times"
	fi
	if sx conntrack -L -p udp --sport 4001 2>/dev/null |
	   grep -q 'dport=5555 .*helper=toy-udp'; then
		pass "hook-added-while-queued-completed"
	else
		fail "hook-added-while-queued-completed" \
			"$(sx conntrack -L -p udp 2>&1)"
	fi
	stop_helper
	sx nft delete table inet late
	rm -f "$rel"
}

# The first datagram of a flow sent as one GSO packet: the queue segments
# it, and the segments share the unconfirmed conntrack that only the first
# may confirm.  Answered last first, the other segments are dropped;
# answered from two threads at once, the conntrack is confirmed once and
# nothing warns (the console is checked).
test_gso_first_datagram()
{
	local rel=$TMPD/rel ev=$TMPD/ev evpid

	gso_held "$rel" -R 4101 4 gso-reversed
	# a datagram sent after them arrives after them
	slowwait 10 grep -q '^released 4 ' "$HOUT" &&
		udp_from 4103 5555 gso-sentinel1 &&
		slowwait 10 grep -q gso-sentinel1 "$UDPSINK"
	if [ "$(queued)" -ge 4 ] &&
	   [ "$(grep -c gso-reversed "$UDPSINK")" -eq 1 ] &&
	   grep -q '^gso-reversed0-' "$UDPSINK" &&
	   sx conntrack -L -p udp --sport 4101 2>/dev/null |
	   grep -q helper=toy-udp; then
		pass "gso-later-segments-do-not-confirm"
	else
		fail "gso-later-segments-do-not-confirm" \
			"$(queued) queued, delivered: \
$(grep gso-reversed "$UDPSINK" | cut -c1-16)"
	fi
	stop_helper

	ip netns exec "$srv" conntrack -E -e NEW -p udp --dport 5555 \
		>"$ev" 2>/dev/null &
	evpid=$!
	gso_held "$rel" -T 4102 8 gso-parallel
	# the event of a flow started after them comes after theirs
	slowwait 10 grep -q '^released 8 in parallel' "$HOUT" &&
		udp_from 4104 5555 gso-sentinel2 &&
		slowwait 10 grep -q 'sport=4104' "$ev"
	if grep -q gso-parallel "$UDPSINK" &&
	   [ "$(grep -c 'sport=4102' "$ev")" -eq 1 ]; then
		pass "gso-parallel-verdicts-one-confirmation"
	else
		fail "gso-parallel-verdicts-one-confirmation" \
			"$(grep -c 'sport=4102' "$ev") confirmations: \
$(tail -n 2 "$HOUT")"
	fi
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	stop_helper
	rm -f "$rel" "$ev"
}

# A queue rule in the raw table after a CT rule: the packet still carries
# the rule's template, which no NFQA_CT describes and no verdict changes.
test_template()
{
	local log=$TMPD/tmpl

	sx iptables -t raw -A PREROUTING -p udp --dport 5556 \
		-j CT --helper toy-udp
	sx iptables -t raw -A PREROUTING -p udp --dport 5556 \
		-j NFQUEUE --queue-num 2
	sx nft insert rule inet filter input udp dport 5556 accept
	ip netns exec "$srv" "$HELPER" helper -n toy-udp -q 2 -p udp \
		>"$log" 2>&1 &
	LPID=$!
	slowwait 30 grep -q '^ready' "$log"
	udp_from 4201 5556 "DATA tmpl42"
	udp_from 4201 5556 "second"
	slowwait 10 seen_at_least 2 "$log"
	if [ "$(grep -c '^packet.* ct=0 ' "$log")" -eq 2 ]; then
		pass "template-no-nfqa-ct"
	else
		fail "template-no-nfqa-ct" "$(grep '^packet' "$log")"
	fi
	# the verdict let the packet on: conntrack made its flow from the
	# template, with the template's helper
	if sx conntrack -L -p udp --sport 4201 2>/dev/null |
	   grep -q 'dport=5556 .*helper=toy-udp'; then
		pass "template-flow-helped"
	else
		fail "template-flow-helped" \
			"$(grep '^packet' "$log"); \
$(sx conntrack -L -p udp 2>&1)"
	fi
	kill -9 "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	sx iptables -t raw -D PREROUTING -p udp --dport 5556 \
		-j NFQUEUE --queue-num 2
	sx iptables -t raw -D PREROUTING -p udp --dport 5556 \
		-j CT --helper toy-udp
	sx nft delete rule inet filter input handle \
		"$(sx nft -a list chain inet filter input |
		   sed -n 's/.*udp dport 5556 accept # handle \([0-9]*\)/\1/p')"
	rm -f "$log"
}

# Another program queues the packets of the helper's flows (queue 5,
# before conntrack confirms them): its verdicts are not the helper's, and
# the helper counts exactly the packets its daemon saw.
test_counters_own_packets()
{
	local log=$TMPD/q5 q v

	sx nft -f - <<EOF
table inet other {
	chain in {
		type filter hook input priority -10; policy accept;
		tcp dport 2121 queue num 5
	}
}
EOF
	listener 5 "$log"
	start_helper -n toy -q 0
	q=$(stat toy 2:6 queued)
	v=$(stat toy 2:6 verdicts)
	control 10.0.1.1 "one" "two" "three"
	if slowwait 20 own_counted "$q" "$v" && seen_at_least 1 "$HOUT" &&
	   seen_at_least 1 "$log"; then
		pass "stats-other-queue-not-counted"
	else
		fail "stats-other-queue-not-counted" \
			"daemon saw $(queued), \
$(ctl stats name=toy tuple=2:6) (was queued=$q verdicts=$v)"
	fi
	stop_helper
	kill -9 "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	sx nft delete table inet other
	rm -f "$log"
}

# Fail-closed while the daemon comes and goes under traffic: no datagram
# reaches the server without a daemon having seen it.
test_fail_closed_flapping()
{
	local log=$TMPD/flap end flap seen got

	ctl new name=toy-udp tuple=2:17 flags=1 >/dev/null
	: >"$log"
	end=$(($(date +%s) + 8))
	(
		n=0
		while [ "$(date +%s)" -lt $end ]; do
			ip netns exec "$srv" "$HELPER" helper -n toy-udp -q 1 \
				-p udp >>"$log" 2>&1 &
			pid=$!
			n=$((n + 1))
			# bound, then up for a tenth to three tenths of a second
			slowwait 10 sh -c \
				"[ \$(grep -c '^ready' $log) -ge $n ]"
			sleep "0.$((RANDOM % 3 + 1))"
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done
	) &
	flap=$!
	cx bash -c "exec 3>/dev/udp/10.0.1.1/5555
		for i in \$(seq 300); do
			printf 'flap%05d\n' \$i >&3
			sleep 0.01
		done" 2>/dev/null
	wait "$flap"
	seen=$(grep -c '^packet' "$log")
	got=$(grep -c '^flap' "$UDPSINK")
	if [ "$seen" -gt 0 ] && [ "$got" -le "$seen" ]; then
		pass "fail-closed-flapping-nothing-unseen"
	else
		fail "fail-closed-flapping-nothing-unseen" \
			"$got delivered, $seen seen by a daemon"
	fi
	ctl new name=toy-udp tuple=2:17 flags=0 >/dev/null
	rm -f "$log"
}

# Payload-only on a flow that NAT adjusts: a resized data segment must not
# be overtaken by the segments after it, so the helper queues them all.
test_payload_only_nat()
{
	local out

	ctl new name=toy tuple=2:6 flags=2 >/dev/null
	start_helper -n toy -q 0 -M
	nat_2122 add
	# the FIN follows the resized segment at once
	out=$(printf 'MANGLE\n' |
		cx socat -t 3 - TCP:10.0.1.1:2122,connect-timeout=10 \
			2>/dev/null)
	# shellcheck disable=SC2016 # awk's own fields
	if [ "$out" = "MANGLED-BY-HELPER" ] &&
	   awk '/^packet/ && / data=[1-9]/ { d = 1 }
		/^packet/ && / data=0 / && d { e = 1 }
		END { exit !e }' "$HOUT"; then
		pass "payload-only-nat-queues-in-order"
	else
		fail "payload-only-nat-queues-in-order" \
			"got '$out', \
$(grep -c '^packet.* data=0 ' "$HOUT") empty segments queued"
	fi
	nat_2122 delete
	stop_helper
	ctl new name=toy tuple=2:6 flags=0 >/dev/null
}

# flows_helped EV N: conntrack's events EV show each of the N flows from
# source port 4301 on confirmed with the helper (NEW) and through its
# handshake (ASSURED); prints how many
flows_helped()
{
	local i port n=0

	for i in $(seq "$2"); do
		port=$((4300 + i))
		grep -q "NEW.* sport=$port dport=2121 .*helper=toy" "$1" &&
		grep -q " sport=$port dport=2121 .*ASSURED.*helper=toy" "$1" &&
			n=$((n + 1))
	done
	echo "$n"
	[ "$n" -eq "$2" ]
}

# Many flows at once, their verdicts sent in batches from two threads,
# while another program queues the same flows over two queues
# (--queue-balance, by CPU): every flow is helped and confirmed, and the
# helper counts its own packets.  Conntrack's events tell, not a listing
# afterwards: a retransmission that a queue held until after the close
# gets a reset, and the entry is gone ten seconds later.
test_parallel_flows()
{
	local rel=$TMPD/rel l5=$TMPD/l5 ev=$TMPD/ev evpid
	local l6=$TMPD/l6 p5 q v i ok=0 helped others pids=() silent=""
	local to=TCP:10.0.1.1:2121,connect-timeout=30 flows=12

	sx iptables -I INPUT -p tcp --dport 2121 \
		-j NFQUEUE --queue-balance 5:6 --queue-cpu-fanout
	listener 5 "$l5"
	p5=$LPID
	listener 6 "$l6"
	touch "$rel"
	start_helper -n toy -q 0 -H "$rel" -T
	q=$(stat toy 2:6 queued)
	v=$(stat toy 2:6 verdicts)
	ip netns exec "$srv" conntrack -E >"$ev" 2>&1 &
	evpid=$!
	# the events come once a conntrack inserted from here shows up
	slowwait 10 sh -c "ip netns exec $srv conntrack -I -p udp \
		-s 192.0.2.1 -d 192.0.2.2 --sport 9 --dport 9 -t 30 \
		>/dev/null 2>&1; grep -q 'sport=9 dport=9' $ev"
	sx conntrack -D -p udp --sport 9 --dport 9 >/dev/null 2>&1
	for i in $(seq "$flows"); do
		echo "ping$i" | cx socat -t 60 - \
			"$to,sourceport=$((4300 + i))" \
			>"$TMPD/par$i" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq "$flows"); do
		if grep -q "ping$i" "$TMPD/par$i"; then
			ok=$((ok + 1))
		else
			silent+=" $i"
		fi
		rm -f "$TMPD/par$i"
	done
	helped=$(slowwait 10 flows_helped "$ev" "$flows")
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	if [ "$ok" -eq "$flows" ] && [ "$helped" -eq "$flows" ]; then
		pass "parallel-flows-helped"
	else
		fail "parallel-flows-helped" "$ok answered (not:$silent), \
$helped helped; events: $(grep -c . "$ev")"
	fi
	slowwait 20 own_counted "$q" "$v"
	others=$(cat "$l5" "$l6" | grep -c '^packet')
	if own_counted "$q" "$v" && [ "$others" -gt 0 ]; then
		pass "parallel-flows-counted-once"
	else
		fail "parallel-flows-counted-once" \
			"daemon saw $(queued), queues 5-6 $others, \
$(ctl stats name=toy tuple=2:6) (was queued=$q verdicts=$v)"
	fi
	stop_helper
	kill -9 "$p5" "$LPID" 2>/dev/null
	wait "$p5" "$LPID" 2>/dev/null
	sx iptables -D INPUT -p tcp --dport 2121 \
		-j NFQUEUE --queue-balance 5:6 --queue-cpu-fanout
	rm -f "$rel" "$l5" "$l6" "$ev"
}

# Reordered and duplicated segments on a flow whose payload the helper
# resizes: the sequence adjustment follows every retransmission.
test_reorder_resize()
{
	local out i

	start_helper -n toy -q 0 -M
	nat_2122 add
	if ! cx tc qdisc add dev veth0 root netem delay 20ms 20ms \
		duplicate 50% ||
	   ! sx tc qdisc add dev veth0 root netem delay 20ms 20ms \
		duplicate 20%; then
		fail "reorder-duplicate-resize-stream-intact" "netem refused"
		cx tc qdisc del dev veth0 root 2>/dev/null
		nat_2122 delete
		stop_helper
		return
	fi
	out=$( (for i in 1 2 3 4 5; do printf 'MANGLE\n'; sleep 0.3; done
		printf 'after\n'; sleep 3) |
		cx socat -t 5 - TCP:10.0.1.1:2122,connect-timeout=10,nodelay \
			2>/dev/null)
	if [ "$(grep -c '^MANGLED-BY-HELPER$' <<<"$out")" -eq 5 ] &&
	   [ "$(tail -n 1 <<<"$out")" = after ]; then
		pass "reorder-duplicate-resize-stream-intact"
	else
		fail "reorder-duplicate-resize-stream-intact" "got '$out'"
	fi
	cx tc qdisc del dev veth0 root
	sx tc qdisc del dev veth0 root
	nat_2122 delete
	stop_helper
}

# A bridge between client and server, conntrack on the bridge, the helper
# attached by a bridge-family nft ct helper object in the bridge's
# namespace: the bridged flow is helped and completed as a routed one is.
test_bridge()
{
	local log=$TMPD/br port hpid

	setup_ns bsrv bcli bbr || { fail "bridge-setup" "namespaces"; return; }
	if ! { ip link add veth0 netns "$bsrv" type veth peer name vs \
		netns "$bbr" &&
	       ip link add veth0 netns "$bcli" type veth peer name vc \
		netns "$bbr" &&
	       ip -net "$bbr" link add br0 type bridge; }; then
		fail "bridge-setup" "links"
		cleanup_ns "$bsrv" "$bcli" "$bbr"
		return
	fi
	ip -net "$bbr" link set vs master br0
	ip -net "$bbr" link set vc master br0
	ip -net "$bsrv" addr add 10.0.2.1/24 dev veth0
	ip -net "$bcli" addr add 10.0.2.2/24 dev veth0
	for port in vs vc br0; do
		ip -net "$bbr" link set "$port" up
	done
	ip -net "$bsrv" link set veth0 up
	ip -net "$bcli" link set veth0 up
	for port in 2121 3000 3001; do
		ip netns exec "$bsrv" socat -t 10 \
			"TCP-LISTEN:$port,reuseaddr,fork" EXEC:cat 2>/dev/null &
	done

	ctl_in "$bbr" new "${TOY[@]}" status=1 >/dev/null
	bx nft -f - <<EOF || { fail "bridge-helper-expect" "ruleset"; return; }
table bridge filter {
	ct helper toy-obj {
		type "toy" protocol tcp
		l3proto ip
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 2121 ct helper set "toy-obj"
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		tcp dport 2121 accept
		meta l4proto tcp drop
	}
}
EOF
	ip netns exec "$bbr" "$HELPER" helper -n toy -q 0 >"$log" 2>&1 &
	hpid=$!
	slowwait 30 grep -q '^ready' "$log"
	slowwait 30 sh -c "ip netns exec $bsrv ss -ltn | grep -q ':3001 '"

	SX=bx CX=bcx
	if connects 10.0.2.1 3001; then
		fail "bridge-related-needs-expectation" "port 3001 reachable"
	else
		pass "bridge-related-needs-expectation"
	fi
	expect_lets_in bridge-helper-expect 3000 10.0.2.1 "$log"
	if bx conntrack -L -p tcp --dport 2121 2>/dev/null |
	   grep -q 'src=10.0.2.2 .*dport=2121 .*ASSURED.*helper=toy'
	then
		pass "bridge-flow-confirmed-helped"
	else
		fail "bridge-flow-confirmed-helped" "$(bx conntrack -L 2>&1)"
	fi
	SX=sx CX=cx
	kill -9 "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	cleanup_ns "$bsrv" "$bcli" "$bbr"
	rm -f "$log"
}

# Verdicts that a kernel without their fixes answers with a WARN or an
# oops: they run last, so that on such a kernel only they are lost.
#
# A NATed flow without a helper, and a queue program whose verdicts set
# the conntrack's mark (NFQA_CT) and lengthen the payload: the verdict
# applies, and the sequence adjustment, which needs the seqadj extension
# that only a helped flow gets, is skipped without a warning.
test_nat_unhelped_mangle()
{
	local name=nat-unhelped-mangle-no-warn out

	sx nft -f - <<EOF || { fail "$name" "ruleset"; return; }
table ip cthelper-q {
	chain nat {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 2124 dnat to 10.0.1.1:2121
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 2121 ct status dnat queue num 7
	}
}
EOF
	start_helper -n toy -q 7 -M -K
	(printf 'MANGLE\n'; sleep 1) |
		cx socat -t 2 - TCP:10.0.1.1:2124,connect-timeout=10 \
			>/dev/null 2>&1
	out=$(sx conntrack -L -p tcp --orig-port-dst 2124 --mark 1 2>/dev/null)
	if ! grep -q '^packet.* data=[1-9]' "$HOUT"; then
		fail "$name" "the data was not queued: $(tail -n 2 "$HOUT")"
	elif ! grep -q 'dport=2124 ' <<<"$out"; then
		fail "$name" "no conntrack with mark 1: NFQA_CT not applied"
	elif dmesg | grep -q 'Missing nfct_seqadj_ext_add'; then
		fail "$name" "nf_ct_seqadj_set() warned"
	else
		pass "$name"
	fi
	stop_helper
	sx nft delete table ip cthelper-q
}

# NFQA_EXP without CTA_EXPECT_TUPLE and CTA_EXPECT_MASK: no expectation,
# and the verdict on the packet still applies (the line is echoed).
test_exp_without_tuple()
{
	local name=nfqa-exp-without-tuple-refused out

	start_helper -n toy -q 0
	out=$( (printf 'NOTUPLE\n'; sleep 1) |
		cx socat -t 3 - TCP:10.0.1.1:2121,connect-timeout=10 \
			2>/dev/null)
	if [ "$out" != NOTUPLE ]; then
		fail "$name" "got '$out'; $(tail -n 2 "$HOUT")"
	elif [ "$(exp_count)" -ne 0 ]; then
		fail "$name" "$(sx conntrack -L expect 2>&1)"
	else
		pass "$name"
	fi
	stop_helper
}

datapath_start datapath 10 start_and_attach_xt || exit 1
test_expectations
test_nft_attach
test_nat_mangle
test_nat6_mangle
test_bad_nfqa_ct
test_disabled
test_no_listener
test_policy
test_queue_faults
test_restart_under_load
datapath_stop

# Completion after the verdict: conntrack finishes what its confirm hook
# left undone when the helper queued a packet, whatever happens to the
# hooks, the queue or the packet meanwhile.
datapath_start completion 2 attach_xt4 || exit 1
test_hook_added_while_queued
test_gso_first_datagram
test_template
test_counters_own_packets
test_fail_closed_flapping
test_payload_only_nat
test_parallel_flows
test_reorder_resize
datapath_stop

test_bridge

datapath_start faults 2 attach_xt4 || exit 1
test_nat_unhelped_mangle
test_exp_without_tuple
datapath_stop

exit $ret
