#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: what nfnetlink_cthelper's control plane costs, per network
# namespace, on the running kernel:
#   - NEW requests/s into a fresh namespace: the first helper (and, as a
#     control, one more from a second process), helpers 1 to 64 under the
#     default limit (net.netfilter.nfnl_cthelper_max = 64), then, with the
#     initial namespace's limit raised to LIMIT, helpers 1 to 101 and the
#     last 100 before LIMIT; each request timed by bench/cthnew.c,
#     and the same runs timed by "nf_cthelper bulk" in other namespaces;
#     the NEW past each limit must be refused with ENOSPC;
#   - the kernel memory a helper takes (SUnreclaim and Percpu);
#   - the wall time of a flush (nf_cthelper ctl del) of 0, 64 and LIMIT
#     helpers;
#   - the teardown of a namespace holding LIMIT helpers and an iptables raw
#     "CT --helper" rule that holds one of them: from killing its last
#     process until the kernel has freed it (the namespace count of its
#     user namespace drops, bench/nsgone.c), against an empty one;
#   - the host's own requests (nfct list helper, nf_cthelper ctl new and
#     ctl del of one helper) in the initial namespace, each in a loop
#     before and while SAMPLED more flushes and teardowns at LIMIT run.
# ROUNDS rounds; prints the table and writes it to $VM_OUT/control-plane.md,
# every figure to $VM_OUT/control-plane.txt.
#
# "control-plane.sh teardown N SYNC" is the part that runs in a user
# namespace of its own (see teardown below).
. "$(dirname "$0")/../tests/lib.sh"
HELPER=$TESTS_BIN/nf_cthelper
NSGONE=$TESTS_BIN/nsgone
CTHNEW=$TESTS_BIN/cthnew
MAXSYSCTL=net.netfilter.nfnl_cthelper_max

kb() {
	awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo
}

# teardown N SYNC, in a new user namespace (unshare -Ur) that may hold one
# network namespace: a process in a network namespace of its own with N
# helpers and, when N > 0, a raw CT rule holding the first; SYNC/armed
# once it is ready, then nsgone kills it when SYNC/go appears.  Prints
# nsgone's lines, "rule yes|no", and SUnreclaim before and with it.
teardown() {
	local n=$1 sync=$2 pid base full left=600000

	echo 1 >/proc/sys/user/max_net_namespaces || return 1
	base=$(kb SUnreclaim)
	# shellcheck disable=SC2016 # expanded by that bash
	unshare -n bash -c '
		ip link set lo up
		if [ "$1" -gt 0 ]; then
			"$2" bulk t "$1" >"$3/bulk"
			if iptables -t raw -A PREROUTING -p tcp --dport 21 \
				-j CT --helper t0 2>"$3/iptables"; then
				echo yes >"$3/rule"
			else
				echo no >"$3/rule"
			fi
		fi
		touch "$3/ready"
		exec sleep 3600' teardown "$n" "$HELPER" "$sync" &
	pid=$!
	busywait 600000 test -e "$sync/ready" || return 1
	full=$(kb SUnreclaim)
	touch "$sync/armed"
	while [ ! -e "$sync/go" ] && [ $left -gt 0 ]; do
		sleep 0.05
		left=$((left - 50))
	done
	# "freed": back below a tenth of what the namespace had added
	"$NSGONE" "$pid" $((base + (full - base) / 10)) || return 1
	wait "$pid" 2>/dev/null
	echo "rule $(cat "$sync/rule" 2>/dev/null || echo -)"
	echo "base $base"
	echo "full $full"
}
if [ "${1:-}" = teardown ]; then
	trap - EXIT
	teardown "$2" "$3"
	exit
fi

ROUNDS=${ROUNDS:-5}
LIMIT=${LIMIT:-10000}
FIRST=${FIRST:-5}	# fresh namespaces per round timing their first NEW
IDLE=${IDLE:-3}		# seconds the host is sampled before each event
SAMPLED=${SAMPLED:-3}	# flushes and teardowns a round with the host sampled
out=${VM_OUT:-/tmp}/control-plane.txt
work=/tmp/control-plane
: >"$out"
rm -rf "$work"
mkdir -p "$work"

