#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Userspace connection tracking helpers and network namespaces: each
# namespace has its own helpers, an unprivileged user's included, bounded
# by a limit and gone with it; deleting one touches nothing of the
# others.  One PASS/FAIL/SKIP line per case.

cd "$(dirname "$0")" || exit 1
# shellcheck source=nf_cthelper_lib.sh
source ./nf_cthelper_lib.sh

# A helper belongs to the namespace that registered it: other namespaces
# neither see it nor attach it, and may have their own of the same name.
# A kernel helper's name stays taken in every namespace.
test_netns_isolation()
{
	local out qa qb

	flush_helpers
	if ! setup_ns nsa nsb; then
		fail "netns-isolation-setup" "namespaces"
		return
	fi
	CTLNS=$nsa
	expect_ok "netns-new-in-a" new "${TOY[@]}"
	CTLNS=$nsb
	if [ -z "$(ctl dump)" ] && [ -z "$(ctl_in "" dump)" ]; then
		pass "netns-dump-only-own"
	else
		fail "netns-dump-only-own" \
			"b: $(ctl dump); host: $(ctl_in "" dump)"
	fi
	expect_err "netns-get-other-enoent" 2 "attr NFCTH_NAME" get name=toy
	expect_err "netns-del-other-enoent" 2 \
		"attr NFCTH_NAME" del name=toy tuple=2:6
	other_refused netns-xt-other-refused iptables -t raw -A PREROUTING \
		-p tcp --dport 2121 -j CT --helper toy
	other_refused netns-nft-other-refused nft -f - <<EOF
table ip t {
	ct helper h {
		type "toy" protocol tcp
	}
}
EOF
	# ctnetlink (CTA_HELP) finds a's helper in a only
	out=$(ip netns exec "$nsb" "$HELPER" ctnew toy 40000)
	out+=" / $("$HELPER" ctnew toy 40001)"
	if ! a_has_toy; then
		fail "netns-ctnetlink-other-refused" "a's helper is gone"
	elif [[ "$out" == "error 95 "*" / error 95 "* ]] &&
	   ! ip netns exec "$nsb" conntrack -L 2>/dev/null | grep -q 10.9.9 &&
	   ! conntrack -L 2>/dev/null | grep -q 10.9.9; then
		pass "netns-ctnetlink-other-refused"
	else
		fail "netns-ctnetlink-other-refused" "$out"
	fi
	out=$(ip netns exec "$nsa" "$HELPER" ctnew toy 40002)
	if [ "$out" = ok ] &&
	   ip netns exec "$nsa" conntrack -L 2>/dev/null |
		grep -q "sport=40002 dport=2121 .*helper=toy"; then
		pass "netns-ctnetlink-own-helper"
	else
		fail "netns-ctnetlink-own-helper" "$out"
	fi

	# b's own helper of the same name; b's rule holds b's, not a's
	expect_ok "netns-same-name-in-b" new "${TOY[@]}" queue=5
	ip netns exec "$nsb" iptables -t raw -A PREROUTING -p tcp \
		--dport 2121 -j CT --helper toy
	qa=$(ctl_in "$nsa" dump | grep -o 'queue=[0-9]*')
	qb=$(ctl dump | grep -o 'queue=[0-9]*')
	if [ "$qa" = queue=0 ] && [ "$qb" = queue=5 ]; then
		pass "netns-same-name-apart"
	else
		fail "netns-same-name-apart" "a: $qa, b: $qb"
	fi
	expect_err "netns-del-busy-in-b" 16 \
		"attr NFCTH_NAME" del name=toy tuple=2:6
	out=$(ctl_in "$nsa" del name=toy tuple=2:6)
	if [ "$out" = ok ] && ctl dump | grep -q '^helper toy '; then
		pass "netns-del-in-a-keeps-b"
	else
		fail "netns-del-in-a-keeps-b" "$out; b: $(ctl dump)"
	fi
	# a's conntrack no longer points to the deleted helper
	out=$(ip netns exec "$nsa" conntrack -L 2>/dev/null | grep 40002)
	if [ -n "$out" ] && [[ "$out" != *helper=* ]]; then
		pass "netns-del-unhelps-conntrack"
	else
		fail "netns-del-unhelps-conntrack" "$out"
	fi
	ctl_in "$nsa" new "${TOY[@]}" >/dev/null
	ctl_in "$nsa" del >/dev/null
	if ctl dump | grep -q '^helper toy '; then
		pass "netns-flush-stays-in-ns"
	else
		fail "netns-flush-stays-in-ns" "b: $(ctl dump)"
	fi
	ip netns exec "$nsb" iptables -t raw -F

	# a kernel helper's name is taken everywhere
	modprobe -q nf_conntrack_irc 2>/dev/null
	if ! ip netns exec "$nsa" iptables -t raw -A PREROUTING -p tcp \
		--dport 6667 -j CT --helper irc 2>/dev/null; then
		echo "SKIP: netns-kernel-helper-name-busy: no kernel irc helper"
	else
		expect_err "netns-kernel-helper-name-busy" 16 \
			"attr NFCTH_NAME" new name=irc "$T" "$P" "$D"
		ip netns exec "$nsa" iptables -t raw -F
	fi
	CTLNS=""
	cleanup_ns "$nsa" "$nsb"
}

