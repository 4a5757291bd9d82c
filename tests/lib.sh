# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for what runs inside scripts/boot (tests/vm/, tests/progs/,
# bench/), sourced.

ksft_skip=4
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTS_BIN=${TESTS_BIN:-$TESTS_DIR/../build/tests}
NETNS=()

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit $ksft_skip
}

checktool() {
	command -v "${1%% *}" >/dev/null 2>&1 || skip "$1 not available"
}

# like_pristine NAME WHAT CMD...: CMD prints what pristine 6.12 printed,
# tests/golden/NAME (recorded by scripts/golden); any difference fails the
# test, naming WHAT and showing the diff
like_pristine() {
	local name=$1 golden=$TESTS_DIR/golden/$1 what=$2 out

	shift 2
	[ -f "$golden" ] || skip "no golden output $name"
	out=$("$@")
	if ! diff -u "$golden" - <<<"$out" >/tmp/golden.diff; then
		cat /tmp/golden.diff
		fail "$what differs from pristine 6.12"
	fi
}

cleanup_netns() {
	local ns
	disown -a 2>/dev/null
	for ns in "${NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# Userspace helpers outlive the namespaces' rules only briefly: the
	# rules release them when the namespaces are gone.
	if command -v nfct >/dev/null && [ -n "$(nfct list helper 2>/dev/null)" ]; then
		# shellcheck disable=SC2016 # expanded by that shell
		busywait 10000 sh -c 'nfct flush helper 2>/dev/null; [ -z "$(nfct list helper 2>/dev/null)" ]'
	fi
}
trap cleanup_netns EXIT

# setup_pair A B: two namespaces joined by veth, 192.0.2.1/24 (A) and
# 192.0.2.2/24 (B), 2001:db8::1/64 and 2001:db8::2/64.
setup_pair() {
	ip netns add "$1" && ip netns add "$2" || return 1
	NETNS+=("$1" "$2")
	ip -n "$1" link add veth0 type veth peer name veth0 netns "$2" || return 1
	ip -n "$1" addr add 192.0.2.1/24 dev veth0
	ip -n "$2" addr add 192.0.2.2/24 dev veth0
	ip -n "$1" addr add 2001:db8::1/64 dev veth0 nodad
	ip -n "$2" addr add 2001:db8::2/64 dev veth0 nodad
	ip -n "$1" link set lo up
	ip -n "$2" link set lo up
	ip -n "$1" link set veth0 up
	ip -n "$2" link set veth0 up
}

# in_ns NS CMD...: CMD in namespace NS, or in the host's when NS is empty.
in_ns() {
	local ns=$1

	shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# busywait MS CMD...: retry CMD every 50 ms until it succeeds or MS pass.
busywait() {
	local left=$1
	shift
	while [ "$left" -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		left=$((left - 50))
	done
	return 1
}

# listens NS PORT: a tcp socket listens on PORT in NS (the host's if empty)
listens() {
	in_ns "$1" ss -ltn | grep -q ":$2 "
}

# ftp_server NS: vsftpd (anonymous, passive 40000-40010) in NS (the host's
# if empty) serving /tmp/ftproot/file; returns once it listens.
ftp_server() {
	mkdir -p /tmp/ftproot
	echo "hello through a userspace helper" >/tmp/ftproot/file
	in_ns "$1" vsftpd "$TESTS_DIR/conf/vsftpd.conf" >/dev/null 2>&1 &
	busywait 30000 listens "$1" 21
}

# conntrackd_start NS CONF: conntrackd in helper mode in NS (the host's if
# empty); returns once ready.
conntrackd_start() {
	rm -f /tmp/conntrackd.log /tmp/conntrackd.lock /tmp/conntrackd.sock
	in_ns "$1" conntrackd -C "$2" -d >/dev/null 2>&1 || return 1
	busywait 30000 grep -q 'initialization completed' /tmp/conntrackd.log
}

# firewall_ftp NS: drop any tcp that is neither ftp control nor related.
firewall_ftp() {
	ip netns exec "$1" iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
	ip netns exec "$1" iptables -A INPUT -p tcp --dport 21 -j ACCEPT &&
	ip netns exec "$1" iptables -A INPUT -p tcp -j DROP
}

# ftp_get NS: passive FTP download of the test file from 192.0.2.1.
ftp_get() {
	ip netns exec "$1" curl --disable-epsv -sS --connect-timeout 5 \
		--max-time "${2:-15}" ftp://192.0.2.1/file 2>&1
}

# nfqueue_fields NS QUEUE FIELD...: those fields of QUEUE's line in the
# /proc/net/netfilter/nfnetlink_queue of NS (the host's if empty): queue,
# portid, total, copy mode, copy range, dropped, user dropped, id
# sequence; nothing while nobody is bound to QUEUE
nfqueue_fields() {
	local ns=$1 q=$2

	shift 2
	# shellcheck disable=SC2016 # awk's own fields
	in_ns "$ns" awk -v q="$q" -v f="$*" '$1 == q {
		n = split(f, k, " ")
		for (i = 1; i <= n; i++)
			printf "%s%s", $k[i], (i < n ? " " : "\n")
	}' /proc/net/netfilter/nfnetlink_queue
}

# ftp_blocked CLI NS: a passive download from CLI logs in, and its data
# connection is dropped: curl times out (exit 28; a refused or failed
# login exits otherwise), NS (the host's if empty) has the control
# connection assured and no expectation.
ftp_blocked() {
	local out rc=0 ct

	in_ns "$2" conntrack -D -p tcp --dport 21 >/dev/null 2>&1
	out=$(ftp_get "$1" 8) || rc=$?
	[ $rc -eq 28 ] ||
		fail "want the data connection dropped (curl exit 28), got exit $rc: $out"
	ct=$(in_ns "$2" conntrack -L -p tcp --dport 21 2>/dev/null)
	grep -Eq 'dport=21 .*\[ASSURED\]' <<<"$ct" ||
		fail "no assured control connection: $ct"
	[ -z "$(in_ns "$2" conntrack -L expect 2>/dev/null)" ] ||
		fail "an expectation was made: $(in_ns "$2" conntrack -L expect)"
}

# ftp_through SRV CLI NS: vsftpd in SRV (the host's if empty), a passive
# download from CLI, with the userspace ftp helper running in NS (the
# host's if empty): the file arrives through the helper's expectation, and
# NS has the control connection confirmed, assured, with helper=ftp.
ftp_through() {
	local out ct ev evpid

	ftp_server "$1" || fail "vsftpd did not start"
	ev=$(mktemp)
	in_ns "$3" conntrack -E expect >"$ev" 2>&1 &
	evpid=$!
	sleep 0.2
	out=$(ftp_get "$2") || fail "transfer failed: $out"
	[ "$out" = "hello through a userspace helper" ] || fail "wrong content: $out"
	busywait 10000 grep -q NEW "$ev" || fail "no expectation event"
	kill "$evpid"
	wait "$evpid" 2>/dev/null
	grep -Eq '\[NEW\] [0-9]+ proto=6 src=192.0.2.2 dst=192.0.2.1 sport=0 dport=400(0[0-9]|10) .*class=0 helper=ftp' \
		"$ev" || fail "unexpected expectation: $(cat "$ev")"
	rm -f "$ev"
	ct=$(in_ns "$3" conntrack -L -p tcp --dport 21 2>/dev/null)
	grep -Eq 'src=192.0.2.2 dst=192.0.2.1 sport=[0-9]+ dport=21 .*\[ASSURED\].*helper=ftp' <<<"$ct" ||
		fail "control connection not confirmed with helper=ftp: $ct"
}
