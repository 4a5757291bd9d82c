# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals of the tests that source this file
#
# Sourced by the nf_cthelper_*.sh tests of userspace connection tracking
# helpers (nfnetlink_cthelper), from their own folder: the checks for the
# tools, ./nf_cthelper as helper daemon and raw netlink client, PASS and
# FAIL lines, the namespaces and the helpers the tests share.

source lib.sh

ret=0
HELPER=./nf_cthelper
# this run's files, removed by cleanup
TMPD=""
# namespaces, named by setup_ns
ns1=""
srv=""
cli=""
nsa=""
nsb=""
bsrv=""
bcli=""
bbr=""
# pid of the last listener started, of the other queue's program
LPID=""
OPID=""
# ctl runs in this namespace when set
CTLNS=""
# processes in the unprivileged user and network namespace
UPIDS=()
# how the flow helpers run a command on the server and the client side
SX=sx
CX=cx
# the limit of a namespace's helpers
MAXSYSCTL=net.netfilter.nfnl_cthelper_max

checktool "iptables --version" "run test without iptables"
checktool "conntrack --version" "run test without conntrack"
checktool "nft --version" "run test without nft"
checktool "socat -h" "run test without socat"
if [ ! -x "$HELPER" ]; then
	echo "SKIP: $HELPER not built"
	exit $ksft_skip
fi

TMPD=$(mktemp -d /tmp/nf_cthelper.XXXXXX) || exit 1
trap 'cleanup; rm -rf "$TMPD"' EXIT

