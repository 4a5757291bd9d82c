#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The same FTP scenario with the userspace helper attached by an nft ct
# helper object instead of iptables.
. "$(dirname "$0")/../lib.sh"
for t in nfct conntrackd conntrack nft vsftpd curl; do checktool $t; done

setup_pair s c || fail "netns setup"
ip netns exec s nfct add helper ftp inet tcp || fail "nfct add helper"
conntrackd_start s "$TESTS_DIR/conf/conntrackd-ftp.conf" || fail "conntrackd did not start"
ip netns exec s nft -f - <<'NFT' || fail "nft ruleset refused"
table inet filter {
	ct helper ftp-us {
		type "ftp" protocol tcp
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-us"
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		tcp dport 21 accept
		meta l4proto tcp drop
	}
}
NFT
ftp_through s c s

# The helper is in use by the nft object: it cannot be deleted.
ip netns exec s nfct delete helper ftp inet tcp 2>/dev/null &&
	fail "helper deleted while an nft ct helper object uses it"
echo "transfer through an nft ct helper object; delete refused while in use"
