#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/progs/cthdiff's sequence SEED of COUNT requests with traffic, in a
# namespace of its own, on any kernel: its transcript on stdout.  Flags
# are CTHDIFF_FLAGS (default "-p -t": traffic, nothing that crashes 6.12).
#
# usage: cthdiff.sh SEED COUNT
set -u
ns=cthdiff-$$
ip netns add "$ns" || exit 1
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
# shellcheck disable=SC2086 # flags, split on purpose
ip netns exec "$ns" "$TESTS_BIN/cthdiff" ${CTHDIFF_FLAGS:--p -t} -s "$1" -n "$2"