cleanup()
{
	[ ${#UPIDS[@]} -gt 0 ] && kill -9 "${UPIDS[@]}" 2>/dev/null
	CTLNS=""
	cleanup_all_ns
	# rules in the namespaces held helpers: wait until they let go
	slowwait 10 flush_helpers
}

pass()
{
	echo "PASS: $1"
}

fail()
{
	echo "FAIL: $1: $2"
	ret=1
}

# ctl ARGS...: the raw netlink client, in $CTLNS when set
ctl()
{
	if [ -n "$CTLNS" ]; then
		ip netns exec "$CTLNS" "$HELPER" ctl "$@"
	else
		"$HELPER" ctl "$@"
	fi
}

flush_helpers()
{
	ctl del >/dev/null
	[ -z "$(ctl dump)" ]
}

# expect_err NAME ERRNO WHERE CTL-ARGS...: the request fails with ERRNO,
# the extended ack names the attribute WHERE says ("attr NFCTH_NAME",
# "missing NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM", as nf_cthelper prints
# it), and the helper table is unchanged.
expect_err()
{
	local name=$1 err=$2 where=$3 before after out
	shift 3

	before=$(ctl dump)
	out=$(ctl "$@")
	after=$(ctl dump)
	if [[ "$out" != "error $err "* ]]; then
		fail "$name" "got '$out', want errno $err"
	elif [[ "$out" != *" [$where]"* ]]; then
		fail "$name" "extack does not name $where: $out"
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

# expect_registered NAME PATTERN ARGS...: the request ARGS succeeds and the
# dump then matches PATTERN (grep -E); the helpers are flushed after
expect_registered()
{
	local name=$1 want=$2 out
	shift 2

	out=$(ctl "$@")
	if [ "$out" != ok ]; then
		fail "$name" "$out"
	elif ! ctl dump | grep -Eq "$want"; then
		fail "$name" "dump: $(ctl dump)"
	else
		pass "$name"
	fi
	flush_helpers
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

# in the server and the client namespaces
sx()
{
	ip netns exec "$srv" "$@"
}

cx()
{
	ip netns exec "$cli" "$@"
}

# has_expect PATTERN [ARGS]: an expectation on the server matches PATTERN
has_expect()
{
	local pattern=$1

	shift
	"$SX" conntrack -L expect "$@" 2>/dev/null | grep -q "$pattern"
}

# listens PORT: a tcp socket listens on PORT on the server
listens()
{
	"$SX" ss -ltn | grep -q ":$1 "
}

queued()
{
	grep -c '^packet' "$HOUT"
}

# the client's control connection is in the server's table with its helper
flow_helped()
{
	sx conntrack -L -p tcp 2>/dev/null | grep -q "$FLOW .*helper=toy"
}

# queue_unbound NUM: nobody is bound to queue NUM in $srv any more
queue_unbound()
{
	local f=/proc/net/netfilter/nfnetlink_queue

	# shellcheck disable=SC2016 # awk's own fields
	[ -z "$(sx awk -v q="$1" '$1 == q' "$f")" ]
}

# Server $srv (10.0.1.1, dead:1::1) and client $cli (10.0.1.2, dead:1::2).
# On the server, tcp/2121 gets the "toy" helper and udp/5555 "toy-udp";
# the input policy drops any other new tcp or udp flow but tcp/2123; echo
# servers listen on tcp 2121, 2123 and 3000-3010, a sink on udp 5555.
# Each echo server forks and execs cat for a connection; once the client
# has sent its line and shut its side, socat gives cat half a second to
# answer by default, too little on a debug kernel under emulation: -t 10.
setup_datapath()
{
	local opts=ipv6only=0,reuseaddr,fork,backlog=32 port

	setup_ns srv cli || return 1
	ip link add veth0 netns "$srv" type veth peer name veth0 netns "$cli" ||
		return 1
	ip -net "$srv" addr add 10.0.1.1/24 dev veth0
	ip -net "$srv" addr add dead:1::1/64 dev veth0 nodad
	ip -net "$cli" addr add 10.0.1.2/24 dev veth0
	ip -net "$cli" addr add dead:1::2/64 dev veth0 nodad
	ip -net "$srv" link set veth0 up
	ip -net "$cli" link set veth0 up

	sx nft -f - <<EOF || return 1
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		tcp dport { 2121, 2123 } accept
		udp dport 5555 accept
		meta l4proto { tcp, udp } drop
	}
}
EOF
	for port in 2121 2123 $(seq 3000 3011); do
		sx socat -t 10 "TCP6-LISTEN:$port,$opts" EXEC:cat \
			2>/dev/null &
	done
	UDPSINK=$TMPD/udp
	sx socat -u UDP-RECV:5555 "OPEN:$UDPSINK,creat,trunc" 2>/dev/null &
	slowwait 30 listens 3011 &&
	slowwait 30 sh -c "ip netns exec $srv ss -lun | grep -q ':5555 '"
}

# datapath_helpers L3: in $srv, which ctl acts on from now, toy-udp (udp
# over IPv4, queue 1) and toy (tcp over L3, queue 0, two classes)
datapath_helpers()
{
	CTLNS=$srv
	ctl new name=toy-udp tuple=2:17 policy=1:u/8/30 privlen=32 queue=1 \
		status=1 >/dev/null
	ctl new name=toy tuple="$1":6 policy=2:toy/8/30:toy-b/8/30 \
		privlen=32 status=1 >/dev/null
}

# attach_xt4: toy on tcp/2121 and toy-udp on udp/5555, IPv4 only
attach_xt4()
{
	sx iptables -t raw -A PREROUTING -p tcp --dport 2121 \
		-j CT --helper toy &&
	sx iptables -t raw -A PREROUTING -p udp --dport 5555 \
		-j CT --helper toy-udp
}

attach_xt()
{
	attach_xt4 &&
	sx ip6tables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper toy
}

# start_helper ARGS...: a helper daemon in $srv; its output goes to $HOUT
start_helper()
{
	HOUT=$TMPD/helper.$RANDOM
	# not through sx: $! must be the daemon itself
	ip netns exec "$srv" "$HELPER" helper "$@" >"$HOUT" 2>&1 &
	HPID=$!
	slowwait 30 grep -q '^ready' "$HOUT"
}

stop_helper()
{
	kill -9 "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
}

# answered N: the daemon ($HOUT) printed more than N packets with data and
# a packet after the last of them: its verdict on that one went out (it
# answers a packet before it reads the next)
answered()
{
	awk -v n="$1" '/^packet.* data=[1-9]/ { d++; after = 0; next }
		       /^packet/ { after++ }
		       END { exit !(d > n && after) }' "$HOUT"
}

# control ADDR LINES...: a control connection to ADDR port $CPORT (2121
# unless set) that sends the lines and stays open for a second
control()
{
	local addr=$1 port=${CPORT:-2121}

	[[ "$addr" == *:* ]] && addr="[$addr]"
	shift
	(printf '%s\n' "$@"; sleep 1) |
		"$CX" socat -t 3 - "TCP:$addr:$port,connect-timeout=10" \
			>/dev/null 2>&1
}

# expect_lets_in NAME PORT [ADDR [LOG]]: a control connection (to ADDR,
# 10.0.1.1 unless given, port $CPORT) asks the helper for an expectation
# to PORT, which then lets a new flow in; LOG is the daemon's ($HOUT)
expect_lets_in()
{
	local name=$1 port=$2 addr=${3:-10.0.1.1}

	control "$addr" "EXPECT $port" &
	expect_connects "$name" "$addr" "$port" "${4:-$HOUT}"
	wait %%
}

# expect_connects NAME ADDR PORT LOG: an expectation for PORT appears and
# a new flow to ADDR:PORT gets through; on failure, says which step failed
# and shows the end of the daemon's LOG
expect_connects()
{
	local name=$1 addr=$2 port=$3 log=$4

	if ! slowwait 30 has_expect "dport=$port"; then
		fail "$name" "no expectation: $(tail -n 3 "$log")"
	elif ! connects "$addr" "$port"; then
		fail "$name" "expectation, no flow: $(tail -n 3 "$log")"
	else
		pass "$name"
	fi
}

# connects ADDR PORT: a new tcp flow from the client reaches ADDR:PORT and
# the echo server answers; the answer may take a while on a slow kernel (a
# fork and an exec), and waiting for it costs nothing when it comes
connects()
{
	local addr=$1

	[[ "$addr" == *:* ]] && addr="[$addr]"
	echo ping |
		"$CX" socat -t 10 - "TCP:$addr:$2,connect-timeout=8" \
			2>/dev/null |
		grep -q ping
}

expectations()
{
	sx conntrack -L expect 2>/dev/null | grep -c "$1"
}

# udp_burst N: N datagrams of one flow from the client to udp/5555
udp_burst()
{
	cx bash -c "exec 3>/dev/udp/10.0.1.1/5555
		for i in \$(seq $1); do
			printf 'x%05d\n' \$i >&3
		done" 2>/dev/null
}

queue_stat()
{
	# /proc/net/netfilter/nfnetlink_queue: queue portid total copy_mode
	# copy_range dropped user_dropped last_id 1
	# shellcheck disable=SC2016 # awk's own fields
	sx awk -v q="$1" -v f="$2" '$1 == q { print $f }' \
		/proc/net/netfilter/nfnetlink_queue
}

# queue_stat_ge QUEUE FIELD N: that field of the queue is at least N
queue_stat_ge()
{
	[ "$(queue_stat "$1" "$2")" -ge "$3" ]
}

# stat NAME TUPLE FIELD: one counter of a helper
stat()
{
	ctl stats name="$1" tuple="$2" | sed -n "s/.* $3=\([0-9]*\).*/\1/p"
}

# stats_moved NAME TUPLE FIELD BEFORE: FIELD is now above BEFORE
stats_moved()
{
	[ "$(stat "$1" "$2" "$3")" -gt "$4" ]
}

# all_answered NAME TUPLE DIFF: queued - verdicts is DIFF again
all_answered()
{
	local q v

	q=$(stat "$1" "$2" queued)
	v=$(stat "$1" "$2" verdicts)
	[ $((q - v)) -eq "$3" ]
}

# short CMD...: a one-line command on a new control connection
short()
{
	printf '%s\n' "$@" |
		cx socat -t 0.3 - TCP:10.0.1.1:2121,connect-timeout=10 \
			>/dev/null 2>&1
}

# conntrack -C would also count expired entries not yet collected
ct_count()
{
	sx conntrack -L 2>/dev/null | grep -c .
}

exp_count()
{
	sx conntrack -L expect 2>/dev/null | grep -c .
}

# drained COUNTER BASE: COUNTER is down to BASE
drained()
{
	[ "$("$1")" -le "$2" ]
}

# long_lived FD: a control connection from the client, fed through a fifo
# opened on FD and greeted once; its socat joins clients
long_lived()
{
	local fifo=$TMPD/ll$1

	rm -f "$fifo"
	mkfifo "$fifo"
	# not through cx: $! must be socat itself
	ip netns exec "$cli" socat -u -t 60 "PIPE:$fifo" \
		TCP:10.0.1.1:2121,connect-timeout=10 >/dev/null 2>&1 &
	clients+=($!)
	eval "exec $1>$fifo"
	echo hello >&"$1"
}

# end_long_lived FD...: close the fifos and end the clients, which
# processes started since hold the fifos open too
end_long_lived()
{
	local fd

	for fd in "$@"; do
		eval "exec $fd>&-"
		rm -f "$TMPD/ll$fd"
	done
	kill "${clients[@]}" 2>/dev/null
	wait "${clients[@]}" 2>/dev/null
}

# ctl_in NS ARGS...: ctl in namespace NS (the host's when empty)
ctl_in()
{
	local CTLNS=$1

	shift
	ctl "$@"
}

a_has_toy()
{
	ctl_in "$nsa" dump | grep -q '^helper toy '
}

# other_refused NAME CMD...: CMD, which names $nsa's helper toy, fails in
# $nsb while $nsa still has that helper
other_refused()
{
	local name=$1

	shift
	if ! a_has_toy; then
		fail "$name" "a's helper is gone"
	elif ip netns exec "$nsb" "$@" >/dev/null 2>&1; then
		fail "$name" "b used a's helper: $*"
	else
		pass "$name"
	fi
}

# ux CMD...: CMD as an unprivileged user, root in the user and network
# namespaces that user made with unshare -Urn (held by ${UPIDS[0]})
ux()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		nsenter -t "${UPIDS[0]}" -U -n --preserve-credentials "$@"
}

# nat_2122 add|delete: tcp/2122 on the server is translated to the echo
# server on 2121 and gets the toy helper
nat_2122()
{
	if [ "$1" = add ]; then
		sx nft -f - <<EOF || return 1
table ip cthelper-nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 2122 dnat to 10.0.1.1:2121
	}
}
EOF
		sx iptables -t raw -A PREROUTING -p tcp --dport 2122 \
			-j CT --helper toy
	else
		sx iptables -t raw -D PREROUTING -p tcp --dport 2122 \
			-j CT --helper toy
		sx nft delete table ip cthelper-nat
	fi
}

