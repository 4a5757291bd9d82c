#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Userspace connection tracking helpers (nfnetlink_cthelper): the netlink
# interface, the datapath through nfnetlink_queue and the faults of a
# helper daemon.  Uses ./nf_cthelper as the helper daemon and as a raw
# netlink client.  One PASS/FAIL/SKIP line per case.

source lib.sh

cd "$(dirname "$0")" || exit 1

ret=0
HELPER=./nf_cthelper

checktool "iptables --version" "run test without iptables"
checktool "conntrack --version" "run test without conntrack"
checktool "nft --version" "run test without nft"
if [ ! -x "$HELPER" ]; then
	echo "SKIP: $HELPER not built"
	exit $ksft_skip
fi

cleanup()
{
	cleanup_all_ns
	# rules in the namespaces held helpers: wait until they let go
	busywait 10000 flush_helpers
}
trap cleanup EXIT

pass()
{
	echo "PASS: $1"
}

fail()
{
	echo "FAIL: $1: $2"
	ret=1
}

ctl()
{
	"$HELPER" ctl "$@"
}

flush_helpers()
{
	ctl del >/dev/null
	[ -z "$(ctl dump)" ]
}

# A toy helper definition that conntrack-tools could have sent.
TOY="name=toy tuple=2:6 policy=1:toy/8/30 privlen=32"

# expect_err NAME ERRNO CTL-ARGS...: the request fails with ERRNO, the
# extended ack names the attribute, the helper table is unchanged.
expect_err()
{
	local name=$1 err=$2 before after out
	shift 2

	before=$(ctl dump)
	out=$(ctl "$@")
	after=$(ctl dump)
	if [[ "$out" != "error $err "* ]]; then
		fail "$name" "got '$out', want errno $err"
	elif [ "$err" -ne 1 ] && [[ "$out" != *"[attr at "* && "$out" != *"[missing attr "* ]]; then
		fail "$name" "extack does not name the attribute: $out"
	elif [ "$before" != "$after" ]; then
		fail "$name" "helper table changed: '$before' -> '$after'"
	else
		pass "$name"
	fi
}

# expect_ok NAME CTL-ARGS...
expect_ok()
{
	local name=$1 out
	shift

	out=$(ctl "$@")
	if [ "$out" = ok ]; then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}

# dump_has NAME PATTERN: the dump matches PATTERN (grep -E)
dump_has()
{
	if ctl dump | grep -Eq "$2"; then
		pass "$1"
	else
		fail "$1" "dump: $(ctl dump)"
	fi
}

test_input()
{
	flush_helpers
	expect_err "new-missing-name" 22 new tuple=2:6 policy=1:a/1/10 privlen=0
	expect_err "new-missing-tuple" 22 new name=toy policy=1:a/1/10 privlen=0
	expect_err "new-missing-policy" 22 new name=toy tuple=2:6 privlen=0
	expect_err "new-missing-privlen" 22 new name=toy tuple=2:6 policy=1:a/1/10
	expect_err "new-name-16-chars" 22 new name=abcdefghijklmnop tuple=2:6 policy=1:a/1/10 privlen=0
	expect_err "new-name-unterminated" 22 new name-raw=616263 tuple=2:6 policy=1:a/1/10 privlen=0
	expect_err "new-name-empty" 22 new name= tuple=2:6 policy=1:a/1/10 privlen=0
	expect_err "new-tuple-l3-only" 22 new name=toy tuple-l3=2 policy=1:a/1/10 privlen=0
	expect_err "new-tuple-l4-only" 22 new name=toy tuple-l4=6 policy=1:a/1/10 privlen=0
	expect_err "new-tuple-short-attr" 34 new name=toy tuple-short policy=1:a/1/10 privlen=0
	expect_err "new-tuple-bad-l3" 22 new name=toy tuple=7:6 policy=1:a/1/10 privlen=0
	expect_err "new-classes-0" 22 new name=toy tuple=2:6 policy=0 privlen=0
	expect_err "new-classes-5" 75 new name=toy tuple=2:6 \
		policy=5:a/1/1:b/1/1:c/1/1:d/1/1 privlen=0
	expect_err "new-class-missing" 22 new name=toy tuple=2:6 policy=2:a/1/10 privlen=0
	expect_err "new-max-expected-256" 22 new name=toy tuple=2:6 policy=1:a/256/10 privlen=0
	expect_err "new-privlen-33" 22 new name=toy tuple=2:6 policy=1:a/1/10 privlen=33
	expect_err "new-status-2" 22 new $TOY status=2
	expect_err "new-queue-65536" 22 new $TOY queue=65536
	expect_err "new-policy-garbage" 22 new name=toy tuple=2:6 policy-garbage privlen=0
	expect_err "new-policy-empty-nest" 22 new name=toy tuple=2:6 policy-empty privlen=0
	expect_err "new-unknown-attribute" 22 new $TOY unknown=42
	expect_err "get-unknown" 2 get name=nosuchhelper
	expect_err "del-unknown" 2 del name=nosuchhelper tuple=2:6
	expect_err "del-bad-tuple" 22 del name=toy tuple=9:6

	expect_ok "new-name-15-chars" new name=abcdefghijklmno tuple=2:6 policy=1:a/1/10 privlen=0
	expect_ok "new-privlen-32" new name=priv32 tuple=2:17 policy=1:a/1/10 privlen=32
	dump_has "dump-shows-new" "^helper priv32 l3=2 l4=17 queue=0 status=1 privlen=32 classes=1 a/1/10$"

	# the expectation timer must not wrap: the timeout is clamped
	expect_ok "new-timeout-huge" new name=slow tuple=2:6 policy=1:a/1/4294967295 privlen=0
	local t
	t=$(ctl dump | sed -n 's/^helper slow .* a\/1\/\([0-9]*\)$/\1/p')
	if [ -n "$t" ] && [ "$t" -gt 0 ] && [ "$t" -lt 4294967295 ]; then
		pass "timeout-clamped"
	else
		fail "timeout-clamped" "dump: $(ctl dump)"
	fi

	# without CAP_NET_ADMIN
	local out
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$HELPER" ctl new $TOY 2>&1)
	if [[ "$out" == "error 1 "* ]] && ! ctl dump | grep -q '^helper toy '; then
		pass "new-unprivileged-eperm"
	else
		fail "new-unprivileged-eperm" "$out"
	fi
	flush_helpers
}

