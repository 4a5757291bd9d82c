#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: request/response (rr), connect/exchange/close (crr), bulk
# and an FTP-like control session (ftp: one PASV in ten messages, whose
# 227 reply the helper must see to let the data connection in) over tcp/21
# between two namespaces, interleaved rounds, for:
#   none         no helper (no ftp: its data connections cannot get in)
#   nfqueue      no helper; every tcp/21 packet through NFQUEUE (with
#                NFQA_CT) to tests/progs/nfq, which accepts it: what a
#                round trip to userspace costs by itself (no ftp either)
#   kernel-ftp   the in-kernel nf_conntrack_ftp (modular kernels only;
#                loaded for this mode alone, as it takes the name "ftp")
#   c-helper     the selftests' nf_cthelper daemon as a userspace helper
#                (-F: it reads 227 replies as the kernel's helper does)
#   c-helper-p   the same, registered with NFCTH_F_PAYLOAD_ONLY
#   c-helper-f   c-helper with the FTP filter of the documentation
#   c-helper-pf  c-helper-p with that filter
#   conntrackd   conntrackd's userspace ftp helper (if installed)
#   conntrackd-f the same with that filter attached to its helper
# MODES overrides the list.  Prints one line per measurement, then medians
# and ratios to "none".
#
# Each round proves the helper was in the path: the userspace modes must
# have moved queue 0's packet id sequence or, with a filter, the helper's
# counter of packets it filtered; kernel-ftp must have given the flows
# helper=ftp, nfqueue must have moved the queue without a helper, none must
# have done neither.  An ftp round must have opened
# every data connection its PASVs announced (each needs the expectation
# the helper created).  A round that fails that, or whose client fails,
# is counted as failed and left out of the medians.  Latency percentiles
# come from every sample of every round.
. "$(dirname "$0")/../tests/lib.sh"
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
RR=$TESTS_BIN/rr
HELPER=$TESTS_BIN/nf_cthelper
out=${VM_OUT:-/tmp}/bench.txt
: >"$out"

bench_guest_check

# The FTP filter of Documentation/networking/nf_conntrack_userspace_helpers.rst
FTP_FILTER="13,177 0 0 0,80 0 0 12,116 0 0 2,84 0 0 60,12 0 0 0,7 0 0 0,64 0 0 0,21 4 0 1347375700,21 3 0 1162891860,21 2 0 842151712,21 1 0 842152224,6 0 0 0,6 0 0 1"

bench_setup

attach() {
	ip netns exec s iptables -t raw -F
	[ -n "$1" ] && ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper "$1"
	ip netns exec s conntrack -F >/dev/null 2>&1
}

# the FTP filter on helper ftp, whoever registered it
filter() {
	ip netns exec s "$HELPER" ctl new name=ftp tuple=2:6 \
		"filter=$FTP_FILTER" | grep -qx ok
}

# filtered: helper ftp's count of packets its filter let through (0
# without the counter)
filtered() {
	local n

	n=$(ip netns exec s "$HELPER" ctl stats name=ftp tuple=2:6 2>/dev/null |
		sed -n 's/.* filtered=\([0-9]*\).*/\1/p')
	echo "${n:-0}"
}

hpid=
use() {
	[ -n "$hpid" ] && { kill -9 $hpid; wait $hpid 2>/dev/null; hpid=; }
	local pid
	for pid in $(ip netns pids s); do
		grep -q conntrackd "/proc/$pid/comm" 2>/dev/null && kill -9 "$pid"
	done
	ip netns exec s iptables -t raw -F
	ip netns exec s iptables -t mangle -F
	# in s: helpers belong to the namespace that registered them (on
	# 6.12, to every namespace); a helper left by the mode before would
	# make the next mode's registration fail (-EBUSY), and that mode would
	# measure no helper
	ip netns exec s nfct flush helper 2>/dev/null
	if [ -n "$(ip netns exec s nfct list helper 2>/dev/null)" ]; then
		echo "mode $1: helpers of the mode before still registered" >&2
		return 1
	fi
	grep -q '^nf_conntrack_ftp ' /proc/modules 2>/dev/null &&
		busywait 5000 rmmod nf_conntrack_ftp
	case $1 in
	none) attach "" ;;
	nfqueue)
		bench_nfqueue 0
		hpid=$NFQ_PID
		attach "" ;;
	kernel-ftp)
		modprobe nf_conntrack_ftp
		attach ftp ;;
	c-helper|c-helper-p|c-helper-f|c-helper-pf)
		local p=
		[[ "$1" = c-helper-p* ]] && p=-P
		ip netns exec s "$HELPER" helper -r $p -F -n ftp -q 0 >/dev/null 2>&1 &
		hpid=$!
		busywait 5000 sh -c 'nfct list helper | grep -q ftp'
		case $1 in
		*-f|*-pf) filter || return 1 ;;
		esac
		attach ftp ;;
	conntrackd|conntrackd-f)
		ip netns exec s nfct add helper ftp inet tcp
		conntrackd_start s "$TESTS_DIR/conf/conntrackd-ftp.conf"
		if [ "$1" = conntrackd-f ]; then
			filter || return 1
		fi
		attach ftp ;;
	esac
}