# udp_from SPORT PORT TEXT: one datagram from the client's SPORT
udp_from()
{
	printf '%s\n' "$3" |
		cx socat -u - "UDP:10.0.1.1:$2,sourceport=$1" 2>/dev/null
}

# seen_at_least N FILE: a daemon's output shows N packets
seen_at_least()
{
	[ "$(grep -c '^packet' "$2")" -ge "$1" ]
}

# listener Q LOG: a daemon that accepts what queue Q gets, in $srv; its
# pid is in $LPID
listener()
{
	ip netns exec "$srv" "$HELPER" helper -n none -q "$1" >"$2" 2>&1 &
	LPID=$!
	slowwait 30 grep -q '^ready' "$2"
}

# gso_held FILE FLAG SPORT N TEXT: a daemon that holds its packets until
# FILE exists, then answers them (FLAG: -R last first, -T from two threads
# at once); a first datagram from SPORT that leaves as N segments starting
# with TEXT, all of them queued; then FILE is created
gso_held()
{
	rm -f "$1"
	start_helper -n toy-udp -q 1 -p udp -H "$1" "$2"
	cx "$HELPER" gso 10.0.1.1 5555 "$3" 200 "$4" "$5"
	slowwait 10 seen_at_least "$4" "$HOUT"
	touch "$1"
}

