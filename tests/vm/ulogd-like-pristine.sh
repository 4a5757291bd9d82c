#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ulogd2, a libnetfilter_log client the series does not ship, reads the
# conntrack of logged packets (NFULA_CT) as it does on pristine Linux
# 6.12: same XML for the same flow.
. "$(dirname "$0")/../lib.sh"
checktool ulogd
checktool nfct
checktool iptables
checktool socat

like_pristine ulogd-ct.txt "ulogd2's view of NFULA_CT" \
	"$TESTS_DIR/progs/ulogd-ct.sh"
echo "$(grep -c '^hook=' "$TESTS_DIR/golden/ulogd-ct.txt") packets' conntracks as ulogd2 wrote them on pristine 6.12"
