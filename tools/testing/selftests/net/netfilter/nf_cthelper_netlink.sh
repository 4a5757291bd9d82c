#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Userspace connection tracking helpers, the netlink interface: what
# nfnetlink_cthelper accepts and refuses (errno and extack), the life of a
# helper from NEW to DEL, and concurrent requests.  One PASS/FAIL/SKIP line
# per case.

cd "$(dirname "$0")" || exit 1
# shellcheck source=nf_cthelper_lib.sh
source ./nf_cthelper_lib.sh

# bpf_ret N: filter= bytecode of N instructions that all return 1
bpf_ret()
{
	local prog=$1 i

	for ((i = 0; i < $1; i++)); do
		prog+=",6 0 0 1"
	done
	echo "$prog"
}

test_input()
{
	local want

	flush_helpers
	expect_err "new-missing-name" 22 "missing NFCTH_NAME" new "$T" "$P" "$D"
	expect_err "new-missing-tuple" 22 \
		"missing NFCTH_TUPLE" new name=toy "$P" "$D"
	expect_err "new-missing-policy" 22 \
		"missing NFCTH_POLICY" new name=toy "$T" "$D"
	expect_err "new-missing-privlen" 22 \
		"missing NFCTH_PRIV_DATA_LEN" new name=toy "$T" "$P"
	expect_err "new-name-16-chars" 22 \
		"attr NFCTH_NAME" new name=abcdefghijklmnop "$T" "$P" "$D"
	expect_err "new-name-unterminated" 22 \
		"attr NFCTH_NAME" new name-raw=616263 "$T" "$P" "$D"
	expect_err "new-name-empty" 22 \
		"attr NFCTH_NAME" new name= "$T" "$P" "$D"
	expect_err "new-tuple-l3-only" 22 \
		"missing NFCTH_TUPLE/NFCTH_TUPLE_L4PROTONUM" \
		new name=toy tuple-l3=2 "$P" "$D"
	expect_err "new-tuple-l4-only" 22 \
		"missing NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM" \
		new name=toy tuple-l4=6 "$P" "$D"
	expect_err "new-tuple-short-attr" 34 \
		"attr NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM" \
		new name=toy tuple-short "$P" "$D"
	expect_err "new-tuple-bad-l3" 22 \
		"attr NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM" \
		new name=toy tuple=7:6 "$P" "$D"
	expect_err "new-classes-0" 22 \
		"attr NFCTH_POLICY/NFCTH_POLICY_SET_NUM" \
		new name=toy "$T" policy=0 "$D"
	expect_err "new-classes-5" 75 \
		"attr NFCTH_POLICY/NFCTH_POLICY_SET_NUM" \
		new name=toy "$T" policy=5:a/1/1:b/1/1:c/1/1:d/1/1 privlen=0
	expect_err "new-class-missing" 22 \
		"missing NFCTH_POLICY/NFCTH_POLICY_SET2" \
		new name=toy "$T" policy=2:a/1/10 "$D"
	expect_err "new-max-expected-256" 22 \
		"attr NFCTH_POLICY/NFCTH_POLICY_SET1/NFCTH_POLICY_EXPECT_MAX" \
		new name=toy "$T" policy=1:a/256/10 "$D"
	expect_err "new-privlen-33" 22 \
		"attr NFCTH_PRIV_DATA_LEN" new name=toy "$T" "$P" privlen=33
	expect_err "new-status-2" 22 \
		"attr NFCTH_STATUS" new "${TOY[@]}" status=2
	expect_err "new-queue-65536" 22 \
		"attr NFCTH_QUEUE_NUM" new "${TOY[@]}" queue=65536
	expect_err "new-policy-garbage" 34 \
		"attr NFCTH_POLICY/NFCTH_POLICY_SET_NUM" \
		new name=toy "$T" policy-garbage "$D"
	expect_err "new-policy-empty-nest" 22 \
		"missing NFCTH_POLICY/NFCTH_POLICY_SET_NUM" \
		new name=toy "$T" policy-empty "$D"
	expect_err "new-flags-unknown-bit" 22 \
		"attr NFCTH_FLAGS" new "${TOY[@]}" flags=4
	expect_err "new-stats-read-only" 22 \
		"attr NFCTH_STATS" new "${TOY[@]}" stats-attr
	# NFCTH_FILTER: whole instructions, at most 256, and a program the
	# classic BPF checker takes (one that ends in a return, whose jumps
	# stay inside it)
	expect_err "new-filter-partial-instruction" 22 \
		"attr NFCTH_FILTER" new "${TOY[@]}" raw=9:060000000100000000
	expect_err "new-filter-257-instructions" 22 \
		"attr NFCTH_FILTER" new "${TOY[@]}" "filter=$(bpf_ret 257)"
	expect_err "new-filter-no-return" 22 \
		"attr NFCTH_FILTER" new "${TOY[@]}" "filter=1,0 0 0 0"
	expect_err "new-filter-jump-out" 22 \
		"attr NFCTH_FILTER" new "${TOY[@]}" "filter=2,21 5 0 0,6 0 0 1"
	expect_registered "new-filter-256-instructions" \
		"^helper toy .* filter=256,6 0 0 1,.*,6 0 0 1$" \
		new "${TOY[@]}" "filter=$(bpf_ret 256)"
	expect_err "get-unknown" 2 "attr NFCTH_NAME" get name=nosuchhelper
	expect_err "get-unknown-tuple" 2 "attr NFCTH_TUPLE" get tuple=2:132
	expect_err "del-unknown" 2 \
		"attr NFCTH_NAME" del name=nosuchhelper tuple=2:6
	expect_err "del-bad-tuple" 22 \
		"attr NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM" del name=toy tuple=9:6

	# Parsed as Linux 6.12 parses: what it ignores is ignored here too.
	# The tuple without NLA_F_NESTED: NFCTH_TUPLE_L3PROTONUM 2 and
	# NFCTH_TUPLE_L4PROTONUM 6 (host-order lengths and types, x86)
	local flagless=06000100000200000500020006000000
	expect_registered "new-unknown-attribute-ignored" \
		"^helper toy l3=2 l4=6 " new "${TOY[@]}" unknown=42
	expect_registered "new-nest-without-flag-accepted" \
		"^helper flagless l3=2 l4=6 " \
		new name=flagless "raw=2:$flagless" "$P" "$D"
	expect_registered "new-trailing-bytes-accepted" \
		"^helper trailing l3=2 l4=6 " \
		new name=trailing "raw=2:${flagless}0000" "$P" "$D"
	expect_registered "new-class-name-empty-accepted" \
		"^helper unnamed .* classes=1 /1/10$" \
		new name=unnamed "$T" policy=1:/1/10 "$D"
	expect_registered "new-class-beyond-num-ignored" \
		"^helper beyond .* classes=1 a/1/10$" \
		new name=beyond "$T" policy=1:a/1/10:b/2/20 "$D"
	ctl new name=first tuple=2:17 "$P" "$D" >/dev/null
	ctl new name=second "$T" "$P" "$D" >/dev/null
	if ctl get | grep -q '^helper first ' &&
	   ctl get tuple=2:6 | grep -q '^helper second '; then
		pass "get-without-name-first-registered"
	else
		fail "get-without-name-first-registered" \
			"$(ctl get; ctl get tuple=2:6)"
	fi
	flush_helpers

	expect_ok "new-name-15-chars" new name=abcdefghijklmno "$T" "$P" "$D"
	expect_ok "new-privlen-32" new name=priv32 tuple=2:17 "$P" privlen=32
	want="^helper priv32 l3=2 l4=17 queue=0 status=0"
	dump_has "dump-shows-new" "$want privlen=32 classes=1 a/1/10$"
	expect_ok "new-fail-closed" new name=closed "$T" "$P" "$D" flags=1
	dump_has "dump-shows-fail-closed" "^helper closed .* flags=1$"
	ctl new name=closed "$T" flags=2 >/dev/null
	dump_has "update-to-payload-only" "^helper closed .* flags=2$"
	ctl new name=closed "$T" flags=0 >/dev/null
	dump_has "update-to-fail-open" "^helper closed .*a/1/10$"
	local zero="queued=0 bypassed=0 dropped=0 verdicts=0 expected=0"

	zero+=" filtered=0"
	if ctl stats name=closed "$T" | grep -qx "stats closed $zero"; then
		pass "stats-zero-when-new"
	else
		fail "stats-zero-when-new" "$(ctl stats name=closed "$T")"
	fi

	# the expectation timer must not wrap: the timeout is clamped to
	# INT_MAX / HZ seconds, whichever HZ the kernel has
	expect_ok "new-timeout-huge" \
		new name=slow "$T" policy=1:a/1/4294967295 "$D"
	local t
	t=$(ctl dump | sed -n 's/^helper slow .* a\/1\/\([0-9]*\)$/\1/p')
	if [[ " 21474836 8589934 7158278 2147483 " == *" $t "* ]]; then
		pass "timeout-clamped"
	else
		fail "timeout-clamped" "dump: $(ctl dump)"
	fi

	# without CAP_NET_ADMIN
	local out
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all \
		"$HELPER" ctl new "${TOY[@]}" 2>&1)
	if [[ "$out" == "error 1 "* ]] &&
	   ! ctl dump | grep -q '^helper toy '; then
		pass "new-unprivileged-eperm"
	else
		fail "new-unprivileged-eperm" "$out"
	fi
	flush_helpers
}