test_lifecycle()
{
	local before out

	flush_helpers
	expect_ok "lifecycle-new" new $TOY
	expect_err "new-excl-exists" 17 new excl $TOY
	expect_ok "new-again-updates" new $TOY queue=7 status=0
	dump_has "update-visible" "^helper toy l3=2 l4=6 queue=7 status=0 privlen=32 classes=1 toy/8/30$"

	expect_err "update-classes-count" 16 new name=toy tuple=2:6 policy=2:toy/8/30:b/1/1 privlen=32
	expect_err "update-class-name" 16 new name=toy tuple=2:6 policy=1:other/8/30 privlen=32
	expect_err "update-privlen" 16 new name=toy tuple=2:6 policy=1:toy/8/30 privlen=8

	expect_ok "two-classes-new" new name=duo tuple=10:17 policy=2:one/4/10:two/6/20 privlen=0
	expect_ok "two-classes-update" new name=duo tuple=10:17 policy=2:one/5/11:two/7/21
	dump_has "two-classes-distinct-values" "^helper duo l3=10 l4=17 .* one/5/11 two/7/21$"
	expect_err "update-invalid-class-2" 22 new name=duo tuple=10:17 policy=2:one/9/9:two/300/9

	# same name, other tuple: a second helper
	expect_ok "same-name-other-tuple" new name=toy tuple=10:6 policy=1:toy/8/30 privlen=32
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
	setup_ns ns1
	ip netns exec "$ns1" iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper toy
	expect_err "del-busy-xt" 16 del name=toy tuple=2:6
	out=$(ctl del)
	if [ "$out" = ok ] && ctl dump | grep -q '^helper toy ' &&
	   ! ctl dump | grep -q '^helper duo '; then
		pass "flush-keeps-busy"
	else
		fail "flush-keeps-busy" "$out / $(ctl dump)"
	fi
	ip netns exec "$ns1" iptables -t raw -F
	expect_ok "del-after-rule-gone" del name=toy tuple=2:6

	expect_ok "nft-object-new" new $TOY
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
	expect_err "del-busy-nft-object" 16 del name=toy tuple=2:6
	ip netns exec "$ns1" nft flush ruleset
	expect_ok "del-after-nft-object-gone" del name=toy tuple=2:6
	cleanup_ns "$ns1"

	# dump in two reads with a flush in between: terminates, no splat
	local i
	for i in $(seq 1 200); do
		ctl new name="h$i" tuple=2:6 policy=1:c/1/1 privlen=0 >/dev/null
	done
	ctl dump-slow >/tmp/nf_cthelper_dump.$$ &
	local dpid=$!
	sleep 0.3
	ctl del >/dev/null
	if wait $dpid && [ "$(wc -l </tmp/nf_cthelper_dump.$$)" -le 200 ] &&
	   [ -z "$(ctl dump)" ]; then
		pass "dump-while-flushing"
	else
		fail "dump-while-flushing" "dump ended badly"
	fi
	rm -f /tmp/nf_cthelper_dump.$$
}

# Concurrent NEW/DEL/dump for a bounded time; the console scan catches
# any splat.
test_stress()
{
	local secs=5 end pids=() i

	[ "$KSFT_MACHINE_SLOW" = yes ] && secs=10
	flush_helpers
	end=$(( $(date +%s) + secs ))
	for i in 1 2; do
		(
			while [ "$(date +%s)" -lt $end ]; do
				ctl new name="s$i" tuple=2:6 policy=1:c/1/1 privlen=0
				ctl new name="s$i" tuple=2:6 policy=1:c/2/2 status=0
				ctl del name="s$i"
			done >/dev/null
		) &
		pids+=($!)
	done
	(
		while [ "$(date +%s)" -lt $end ]; do
			ctl dump
			ctl get name=s1
		done >/dev/null 2>&1
	) &
	pids+=($!)
	wait "${pids[@]}"
	if flush_helpers; then
		pass "concurrent-new-del-dump"
	else
		fail "concurrent-new-del-dump" "helpers left: $(ctl dump)"
	fi
}

test_input
test_lifecycle
test_stress

exit $ret
