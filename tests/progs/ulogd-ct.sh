#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What ulogd2, a third-party libnetfilter_log client, makes of the
# conntrack that NFULA_CT attaches to logged packets, on any kernel: one
# TCP flow into a namespace with a helper attached, its packets logged
# by NFLOG to ulogd2's NFLOG input (attach_conntrack) and XML output.
# Prints one line for each of the first three packets (the handshake and
# the data; how the close interleaves varies): the conntrack as ulogd2
# wrote it, without
# what changes from run to run (times, ids, timeouts, the client's port,
# the packet bytes).  Compared with pristine Linux 6.12's output
# (tests/golden/ulogd-ct.txt, made by scripts/golden).
. "$(dirname "$0")/../lib.sh"

setup_pair s c || { echo "netns setup failed"; exit 1; }
dir=$(mktemp -d)
cat >"$dir/ulogd.conf" <<EOC
[global]
logfile="$dir/ulogd.log"
loglevel=3
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_inppkt_NFLOG.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_output_XML.so"
stack=log1:NFLOG,xml1:XML
[log1]
group=3
attach_conntrack=1
[xml1]
directory="$dir"
sync=1
EOC
ip netns exec s nfct add helper ftp inet tcp
ip netns exec s iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
ip netns exec s iptables -A INPUT -p tcp --dport 21 -j NFLOG --nflog-group 3
ip netns exec s ulogd -c "$dir/ulogd.conf" &
pid=$!
busywait 10000 grep -qs 'entering main loop' "$dir/ulogd.log" ||
	{ cat "$dir/ulogd.log"; exit 1; }
ip netns exec s socat -u TCP-LISTEN:21,bind=192.0.2.1,reuseaddr /dev/null &
busywait 10000 listens s 21 || { echo "no listener"; exit 1; }
echo hello | ip netns exec c socat -t 2 - TCP:192.0.2.1:21
# the connection's last packets, then ulogd2 flushes as it stops
sleep 2
kill "$pid"
wait "$pid"
python3 - "$dir"/ulogd-pkt-*.xml <<'EOP'
import re
import sys

text = open(sys.argv[1]).read()
for rec in re.findall(r'<log>.*?</flow>', text, re.S)[:3]:
    flow = rec[rec.index('<flow>'):]
    flow = re.sub(r'<when>.*?</when>', '', flow)
    flow = re.sub(r'<(timeout|id)>\d+</\1>', '', flow)
    flow = re.sub(r'<(sport|dport)>(?!21<)\d+</', r'<\1>CLIENT</', flow)
    hook = re.search(r'<hook>(\d+)</hook>', rec)
    print(f'hook={hook.group(1) if hook else "?"} {flow}')
EOP