# the unprivileged user's helper toy: every packet it queued was answered
userns_answered()
{
	local st

	st=$(ux "$HELPER" ctl stats name=toy "$T")
	[ "$(sed -n 's/.* queued=\([0-9]*\) .*/\1/p' <<<"$st")" = \
	  "$(sed -n 's/.* verdicts=\([0-9]*\) .*/\1/p' <<<"$st")" ]
}

# An unprivileged user runs a helper for its own namespaces: it registers
# the helper, attaches it with nft and its daemon's verdict creates the
# expectation that lets the related flow in.  It sees none of the host's
# helpers and the host none of its.
test_userns()
{
	local out uout=$TMPD/userns port seen SX=ux CX=ux

	if ! setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn true 2>/dev/null; then
		echo "SKIP: userns: no unprivileged user namespaces"
		return
	fi
	flush_helpers
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn sleep 600 &
	UPIDS=($!)
	slowwait 30 ux true
	ux ip link set lo up

	out=$(ux "$HELPER" ctl new "${TOY[@]}" status=1 2>&1)
	if [ "$out" = ok ] &&
	   ux "$HELPER" ctl dump | grep -q '^helper toy '; then
		pass "userns-unprivileged-new"
	else
		fail "userns-unprivileged-new" "$out"
	fi
	if [ -z "$(ctl dump)" ]; then
		pass "userns-host-does-not-see"
	else
		fail "userns-host-does-not-see" "$(ctl dump)"
	fi
	ctl new name=hosty "$T" "$P" "$D" >/dev/null
	out=$(ux "$HELPER" ctl del name=hosty 2>&1)
	if [[ "$out" == "error 2 "* ]] && ctl dump | grep -q '^helper hosty ' &&
	   ! ux "$HELPER" ctl dump | grep -q hosty; then
		pass "userns-host-helper-out-of-reach"
	else
		fail "userns-host-helper-out-of-reach" "$out"
	fi
	ctl del name=hosty >/dev/null

	ux nft -f - <<EOF
table inet t {
	ct helper toy {
		type "toy" protocol tcp
		l3proto ip
	}
	chain out {
		type filter hook output priority filter;
		tcp dport 2121 ct helper set "toy"
	}
	chain in {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		tcp dport 2121 accept
		meta l4proto tcp drop
	}
}
EOF
	for port in 2121 3000 3001; do
		ux socat -t 10 "TCP-LISTEN:$port,reuseaddr,fork" EXEC:cat \
			2>/dev/null &
		UPIDS+=($!)
	done
	ux "$HELPER" helper -n toy -q 0 >"$uout" 2>&1 &
	UPIDS+=($!)
	if ! slowwait 30 grep -q '^ready' "$uout" ||
	   ! slowwait 30 listens 3000; then
		fail "userns-setup" "$(cat "$uout")"
	elif connects 127.0.0.1 3000; then
		fail "userns-related-needs-expectation" "port 3000 reachable"
	else
		pass "userns-related-needs-expectation"
	fi
	expect_lets_in userns-expectation-lets-related-in 3000 127.0.0.1 "$uout"

	# the unprivileged user's filter: set, shown, and only the segment
	# with the command reaches its daemon, which still makes the
	# expectation
	out=$(ux "$HELPER" ctl new name=toy "$T" filter=words:EXPE 2>&1)
	if [ "$out" = ok ] &&
	   ux "$HELPER" ctl get name=toy "$T" | grep -q ' filter=22,'; then
		pass "userns-filter-set"
	else
		fail "userns-filter-set" "$out"
	fi
	# what the daemon was sent before the filter, answered first
	slowwait 10 userns_answered
	seen=$(grep -c '^packet' "$uout")
	expect_lets_in userns-filter-expectation 3001 127.0.0.1 "$uout"
	slowwait 10 userns_answered
	out=$(grep '^packet' "$uout" | tail -n +$((seen + 1)))
	if [ -n "$out" ] && ! grep -qv ' data=12 ' <<<"$out"; then
		pass "userns-filter-queues-matches-only"
	else
		fail "userns-filter-queues-matches-only" "$out"
	fi
	kill -9 "${UPIDS[@]}" 2>/dev/null
	wait "${UPIDS[@]}" 2>/dev/null
	UPIDS=()
	rm -f "$uout"
}