r=0
rec() {
	echo "$r $*" >>"$out"
}

# settle: until every network namespace but the initial one is freed
# (their count in the initial user namespace is 0), so that no cleanup of
# an earlier step runs during the next.
settle() {
	local f=/proc/sys/user/max_net_namespaces old

	old=$(cat $f)
	echo 1 >$f
	busywait 60000 unshare -n true 2>/dev/null || echo "# settle: timed out"
	echo "$old" >$f
	sleep 0.5
}

# bulk NS PREFIX N: NEW N helpers in NS; prints the microseconds, or the
# error ("error ERRNO at I")
bulk() {
	local res

	res=$(ip netns exec "$1" "$HELPER" bulk "$2" "$3")
	case $res in
	"ok $3 "*) echo "${res##* }" ;;
	*) echo "$res"; return 1 ;;
	esac
}

# cthnew NS PREFIX N: the same with cthnew; prints "TOTAL FIRST MEDIAN MAX"
# (microseconds)
cthnew() {
	local res

	res=$(ip netns exec "$1" "$CTHNEW" "$2" "$3")
	case $res in
	"ok $3 "*) echo "${res#ok "$3" }" ;;
	*) echo "$res"; return 1 ;;
	esac
}

# refused NS: one NEW more is refused with ENOSPC (28)
refused() {
	[ "$(ip netns exec "$1" "$HELPER" bulk z 1)" = "error 28 at 0" ] &&
		echo yes || echo no
}

# timed_in NS CMD...: CMD in NS; prints "START END STATUS OUTPUT", START
# and END in microseconds since the epoch, around CMD alone
timed_in() {
	local ns=$1

	shift
	# shellcheck disable=SC2016 # expanded by that bash
	ip netns exec "$ns" bash -c 't0=$EPOCHREALTIME; o=$("$@" 2>&1); rc=$?
		t1=$EPOCHREALTIME; echo "${t0/./} ${t1/./} $rc $o"' timed "$@"
}

# The host's requests, each in a loop of its own until FILE.stop exists:
# "OP START END STATUS" lines in FILE.OP, microseconds since the epoch.
sampler_pids=()
sample() {
	local f=$1 op=$2 t0 t1 rc

	shift 2
	while [ ! -e "$f.stop" ]; do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1
		rc=$?
		t1=$EPOCHREALTIME
		echo "$op ${t0/./} ${t1/./} $rc"
	done >>"$f.$op"
}
sample_newdel() {
	local f=$1 t0 t1 t2 rc1 rc2

	while [ ! -e "$f.stop" ]; do
		t0=$EPOCHREALTIME
		"$HELPER" ctl new name=h tuple=2:6 policy=1:a/1/10 privlen=0 >/dev/null 2>&1
		rc1=$?
		t1=$EPOCHREALTIME
		"$HELPER" ctl del name=h >/dev/null 2>&1
		rc2=$?
		t2=$EPOCHREALTIME
		echo "new ${t0/./} ${t1/./} $rc1"
		echo "del ${t1/./} ${t2/./} $rc2"
	done >>"$f.newdel"
}
sampler_start() {
	rm -f "$1".*
	sample "$1" list nfct list helper &
	sampler_pids=($!)
	sample_newdel "$1" &
	sampler_pids+=($!)
	sleep "$IDLE"
}
sampler_stop() {
	sleep 0.5
	touch "$1.stop"
	wait "${sampler_pids[@]}"
	sampler_pids=()
}

# host_stats FILE TAG WS WE: how long each of the host's requests took,
# as "host_OP_TAG USEC" for those that overlapped the window WS-WE (and
# "host_OP_TAG_fail 1" when one failed), "host_OP_idle USEC" for those that
# ended before it
host_stats() {
	cat "$1".list "$1".newdel | awk -v r="$r" -v tag="$2" -v ws="$3" -v we="$4" '
		{ t = $3 - $2 }
		$3 <= ws { print r, "host_" $1 "_idle", t }
		$2 < we && $3 > ws {
			print r, "host_" $1 "_" tag, t
			if ($4 != 0) print r, "host_" $1 "_" tag "_fail", 1
		}' >>"$out"
}

