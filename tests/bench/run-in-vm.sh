#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: request/response (rr), connect/exchange/close (crr) and
# bulk rates over tcp/21 between two namespaces, interleaved rounds, for:
#   none       no helper
#   kernel-ftp the in-kernel nf_conntrack_ftp (modular kernels only; loaded
#              for this mode alone, as it takes the name "ftp")
#   c-helper   the selftests' nf_cthelper daemon as a userspace helper
#   c-helper-p the same, registered with NFCTH_F_PAYLOAD_ONLY
#   conntrackd conntrackd's userspace ftp helper (if installed)
# MODES overrides the list.  Prints one line per measurement, then medians
# and ratios to "none".
. "$(dirname "$0")/../lib.sh"
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
RR=$TESTS_BIN/rr
HELPER=$TESTS_BIN/nf_cthelper
out=${VM_OUT:-/tmp}/bench.txt
: >"$out"

setup_pair s c || exit 1
ip netns exec s iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec s "$RR" server 192.0.2.1 21 >/dev/null &
busywait 5000 listens s 21

attach() {
	ip netns exec s iptables -t raw -F
	[ -n "$1" ] && ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper "$1"
	ip netns exec s conntrack -F >/dev/null 2>&1
}

hpid=
use() {
	[ -n "$hpid" ] && { kill -9 $hpid; wait $hpid 2>/dev/null; hpid=; }
	local pid
	for pid in $(ip netns pids s); do
		grep -q conntrackd "/proc/$pid/comm" 2>/dev/null && kill -9 "$pid"
	done
	ip netns exec s iptables -t raw -F
	nfct flush helper 2>/dev/null
	grep -q '^nf_conntrack_ftp ' /proc/modules 2>/dev/null &&
		busywait 5000 rmmod nf_conntrack_ftp
	case $1 in
	none) attach "" ;;
	kernel-ftp)
		modprobe nf_conntrack_ftp
		attach ftp ;;
	c-helper|c-helper-p)
		local p=
		[ "$1" = c-helper-p ] && p=-P
		ip netns exec s "$HELPER" helper -r $p -n ftp -q 0 >/dev/null 2>&1 &
		hpid=$!
		busywait 5000 sh -c 'nfct list helper | grep -q ftp'
		attach ftp ;;
	conntrackd)
		ip netns exec s nfct add helper ftp inet tcp
		conntrackd_start s "$TESTS_DIR/conf/conntrackd-ftp.conf"
		attach ftp ;;
	esac
}

modes="none"
[ -e /proc/modules ] && modprobe -n nf_conntrack_ftp 2>/dev/null &&
	modes="$modes kernel-ftp"
modes="$modes c-helper c-helper-p"
command -v conntrackd >/dev/null && modes="$modes conntrackd"
modes=${MODES:-$modes}
kinds="rr crr bulk"
for r in $(seq "$ROUNDS"); do
	for m in $modes; do
		use "$m"
		for kind in $kinds; do
			res=$(ip netns exec c "$RR" "$kind" 192.0.2.1 21 "$SECS")
			echo "round=$r mode=$m $res" | tee -a "$out"
		done
	done
done
use none

echo "--- medians over $ROUNDS rounds of ${SECS}s (rate/s or MB/s, p50 us, p99 us) and ratio to none"
for kind in $kinds; do
	for m in $modes; do
		grep " mode=$m $kind " "$out" |
			awk '{print $5+0, ($6 ~ /^[0-9]/ ? $6 : "-"), ($7 ~ /^[0-9]/ ? $7 : "-")}' |
			sort -n |
			awk -v m="$m" -v k="$kind" '{r[NR]=$1; p50[NR]=$2; p99[NR]=$3}
			END {i=int((NR+1)/2); printf "%s %s %.1f %s %s min=%.1f max=%.1f\n", k, m, r[i], p50[i], p99[i], r[1], r[NR]}'
	done
done | tee "$out.medians" | awk '$2 == "none" {base[$1]=$3} {printf "%-4s %-11s %9s/s p50=%sus p99=%sus spread=[%s %s] ratio=%.2f\n", $1, $2, $3, $4, $5, $6, $7, ($1 in base) ? $3/base[$1] : 0}'