test_lifecycle()
{
	local before out want

	setup_ns ns1 || { fail "lifecycle-setup" "namespace"; return; }
	CTLNS=$ns1
	expect_ok "lifecycle-new" new "${TOY[@]}"
	expect_err "new-excl-exists" 17 "attr NFCTH_NAME" new excl "${TOY[@]}"
	expect_ok "new-again-updates" new "${TOY[@]}" queue=7 status=0
	want="^helper toy l3=2 l4=6 queue=7 status=0"
	dump_has "update-visible" "$want privlen=32 classes=1 toy/8/30$"

	expect_err "update-classes-count" 16 \
		"attr NFCTH_POLICY" \
		new name=toy "$T" policy=2:toy/8/30:b/1/1 privlen=32
	expect_err "update-class-name" 16 \
		"attr NFCTH_POLICY" \
		new name=toy "$T" policy=1:other/8/30 privlen=32
	expect_err "update-privlen" 16 \
		"attr NFCTH_PRIV_DATA_LEN" \
		new name=toy "$T" policy=1:toy/8/30 privlen=8

	# a filter: set by an update, shown as given, replaced whole (or
	# not at all when the new one is refused), removed by an empty one
	local prog="3,21 0 1 4,6 0 0 1,6 0 0 0"
	expect_ok "filter-set-by-update" new name=toy "$T" "filter=$prog"
	if ctl get name=toy "$T" | grep -q " filter=$prog$"; then
		pass "filter-get-as-given"
	else
		fail "filter-get-as-given" "$(ctl get name=toy "$T")"
	fi
	expect_ok "filter-replaced" new name=toy "$T" "filter=1,6 0 0 1"
	dump_has "filter-replaced-shown" "^helper toy .* filter=1,6 0 0 1$"
	expect_err "filter-refused-keeps-old" 22 "attr NFCTH_FILTER" \
		new name=toy "$T" "filter=1,0 0 0 0"
	expect_ok "filter-removed" new name=toy "$T" filter=
	dump_has "filter-removed-shown" "^helper toy .* toy/8/30$"

	expect_ok "two-classes-new" \
		new name=duo tuple=10:17 policy=2:one/4/10:two/6/20 privlen=0
	expect_ok "two-classes-update" \
		new name=duo tuple=10:17 policy=2:one/5/11:two/7/21
	dump_has "two-classes-distinct-values" \
		"^helper duo l3=10 l4=17 .* one/5/11 two/7/21$"
	expect_err "update-invalid-class-2" 22 \
		"attr NFCTH_POLICY/NFCTH_POLICY_SET2/NFCTH_POLICY_EXPECT_MAX" \
		new name=duo tuple=10:17 policy=2:one/9/9:two/300/9

	# same name, other tuple: a second helper
	expect_ok "same-name-other-tuple" \
		new name=toy tuple=10:6 policy=1:toy/8/30 privlen=32
	if [ "$(ctl dump | grep -c '^helper toy ')" -eq 2 ]; then
		pass "same-name-two-helpers"
	else
		fail "same-name-two-helpers" "$(ctl dump)"
	fi
	expect_ok "del-one-tuple" del name=toy tuple=10:6
	if [ "$(ctl dump | grep -c '^helper toy ')" -eq 1 ]; then
		pass "del-kept-other-tuple"
	else
		fail "del-kept-other-tuple" "$(ctl dump)"
	fi

	# a rule that uses the helper keeps it
	ip netns exec "$ns1" iptables -t raw -A PREROUTING -p tcp --dport 2121 \
		-j CT --helper toy
	expect_err "del-busy-xt" 16 "attr NFCTH_NAME" del name=toy tuple=2:6
	out=$(ctl del)
	if [ "$out" = ok ] && ctl dump | grep -q '^helper toy ' &&
	   ! ctl dump | grep -q '^helper duo '; then
		pass "flush-keeps-busy"
	else
		fail "flush-keeps-busy" "$out / $(ctl dump)"
	fi
	ip netns exec "$ns1" iptables -t raw -F
	expect_ok "del-after-rule-gone" del name=toy tuple=2:6

	expect_ok "nft-object-new" new "${TOY[@]}"
	ip netns exec "$ns1" nft -f - <<EOF
table ip t {
	ct helper h {
		type "toy" protocol tcp
	}
	chain pre {
		type filter hook prerouting priority filter;
		tcp dport 2121 ct helper set "h"
	}
}
EOF
	expect_err "del-busy-nft-object" 16 \
		"attr NFCTH_NAME" del name=toy tuple=2:6
	ip netns exec "$ns1" nft flush ruleset
	expect_ok "del-after-nft-object-gone" del name=toy tuple=2:6

	# layer 3 protocol 0: one helper that rules of both families find
	expect_ok "new-l3-both" new name=both tuple=0:6 policy=1:both/8/30 \
		privlen=0
	if ip netns exec "$ns1" iptables -t raw -A PREROUTING -p tcp \
		--dport 2121 -j CT --helper both 2>/dev/null &&
	   ip netns exec "$ns1" ip6tables -t raw -A PREROUTING -p tcp \
		--dport 2121 -j CT --helper both 2>/dev/null; then
		pass "l3-both-found-for-ipv4-and-ipv6"
	else
		fail "l3-both-found-for-ipv4-and-ipv6" \
			"CT --helper both refused: $(ctl dump)"
	fi
	ip netns exec "$ns1" iptables -t raw -F
	ip netns exec "$ns1" ip6tables -t raw -F
	ctl del name=both tuple=0:6 >/dev/null

	# dump in two reads with a flush in between: terminates, no splat
	ip netns exec "$ns1" "$HELPER" bulk h 200 >/dev/null
	ctl dump-slow >"$TMPD/dump" &
	local dpid=$! lines rc=0
	# the flush comes after the dump's first read, before its end
	slowwait 10 test -s "$TMPD/dump"
	ctl del >/dev/null
	wait $dpid || rc=$?
	lines=$(grep -c '^helper h[0-9]* ' "$TMPD/dump")
	if [ $rc -eq 0 ] && [ "$lines" -ge 1 ] && [ "$lines" -lt 200 ] &&
	   [ "$lines" = "$(wc -l <"$TMPD/dump")" ] &&
	   [ -z "$(ctl dump)" ]; then
		pass "dump-while-flushing"
	else
		fail "dump-while-flushing" "dump ended badly: $lines helpers"
	fi
	rm -f "$TMPD/dump"
	CTLNS=""
	cleanup_ns "$ns1"
}