# teardown_run N TAG [sampled]: the teardown of a namespace with N helpers
teardown_run() {
	local n=$1 tag=$2 sync=$work/td res

	rm -rf "$sync"
	mkdir -p "$sync"
	unshare -Ur "$0" teardown "$n" "$sync" >"$sync/out" 2>&1 &
	local tpid=$!
	busywait 600000 test -e "$sync/armed" || { cat "$sync/out"; fail "teardown setup"; }
	[ "$n" -eq 0 ] || grep -q "^ok $n " "$sync/bulk" ||
		fail "teardown: filling: $(cat "$sync/bulk")"
	[ -n "${3:-}" ] && sampler_start "$work/s"
	touch "$sync/go"
	wait "$tpid" || { cat "$sync/out"; fail "teardown $tag"; }
	res=$sync/out
	[ -n "${3:-}" ] && sampler_stop "$work/s"
	rec "td_${tag}_us $(awk '$1 == "gone" {print $2}' "$res")"
	rec "td_${tag}_slab_us $(awk '$1 == "slab" {print $2}' "$res")"
	rec "td_${tag}_rule $(awk '$1 == "rule" {print $2}' "$res")"
	[ -s "$sync/iptables" ] && rec "td_${tag}_iptables_error $(head -n 1 "$sync/iptables")"
	[ -n "${3:-}" ] && host_stats "$work/s" td \
		"$(awk '$1 == "killed" {print $2}' "$res")" \
		"$(awk '$1 == "end" {print $2}' "$res")"
	settle
}

for t in "$HELPER" "$NSGONE" "$CTHNEW"; do
	[ -x "$t" ] || skip "build $t first"
done
checktool nfct
def=$(sysctl -n $MAXSYSCTL) || skip "no $MAXSYSCTL"
# Under TCG the TSC calibration fails now and then, and the kernel falls
# back to a jiffies clock: every time here would be a multiple of the tick.
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
case $cs in
*jiffies*) skip "clocksource $cs: times would be multiples of the tick" ;;
esac
echo "# kernel $(uname -r), $(nproc) CPUs, clocksource $cs, $ROUNDS rounds, raised limit $LIMIT"

# firsts PREFIX TOOL KEY SUFFIX: in FIRST fresh namespaces PREFIX1...,
# a first and a second NEW with TOOL (cthnew or bulk), recorded as
# KEY_first SUFFIX and KEY_second SUFFIX
firsts() {
	local i

	for i in $(seq "$FIRST"); do
		ip netns add "$1$i" && NETNS+=("$1$i")
		rec "${3}_first$4 $("$2" "$1$i" f 1)"
		rec "${3}_second$4 $("$2" "$1$i" g 1)"
	done
}

