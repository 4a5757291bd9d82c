#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel under test boots to userspace with the netfilter pieces we need.
. "$(dirname "$0")/../lib.sh"

case $(uname -r) in
6.12.*) ;;
*) fail "unexpected kernel $(uname -r)" ;;
esac
# a modular kernel has them as modules
if [ -e /proc/modules ]; then
	modprobe nfnetlink_queue || fail "modprobe nfnetlink_queue failed"
	modprobe nf_conntrack || fail "modprobe nf_conntrack failed"
fi
[ -e /proc/net/netfilter/nfnetlink_queue ] || fail "nfnetlink_queue missing"
[ -e /proc/net/nf_conntrack ] || fail "nf_conntrack missing"
echo "kernel $(uname -r) up"
