#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The same nfct steps on any kernel; the output is compared with what
# pristine Linux 6.12 printed (tests/golden/nfct-helper.txt, made by
# scripts/golden).
# the selftest's client (built by scripts/test or scripts/golden)
PATH=${TESTS_BIN:?}:$PATH

run() {
	echo "\$ $*"
	"$@" 2>&1 | sed 's/^nfct v[0-9.]*: /nfct: /'
	echo "[exit ${PIPESTATUS[0]}]"
}

run nfct list helper
run nfct add helper ftp inet tcp
run nfct add helper ftp inet tcp
run nfct add helper tftp inet6 udp
run nfct list helper
run nfct get helper ftp
run nfct get helper ftp inet tcp
run nfct get helper nosuch
run nfct disable helper ftp inet tcp
run nfct get helper ftp
run nfct enable helper ftp inet tcp
run nfct get helper ftp
# nfct 1.4.7 has no "enable" (the step above fails) and adds helpers
# disabled: another client enables ftp, so that both status changes
# really happen and show
run nf_cthelper ctl new name=ftp tuple=2:6 status=1
run nfct get helper ftp
run nfct disable helper ftp inet tcp
run nfct get helper ftp
run nfct delete helper nosuch inet tcp
run nfct delete helper ftp inet tcp
run nfct get helper ftp
run nfct list helper
run nfct flush helper
run nfct list helper
run nfct flush helper