for r in $(seq "$ROUNDS"); do
	echo "# round $r"
	settle

	# (1) NEW under the default limit, in fresh namespaces: with cthnew
	# (cpf*, cpa), then with nf_cthelper bulk (cpq*, cpc)
	sysctl -qw "$MAXSYSCTL=$def"
	firsts cpf cthnew new ""
	ip netns add cpa && NETNS+=(cpa)
	rec "limit_default $(ip netns exec cpa sysctl -n $MAXSYSCTL)"
	rec "new_first $(cthnew cpa a 1)"
	rec "new_1_to_$def $(cthnew cpa b $((def - 1)))"
	rec "refused_default $(refused cpa)"
	read -r t0 t1 rc o < <(timed_in cpa "$HELPER" ctl del)
	[ "$rc" = 0 ] || fail "flush of $def: $o"
	rec "flush_${def}_us $((t1 - t0))"
	read -r t0 t1 rc o < <(timed_in cpa "$HELPER" ctl del)
	[ "$rc" = 0 ] || fail "flush of nothing: $o"
	rec "flush_0_us $((t1 - t0))"
	firsts cpq bulk bulk _us
	ip netns add cpc && NETNS+=(cpc)
	rec "bulk_first_us $(bulk cpc a 1)"
	rec "bulk_1_to_${def}_us $(bulk cpc b $((def - 1)))"
	for i in $(seq "$FIRST"); do
		ip netns del "cpf$i"
		ip netns del "cpq$i"
	done
	ip netns del cpa
	ip netns del cpc
	settle

	# (2) NEW up to a raised limit, set from the initial namespace: with
	# nf_cthelper bulk (cpd), then with cthnew (cpb, kept for the flushes)
	sysctl -qw "$MAXSYSCTL=$LIMIT" || fail "cannot raise $MAXSYSCTL to $LIMIT"
	ip netns add cpd && NETNS+=(cpd)
	s0=$(kb SUnreclaim)
	p0=$(kb Percpu)
	rec "bulk_first_us $(bulk cpd a 1)"
	rec "bulk_1_to_101_us $(bulk cpd b 100)"
	bulk cpd c $((LIMIT - 201)) >/dev/null || fail "filling cpd"
	rec "bulk_last100_us $(bulk cpd d 100)"
	rec "mem_slab_kb $(($(kb SUnreclaim) - s0))"
	rec "mem_percpu_kb $(($(kb Percpu) - p0))"
	ip netns exec cpd "$HELPER" ctl del >/dev/null
	ip netns del cpd
	settle
	ip netns add cpb && NETNS+=(cpb)
	rec "limit_raised $(ip netns exec cpb sysctl -n $MAXSYSCTL)"
	rec "new_first $(cthnew cpb a 1)"
	rec "new_1_to_101 $(cthnew cpb b 100)"
	cthnew cpb c $((LIMIT - 201)) >/dev/null || fail "filling cpb"
	rec "new_last100 $(cthnew cpb d 100)"
	rec "refused_raised $(refused cpb)"
	[ "$(ip netns exec cpb "$HELPER" ctl dump | grep -c '^helper ')" = "$LIMIT" ] ||
		fail "cpb does not hold $LIMIT helpers"

	# (3) flush at the limit, alone, then with the host sampled
	read -r t0 t1 rc o < <(timed_in cpb "$HELPER" ctl del)
	[ "$rc" = 0 ] || fail "flush of $LIMIT: $o"
	rec "flush_alone_us $((t1 - t0))"
	[ -z "$(ip netns exec cpb "$HELPER" ctl dump)" ] || fail "flush left helpers"
	for i in $(seq "$SAMPLED"); do
		bulk cpb "g$i-" "$LIMIT" >/dev/null || fail "refilling cpb"
		sampler_start "$work/s"
		read -r t0 t1 rc o < <(timed_in cpb "$HELPER" ctl del)
		sampler_stop "$work/s"
		[ "$rc" = 0 ] || fail "flush of $LIMIT, sampled: $o"
		rec "flush_sampled_us $((t1 - t0))"
		host_stats "$work/s" flush "$t0" "$t1"
	done
	ip netns del cpb
	settle

	# (4) teardown: empty, at the limit alone, at the limit with the host
	# sampled
	teardown_run 0 empty
	teardown_run "$LIMIT" alone
	for i in $(seq "$SAMPLED"); do
		teardown_run "$LIMIT" sampled sampled
	done
done
sysctl -qw "$MAXSYSCTL=$def"