# own_counted Q V: since the toy helper's counters read Q and V, it counted
# as queued and as answered exactly the packets its daemon ($HOUT) saw
own_counted()
{
	local seen

	seen=$(queued)
	[ $(($(stat toy 2:6 queued) - $1)) -eq "$seen" ] &&
	[ $(($(stat toy 2:6 verdicts) - $2)) -eq "$seen" ]
}

# bx, bcx: in the bridge's and the bridged client's namespaces
bx()
{
	ip netns exec "$bbr" "$@"
}

bcx()
{
	ip netns exec "$bcli" "$@"
}

# sysctl_in NS [ARGS...]: net.netfilter.nfnl_cthelper_max in NS (the
# host's when empty): prints it, or sets it to ARGS
sysctl_in()
{
	local ns=$1
	shift

	if [ $# -eq 0 ]; then
		${ns:+ip netns exec "$ns"} sysctl -n "$MAXSYSCTL"
	else
		${ns:+ip netns exec "$ns"} sysctl -q -w "$MAXSYSCTL=$1" \
			2>/dev/null
	fi
}

# One namespace at a high limit costs the others nothing: registrations
# in another namespace take as long as before; flushing and tearing down
# the full namespace take a constant number of grace periods, and the
# host's requests are answered meanwhile.
# bulk_best NS: the shortest of three runs of 1000 NEW into NS (each
# flushed after), in microseconds; or the first error
bulk_best()
{
	local i out best=

	for i in 1 2 3; do
		out=$(ip netns exec "$1" "$HELPER" bulk c 1000)
		ctl_in "$1" del >/dev/null
		if [[ ! "$out" =~ ^ok\ 1000\ [0-9]+$ ]]; then
			echo "$out"
			return
		fi
		out=${out#ok 1000 }
		if [ -z "$best" ] || [ "$out" -lt "$best" ]; then
			best=$out
		fi
	done
	echo "$best"
}

# other_queue NS LOG: another program on queue 3 in NS (its pid in OPID),
# which holds what it gets until LOG.release exists, and ten datagrams
# from the client to udp/7777 for it
other_queue()
{
	ip netns exec "$1" "$HELPER" helper -n other -q 3 -p udp -L 10 \
		-H "$2.release" >"$2" 2>&1 &
	OPID=$!
	slowwait 30 grep -q '^ready' "$2"
	# shellcheck disable=SC2016 # expanded by that bash
	cx bash -c 'exec 3>/dev/udp/10.0.1.1/7777
		for i in $(seq 10); do echo "o$i" >&3; done' 2>/dev/null
}

# other_kept NAME: the other program's queue 3 still holds its 10 packets
other_kept()
{
	local n

	n=$(queue_stat 3 3)
	if [ "$n" = 10 ]; then
		pass "$1"
	else
		fail "$1" "queue 3 holds ${n:-nothing}"
	fi
}

# A toy helper definition that conntrack-tools could have sent, and
# pieces of one.
TOY=(name=toy tuple=2:6 policy=1:toy/8/30 privlen=32)
T="tuple=2:6"
P="policy=1:a/1/10"
D="privlen=0"

# the client's control connection as conntrack -L prints it
FLOW='src=10.0.1.2 dst=10.0.1.1 sport=[0-9]* dport=2121'