# A namespace goes away with helped flows, rules and an nft object that
# hold its helpers, and packets waiting in a hung daemon's queue: the
# namespace is dismantled and nothing is left behind (the debug kernel's
# kmemleak scan and the console scan check the rest).
test_netns_teardown()
{
	local peer=ntd$$

	flush_helpers
	setup_datapath || { fail "netns-teardown-setup" "namespaces"; return; }
	datapath_helpers 2
	attach_xt 2>/dev/null
	sx nft -f - <<EOF
table ip hold {
	ct helper h {
		type "toy" protocol tcp
	}
}
EOF
	# the host has a helper of the same name, held by a rule
	local host out
	ctl_in "" new "${TOY[@]}" >/dev/null
	iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper toy
	host=$(ctl_in "" dump)
	# the host's end of this veth goes when the namespace is gone
	ip link add "$peer" type veth peer name "$peer" netns "$srv"
	start_helper -n toy-udp -q 1 -p udp -S
	udp_burst 10
	connects 10.0.1.1 2121
	slowwait 10 sh -c "[ \$(grep -c '^packet' $HOUT) -ge 1 ]"
	CTLNS=""
	cleanup_ns "$srv" "$cli"
	if slowwait 30 sh -c "! ip link show $peer >/dev/null 2>&1"; then
		pass "netns-teardown-completes"
	else
		fail "netns-teardown-completes" "namespace still there"
	fi

	# A new namespace starts empty, even one that reuses the dead one's
	# memory: nothing of it is found (EEXIST, a dump), its names are
	# free.  The host's helper of the same name, which its own rule
	# holds, is as it was.
	if ! setup_ns nsa; then
		fail "netns-teardown-again" "namespace"
		iptables -t raw -D PREROUTING -p tcp --dport 2121 \
			-j CT --helper toy
		ctl_in "" del name=toy >/dev/null
		return
	fi
	CTLNS=$nsa
	if [ -z "$(ctl dump)" ] && [ "$(ctl new excl "${TOY[@]}")" = ok ] &&
	   ip netns exec "$nsa" iptables -t raw -A PREROUTING -p tcp \
		--dport 2121 -j CT --helper toy; then
		pass "netns-teardown-names-free"
	else
		fail "netns-teardown-names-free" "$(ctl dump)"
	fi
	CTLNS=""
	out=$(ctl dump)
	if [ -n "$host" ] && [ "$out" = "$host" ] &&
	   [[ "$(ctl del name=toy)" == "error 16 "* ]]; then
		pass "netns-teardown-host-untouched"
	else
		fail "netns-teardown-host-untouched" \
			"before: $host; after: $out"
	fi
	iptables -t raw -D PREROUTING -p tcp --dport 2121 -j CT --helper toy
	ctl_in "" del name=toy >/dev/null
	cleanup_ns "$nsa"
}