# The table: medians (min-max) over every measurement; for the host's
# requests, median and slowest.
{
	echo "Control plane of nfnetlink_cthelper, kernel $(uname -r), $(nproc) CPU(s) in the guest, clocksource $cs, $ROUNDS rounds; medians, in brackets min-max."
	echo
	awk -v limit="$LIMIT" -v def="$def" -v first="$FIRST" -v idle="$IDLE" '
	function add(k, x) { v[k, ++n[k]] = x }
	{ k = $2; s = $0; sub(/^[^ ]+ [^ ]+ /, "", s) }
	# cthnew: "TOTAL FIRST MEDIAN MAX", or its error
	k ~ /^new_/ && NF == 6 && $3 ~ /^[0-9]+$/ {
		add(k "_total", $3); add(k "_first", $4)
		add(k "_med", $5); add(k "_max", $6)
		next
	}
	k ~ /^new_/ { add(k "_total", s); add(k "_first", s); next }
	{ add(k, s) }
	function sorted(k,   i, j, t) {
		for (i = 2; i <= n[k]; i++)
			for (j = i; j > 1 && v[k, j - 1] + 0 > v[k, j] + 0; j--) {
				t = v[k, j]; v[k, j] = v[k, j - 1]; v[k, j - 1] = t
			}
	}
	function med(k) { sorted(k); return n[k] ? v[k, int((n[k] + 1) / 2)] : "" }
	function lo(k) { sorted(k); return v[k, 1] }
	function hi(k) { sorted(k); return v[k, n[k]] }
	function allnum(k,   i) {
		if (!n[k]) return 0
		for (i = 1; i <= n[k]; i++) if (v[k, i] !~ /^[0-9]+$/) return 0
		return 1
	}
	function all(k, want,   i) {
		for (i = 1; i <= n[k]; i++) if (v[k, i] != want) return 0
		return n[k] > 0
	}
	function ms(us) { return sprintf("%.1f", us / 1000) }
	# one request: K (microseconds) as requests/s
	function one(k) {
		if (!allnum(k)) return "failed: " v[k, 1]
		return sprintf("%.0f/s, %.0f us (%.0f-%.0f us)",
			1e6 / med(k), med(k), lo(k), hi(k))
	}
	# NEW of helpers R with cthnew, COUNT requests a round, and the same
	# with nf_cthelper bulk
	function rate(r, count,   k, b) {
		k = "new_" r
		if (!allnum(k "_total")) return "failed: " v[k "_total", 1]
		b = "bulk_" r "_us"
		return sprintf("%.0f/s, median %.0f us, slowest %.0f us (rounds: %.0f-%.0f/s); nf_cthelper bulk: %s",
			count * 1e6 / med(k "_total"), med(k "_med"), hi(k "_max"),
			count * 1e6 / hi(k "_total"), count * 1e6 / lo(k "_total"),
			allnum(b) ? sprintf("%.0f/s", count * 1e6 / med(b)) : "failed: " v[b, 1])
	}
	function span(k) {
		if (!allnum(k)) return "failed: " v[k, 1]
		return sprintf("%s ms (%s-%s)", ms(med(k)), ms(lo(k)), ms(hi(k)))
	}
	function host1(k) {
		if (!n[k]) return "none"
		return sprintf("%s / %s ms (%d)", ms(med(k)), ms(hi(k)), n[k])
	}
	# the smallest value at or above a fraction P of them
	function pct(k, p,   i) {
		sorted(k)
		i = int(n[k] * p)
		if (i < n[k] * p) i++
		return v[k, i < 1 ? 1 : i]
	}
	function host(o,   k) {
		k = "host_" o "_idle"
		if (!n[k]) return "no samples"
		return sprintf("idle %s / p99 %s / %s ms (%d); flush %s; teardown %s",
			ms(med(k)), ms(pct(k, 0.99)), ms(hi(k)), n[k],
			host1("host_" o "_flush"), host1("host_" o "_td"))
	}
	END {
		fails = 0
		split("list new del", ops, " ")
		for (j = 1; j <= 3; j++)
			fails += n["host_" ops[j] "_flush_fail"] + n["host_" ops[j] "_td_fail"]
		rule = all("td_alone_rule", "yes") && all("td_sampled_rule", "yes")
		print "| measure | value | what it means |"
		print "|---|---|---|"
		printf "| NEW, first helper of a fresh namespace (0 -> 1) | %s; nf_cthelper bulk: %s | one request into a namespace that never had a helper (%d namespaces, %d a round), timed by bench/cthnew.c from sending to the ack after a GET on the same socket; the same request timed by `nf_cthelper bulk f 1` (its own loop, in other fresh namespaces) |\n",
			one("new_first_first"), one("bulk_first_us"), n["new_first_first"], first + 2
		printf "| NEW, the second helper (1 -> 2), control | %s; nf_cthelper bulk: %s | the same from a second process into the same namespaces, now holding one helper: the row above minus this one is what a fresh namespace adds; both are the first NEW of their process, which costs more than the next ones whatever the namespace (see the median below) |\n",
			one("new_second_first"), one("bulk_second_us")
		printf "| NEW, helpers 1 -> %d (default limit %d) | %s | the %d requests after the first, one at a time, up to the default limit: requests/s from the sum of their times, the median and slowest request, over %d rounds; nf_cthelper bulk: the same %d requests timed around its loop, in another namespace |\n",
			def, def, rate("1_to_" def, def - 1), def - 1, n["new_1_to_" def "_total"], def - 1
		printf "| NEW past the default limit | %s | request number %d, refused with ENOSPC (errno 28) |\n",
			all("refused_default", "yes") ? "refused in every round" : "NOT always refused", def + 1
		printf "| NEW, helpers 1 -> 101 (limit %d) | %s | 100 requests into a namespace holding 1 to 100 helpers; its limit: `sysctl -w net.netfilter.nfnl_cthelper_max=%d` in the initial namespace before the namespace was made, which starts with that value (read in it: %s) |\n",
			limit, rate("1_to_101", 100), limit, med("limit_raised")
		printf "| NEW, helpers %d -> %d (limit %d) | %s | the last 100 requests before that limit, into a namespace holding %d to %d helpers (64 name buckets, about %d helpers each) |\n",
			limit - 100, limit, limit, rate("last100", 100), limit - 100, limit - 1, limit / 64
		printf "| NEW past the raised limit | %s | request number %d, refused with ENOSPC |\n",
			all("refused_raised", "yes") ? "refused in every round" : "NOT always refused", limit + 1
		printf "| kernel memory per helper | %.0f B slab, %.0f B per-CPU | growth of SUnreclaim (median) and Percpu (largest: it grows only the first time, freed per-CPU pages stay populated) in /proc/meminfo while a namespace went from 0 to %d helpers (the first of each round), divided by %d; Percpu is for this guest'"'"'s CPU count |\n",
			med("mem_slab_kb") * 1024 / limit, hi("mem_percpu_kb") * 1024 / limit, limit, limit
		printf "| flush of 0 helpers | %s | wall time of `nf_cthelper ctl del` (one DEL without a name) in an empty namespace: the process alone, nothing to unregister |\n",
			span("flush_0_us")
		printf "| flush of %d helpers | %s | the same at the default limit: the helpers unregistered together, behind a constant number of RCU grace periods |\n",
			def, span("flush_" def "_us")
		printf "| flush of %d helpers | %s | the same at the raised limit, nothing else running |\n",
			limit, span("flush_alone_us")
		printf "| flush of %d helpers, host sampled | %s | the same while the host requests below run in two loops (%d flushes) |\n",
			limit, span("flush_sampled_us"), n["flush_sampled_us"]
		printf "| teardown of an empty namespace | %s | from SIGKILL to its only process until the kernel has freed the namespace: the first moment a new one can be made in a user namespace limited to one (user.max_net_namespaces = 1, whose count drops at the end of cleanup_net(), after every pernet exit and an rcu_barrier()); polled every 2 ms |\n",
			span("td_empty_us")
		printf "| teardown at the limit | %s | the same for a namespace holding %d helpers%s |\n",
			span("td_alone_us"), limit,
			rule ? " and an iptables raw `-j CT --helper t0` rule holding one of them" : " (without the CT rule: iptables failed: " v["td_alone_iptables_error", 1] ")"
		printf "| teardown at the limit, slab freed | %s | from the same kill until SUnreclaim is back within a tenth of what that namespace had added |\n",
			allnum("td_alone_slab_us") ? span("td_alone_slab_us") : "not within 5 s of the teardown"
		printf "| teardown at the limit, host sampled | %s | as above while the host requests below run (%d teardowns) |\n",
			span("td_sampled_us"), n["td_sampled_us"]
		printf "| host `nfct list helper` | %s | median / slowest (samples; for idle also the 99th percentile): idle = before each sampled flush or teardown (%d s, the other namespace holding %d helpers), flush / teardown = the requests that overlapped one; in the initial namespace, each a whole process (fork, exec, one request) |\n",
			host("list"), idle, limit
		printf "| host `nf_cthelper ctl new name=h tuple=2:6 policy=1:a/1/10 privlen=0` | %s | the same for one NEW in the initial namespace (a loop of its own, with the DEL below) |\n",
			host("new")
		printf "| host `nf_cthelper ctl del name=h` | %s | the same for its DEL, which waits for RCU grace periods |\n",
			host("del")
		printf "\nFailed host requests that overlapped a flush or teardown: %d.\n", fails
	}' "$out"
} | tee "${VM_OUT:-/tmp}/control-plane.md"