modes="none nfqueue"
[ -e /proc/modules ] && modprobe -n nf_conntrack_ftp 2>/dev/null &&
	modes="$modes kernel-ftp"
modes="$modes c-helper c-helper-p c-helper-f c-helper-pf"
command -v conntrackd >/dev/null && modes="$modes conntrackd conntrackd-f"
modes=${MODES:-$modes}
kinds="rr crr bulk ftp"

# queue0_ids: the id sequence of queue 0 in s (0 when nobody is bound)
queue0_ids() {
	local ids

	ids=$(nfqueue_fields s 0 8)
	echo "${ids:-0}"
}

# in_path MODE IDS_BEFORE FILTERED_BEFORE: what this round did shows
# MODE's helper at work
in_path() {
	local moved=0 helped=0 kept=0

	[ "$(queue0_ids)" -gt "$2" ] && moved=1
	[ "$(filtered)" -gt "$3" ] && kept=1
	ip netns exec s conntrack -L -p tcp --dport 21 2>/dev/null |
		grep -q 'helper=ftp' && helped=1
	case $1 in
	none) [ $moved = 0 ] && [ $helped = 0 ] ;;
	nfqueue) [ $moved = 1 ] && [ $helped = 0 ] ;;
	kernel-ftp) [ $moved = 0 ] && [ $helped = 1 ] ;;
	*-f|*-pf) [ $kept = 1 ] && [ $helped = 1 ] ;;
	*) [ $moved = 1 ] && [ $helped = 1 ] ;;
	esac
}

for r in $(seq "$ROUNDS"); do
	for m in $modes; do
		use "$m"
		for kind in $kinds; do
			# no helper, so no data connection can get in
			case $m in none|nfqueue) [ "$kind" = ftp ] && continue ;; esac
			ip netns exec s conntrack -F >/dev/null 2>&1
			ids=$(queue0_ids)
			fl=$(filtered)
			rm -f "$out.lat"
			if ! res=$(ip netns exec c env RR_SAMPLES="$out.lat" \
				"$RR" "$kind" 192.0.2.1 21 "$SECS") || [ -z "$res" ]; then
				res="$kind FAILED client"
			elif ! in_path "$m" "$ids" "$fl"; then
				res="$kind FAILED helper-not-in-path $res"
			elif [[ "$res" =~ pasv=([0-9]+)\ data=([0-9]+) ]] &&
			     [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
				res="$kind FAILED expectations-missing $res"
			elif [ -f "$out.lat" ]; then
				# the latencies of good rounds only
				cat "$out.lat" >>"${out%.txt}-lat-$m-$kind.txt"
			fi
			echo "round=$r mode=$m $res queued=$(($(queue0_ids) - ids)) filtered=$(($(filtered) - fl))" |
				tee -a "$out"
		done
	done
done
use none

# percentile P FILE: the P-th percentile of the numbers in FILE, or "-"
percentile() {
	sort -n "$2" 2>/dev/null |
		awk -v p="$1" '{ v[NR] = $1 }
			END { if (!NR) print "-"; else print v[int((NR - 1) * p / 100) + 1] }'
}

echo "--- medians over the good rounds of $ROUNDS (${SECS}s each): rate/s or MB/s, p50 and p99 us over all samples, spread, failed rounds, ratio to none"
for kind in $kinds; do
	for m in $modes; do
		lat=${out%.txt}-lat-$m-$kind.txt
		failed=$(grep -c " mode=$m $kind FAILED" "$out")
		grep " mode=$m $kind " "$out" | grep -v FAILED |
			awk '{ print $5 + 0 }' | sort -n |
			awk -v m="$m" -v k="$kind" -v f="$failed" \
			    -v p50="$(percentile 50 "$lat")" -v p99="$(percentile 99 "$lat")" '
			{ r[NR] = $1 }
			END { if (!NR) { printf "%s %s 0 - - min=0 max=0 failed=%d\n", k, m, f; exit }
			      i = int((NR + 1) / 2)
			      printf "%s %s %.1f %s %s min=%.1f max=%.1f failed=%d\n", k, m, r[i], p50, p99, r[1], r[NR], f }'
	done
done | tee "$out.medians" | awk '$2 == "none" {base[$1]=$3} $2 == "kernel-ftp" {kern[$1]=$3}
	{ line[NR] = $0 }
	END { for (i = 1; i <= NR; i++) { split(line[i], f, " ")
		printf "%-4s %-12s %9s/s p50=%sus p99=%sus spread=[%s %s] %s to-none=%.2f to-kernel=%.2f\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8],
			base[f[1]] ? f[3]/base[f[1]] : 0, kern[f[1]] ? f[3]/kern[f[1]] : 0 } }'