# Concurrent NEW/DEL/dump for a bounded time; the console scan catches
# any splat.
test_stress()
{
	local secs=5 end pids=() i dir bad

	[ "$KSFT_MACHINE_SLOW" = yes ] && secs=10
	flush_helpers
	dir=$(mktemp -d)
	end=$(( $(date +%s) + secs ))
	for i in 1 2; do
		(
			while [ "$(date +%s)" -lt $end ]; do
				ctl new name="s$i" "$T" policy=1:c/1/1 "$D"
				ctl new name="s$i" "$T" policy=1:c/2/2 status=0
				ctl del name="s$i"
			done >"$dir/w$i"
		) &
		pids+=($!)
	done
	(
		while [ "$(date +%s)" -lt $end ]; do
			ctl dump
			ctl get name=s1
		done >"$dir/r" 2>&1
	) &
	pids+=($!)
	wait "${pids[@]}"
	# each writer owns its name: every request succeeds; the reader sees
	# whole helpers, or s1 missing
	bad=$(cat "$dir/w1" "$dir/w2" | grep -cvx ok)
	bad=$((bad + $(grep -cvE '^(helper s[12] |ok$|error 2 )' "$dir/r")))
	if [ "$bad" -eq 0 ] && [ -s "$dir/w1" ] && [ -s "$dir/w2" ] &&
	   grep -q '^helper s[12] ' "$dir/r" && flush_helpers; then
		pass "concurrent-new-del-dump"
	else
		fail "concurrent-new-del-dump" \
			"$bad unexpected answers; left: $(ctl dump)"
	fi
	rm -rf "$dir"
}

test_input
test_lifecycle
test_stress

exit $ret