# How many helpers a namespace may have: the limit+1'th NEW is refused and
# changes nothing, the limit is each namespace's own and bounded by the
# initial namespace's, inside an unprivileged user namespace too.
test_limits()
{
	local out def

	flush_helpers
	if ! setup_ns nsa nsb; then
		fail "limit-setup" "namespaces"
		return
	fi
	def=$(sysctl_in "")
	if [ "$def" = 64 ] && [ "$(sysctl_in "$nsa")" = 64 ]; then
		pass "limit-sysctl-default"
	else
		fail "limit-sysctl-default" \
			"host $def, new namespace $(sysctl_in "$nsa")"
	fi

	CTLNS=$nsa
	sysctl_in "$nsa" 5
	out=$(ip netns exec "$nsa" "$HELPER" bulk a 5)
	if [[ "$out" == "ok 5 "* ]]; then
		pass "limit-new-up-to"
	else
		fail "limit-new-up-to" "$out"
	fi
	expect_err "limit-new-over-refused" 28 \
		"attr NFCTH_NAME" new name=over "$T" "$P" "$D"
	if [[ "$(ctl new name=over "$T" "$P" "$D")" == *nfnl_cthelper_max* ]]
	then
		pass "limit-extack-names-sysctl"
	else
		fail "limit-extack-names-sysctl" \
			"$(ctl new name=over "$T" "$P" "$D")"
	fi
	expect_ok "limit-update-at-limit" new name=a0 "$T" queue=3
	out=$(ip netns exec "$nsb" "$HELPER" bulk b 10)
	if [[ "$out" == "ok 10 "* ]]; then
		pass "limit-per-namespace"
	else
		fail "limit-per-namespace" "$out"
	fi

	# from inside: within the host's value only; the host lowering its
	# value bounds every namespace
	if ! sysctl_in "$nsb" $((def + 1)) && sysctl_in "$nsb" 20 &&
	   [ "$(sysctl_in "$nsb")" = 20 ]; then
		pass "limit-sysctl-bounded-by-host"
	else
		fail "limit-sysctl-bounded-by-host" "b: $(sysctl_in "$nsb")"
	fi
	sysctl_in "" 8
	out=$(ctl_in "$nsb" new name=b10 "$T" "$P" "$D")
	sysctl_in "" "$def"
	if [[ "$out" == "error 28 "* ]] &&
	   [ "$(ctl_in "$nsb" dump | grep -c '^helper ')" = 10 ]; then
		pass "limit-host-lowers-all"
	else
		fail "limit-host-lowers-all" "$out"
	fi
	ctl del name=a1 >/dev/null
	expect_ok "limit-delete-frees-room" new name=again "$T" "$P" "$D"

	if setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn true 2>/dev/null; then
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
			unshare -Urn sh -c "
				sysctl -q -w $MAXSYSCTL=$((def + 1)) \
					2>/dev/null && echo raised
				sysctl -q -w $MAXSYSCTL=2 && echo lowered
				$HELPER bulk u 3")
		if [ "$out" = "$(printf 'lowered\nerror 28 at 2')" ]; then
			pass "limit-userns-own-sysctl"
		else
			fail "limit-userns-own-sysctl" "$out"
		fi
	else
		echo "SKIP: limit-userns-own-sysctl: no user namespaces"
	fi
	CTLNS=""
	cleanup_ns "$nsa" "$nsb"
}

test_limits_cost()
{
	local n=10000 t0 t1 out start secs slow=5000

	# two processes on a debug kernel under emulation take seconds
	[ "$KSFT_MACHINE_SLOW" = yes ] && slow=15000

	flush_helpers
	if ! setup_ns nsa nsb; then
		fail "limit-cost-setup" "namespaces"
		return
	fi
	sysctl_in "" $n
	sysctl_in "$nsb" $n
	t0=$(bulk_best "$nsb")
	sysctl_in "$nsa" $n
	out=$(ip netns exec "$nsa" "$HELPER" bulk big $n)
	t1=$(bulk_best "$nsb")
	echo "# 1000 NEW, best of 3: $t0 us alone, $t1 us beside $n"
	if [[ "$out" != "ok $n "* ]]; then
		fail "limit-cost-other-namespace" "filling a: $out"
	elif [[ ! "$t0$t1" =~ ^[0-9]+$ ]]; then
		fail "limit-cost-other-namespace" "$t0 / $t1"
	elif [ "$t1" -lt $((2 * t0)) ]; then
		# one scan of the other's helpers per NEW triples the time
		pass "limit-cost-other-namespace"
	else
		fail "limit-cost-other-namespace" "$t0 us, then $t1 us"
	fi

	start=$(date +%s%N)
	out=$(ctl_in "$nsa" del)
	secs=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "# flush of $n helpers: $secs ms"
	if [ "$out" = ok ] && [ -z "$(ctl_in "$nsa" dump)" ] &&
	   [ $secs -lt 30000 ]; then
		pass "limit-flush-batched"
	else
		fail "limit-flush-batched" "$out, $secs ms"
	fi

	ip netns exec "$nsa" "$HELPER" bulk big $n >/dev/null
	ip netns exec "$nsa" iptables -t raw -A PREROUTING -p tcp \
		--dport 2121 -j CT --helper big0
	start=$(date +%s%N)
	cleanup_ns "$nsa"
	out=$(ctl new name=host "$T" "$P" "$D"; ctl del name=host)
	secs=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "# host NEW and DEL during a teardown at the limit: $secs ms"
	if [ "$out" = "$(printf 'ok\nok')" ] && [ $secs -lt "$slow" ]; then
		pass "limit-netns-teardown"
	else
		fail "limit-netns-teardown" "$out, $secs ms"
	fi
	sysctl_in "" 64
	cleanup_ns "$nsb"
}

# Deleting helpers and the rules that hold them drops the queued packets
# of their flows, never what another NFQUEUE user holds in the same
# namespace; tc's ct action refuses a userspace helper.
test_isolation_queues()
{
	local other=$TMPD/oq opid out

	flush_helpers
	setup_datapath || { fail "other-queue-setup" "namespaces"; return; }
	datapath_helpers 2
	attach_xt4
	ctl new name=spare "$T" "$P" "$D" >/dev/null

	# a flow that tc's ct action tracks as well (IPv4 only: it drops
	# ARP): tc lets it through, the netfilter hooks help it
	sx nft -f - <<EOF
table ip tcct {
	ct helper h {
		type "toy" protocol tcp
	}
	chain pre {
		type filter hook prerouting priority filter;
		tcp dport 2123 ct helper set "h"
	}
}
EOF
	if sx tc qdisc add dev veth0 ingress &&
	   sx tc filter add dev veth0 ingress protocol ip matchall \
		action ct; then
		start_helper -n toy -q 0
		CPORT=2123 expect_lets_in act-ct-flow-still-helped 3004
		stop_helper
		sx tc qdisc del dev veth0 ingress
	else
		fail "act-ct-flow-still-helped" "tc ingress ct action"
	fi
	sx nft delete table ip tcct

	sx nft -f - <<EOF
table ip q {
	ct helper h {
		type "toy" protocol tcp
	}
	chain in {
		type filter hook input priority filter - 5;
		udp dport 7777 queue num 3
		tcp dport 2124 ct helper set "h"
	}
}
EOF
	rm -f "$other.release"
	other_queue "$srv" "$other"
	opid=$OPID
	slowwait 10 sh -c "[ \$(grep -c '^packet' $other) -ge 10 ]"

	out=$(ctl del name=spare)
	other_kept "other-queue-kept-helper-deleted"
	sx iptables -t raw -D PREROUTING -p udp --dport 5555 \
		-j CT --helper toy-udp
	other_kept "other-queue-kept-rule-removed"
	out=$(sx nft -a list chain ip q in |
		sed -n 's/.*ct helper set "h" # handle //p')
	sx nft delete rule ip q in handle "$out"
	sx nft delete ct helper ip q h
	other_kept "other-queue-kept-nft-object-removed"

	out=$(ip netns exec "$srv" "$HELPER" actct toy)
	if [[ "$out" == "error 95 "*"userspace helpers are not supported"* ]]
	then
		pass "act-ct-refuses-userspace-helper"
	else
		fail "act-ct-refuses-userspace-helper" "$out"
	fi

	sx iptables -t raw -F
	out=$(ctl del)
	other_kept "other-queue-kept-flush"
	touch "$other.release"
	if [ "$out" = ok ] &&
	   slowwait 10 grep -q '^released 10 refused 0' "$other"; then
		pass "other-queue-verdicts-accepted"
	else
		fail "other-queue-verdicts-accepted" \
			"$out; $(tail -n 2 "$other")"
	fi
	kill -9 "$opid" 2>/dev/null
	wait "$opid" 2>/dev/null
	rm -f "$other" "$other.release"
	cleanup
}

# Expectations made through ctnetlink on a helped conntrack while its
# helper is deleted: none outlives the helper, whatever the interleaving
# (on the debug kernel, KASAN watches the expectation dump).
test_delete_expect_race()
{
	local i pid left=0 made=0 out

	flush_helpers
	if ! setup_ns nsa; then
		fail "delete-expect-race-setup" "namespace"
		return
	fi
	CTLNS=$nsa
	for i in $(seq 20); do
		ctl new "${TOY[@]}" >/dev/null
		ip netns exec "$nsa" "$HELPER" ctnew toy $((41000 + i)) \
			>/dev/null
		ip netns exec "$nsa" "$HELPER" expnew $((41000 + i)) 1500 \
			>"$TMPD/exp" &
		pid=$!
		sleep 0.$((3 + i % 5))
		ctl del name=toy >/dev/null
		wait "$pid"
		out=$(cat "$TMPD/exp")
		out=${out#ok }
		made=$((made + ${out%% *}))
		left=$((left + $(ip netns exec "$nsa" conntrack -L expect \
				2>/dev/null | grep -c 'dport=')))
		ip netns exec "$nsa" conntrack -D expect >/dev/null 2>&1
	done
	rm -f "$TMPD/exp"
	echo "# $made expectations made around 20 deletions, $left left after"
	if [ "$made" -gt 0 ] && [ "$left" = 0 ]; then
		pass "delete-expect-race-none-left"
	else
		fail "delete-expect-race-none-left" "$made made, $left left"
	fi
	CTLNS=""
	cleanup_ns "$nsa"
}

test_netns_isolation
test_userns
test_netns_teardown
test_limits
test_limits_cost
test_isolation_queues
test_delete_expect_race

exit $ret
