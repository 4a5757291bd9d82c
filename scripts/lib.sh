# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts sourcing this
# Shared settings for the scripts in this folder; sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$TOP/build}
TREE=${TREE:-$BUILD_DIR/linux}
BASE_VERSION=$(cat "$TOP/BASE")
SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz

# The two series: SERIES_DIR holds `series` and `patches/`.
#   main         our implementation, on the base tree (upstream's removed):
#                applied in $TREE (build/linux), developed in build/dev
#   incremental  fixes and features on upstream's own code, on pristine
#                6.12 (build/pristine's tag "base"): applied in
#                build/incremental, developed in build/incremental-dev,
#                both worktrees of build/pristine
SERIES_DIR=$TOP
SERIES_BRANCH=series
DEV_TREE=$BUILD_DIR/dev
PRISTINE=$BUILD_DIR/pristine
BASE_TREE=$TREE
use_incremental() {
	SERIES_DIR=$TOP/incremental
	SERIES_BRANCH=incremental
	TREE=$BUILD_DIR/incremental
	DEV_TREE=$BUILD_DIR/incremental-dev
	BASE_TREE=$PRISTINE
}

# series_patches: the patches SERIES_DIR/series lists, in order
series_patches() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$SERIES_DIR/series" | grep -v '^$' || true
}

# ccache lives outside the clone so a fresh clone (CI) starts warm.
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/cthelper/ccache}
export CCACHE_BASEDIR=$TOP
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Reproducible build identity: fewer objects change between builds.
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=cthelper
export KBUILD_BUILD_HOST=cthelper

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

log() {
	echo "==> $*"
}

apt_updated=
# need_pkgs PKG...: install the Debian packages that are missing (as root).
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "${p%%=*}" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (need root to install): ${missing[*]}"
	log "installing Debian packages: ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		apt-get update -q >/dev/null || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

BUILD_PKGS=(build-essential flex bison bc libelf-dev libssl-dev cpio kmod
	    ccache python3 git xz-utils)
VM_PKGS=(qemu-system-x86)

# build_nf_cthelper KTREE OUTDIR: the selftest's netlink client,
# OUTDIR/nf_cthelper, built by the selftest Makefile of kernel tree KTREE
# (its own rule, flags and libraries), with warnings fatal on top
build_nf_cthelper() {
	local dir=$1/tools/testing/selftests/net/netfilter out

	need_pkgs make gcc libmnl-dev pkg-config
	out=$(realpath -m "$2")
	mkdir -p "$out"
	rm -f "$out/nf_cthelper"
	make -s -C "$dir" OUTPUT="$out" USERCFLAGS="-Wall -Wextra -Werror" \
		"$out/nf_cthelper" || die "cannot build $dir/nf_cthelper.c"
}

# build_test_progs OUTDIR: the programs of tests/progs/ that the tests run
build_test_progs() {
	local p

	need_pkgs gcc libmnl-dev
	mkdir -p "$1"
	for p in nfq ctattrs cthdiff; do
		gcc -Wall -Wextra -Werror -O2 -o "$1/$p" "$TOP/tests/progs/$p.c" \
			-lmnl || die "cannot build tests/progs/$p.c"
	done
}

# cthelper_selftests DIR: the series' selftest programs in DIR, as its
# Makefile lists them in TEST_PROGS (full paths, one line each)
cthelper_selftests() {
	sed -n 's/^TEST_PROGS += \(nf_cthelper_.*\.sh\)$/\1/p' "$1/Makefile" |
		sed "s|^|$1/|"
}

# quilt_push_check TREE SERIES_DIR WORKDIR: quilt pushes SERIES_DIR's
# series (SERIES_DIR/series, SERIES_DIR/patches) onto the files of TREE's
# tag "base" it changes (not those a patch creates), with zero fuzz and no
# offset; quilt's output on stdout, a failure status when it did not apply
# so
quilt_push_check() {
	local tree=$1 dir=$2 q=$3 touched out rc=0

	need_pkgs quilt
	rm -rf "$q" && mkdir -p "$q"
	mapfile -t touched < <(cat "$dir"/patches/*.patch 2>/dev/null |
		sed -n 's|^--- a/||p' | sort -u |
		xargs -r git -C "$tree" ls-tree -r --name-only base --)
	if [ ${#touched[@]} -gt 0 ]; then
		git -C "$tree" archive base -- "${touched[@]}" | tar -x -C "$q"
	fi
	out=$(cd "$q" && QUILT_PATCHES="$dir/patches" \
		QUILT_SERIES="$dir/series" quilt push -a --fuzz=0 2>&1) || rc=1
	printf '%s\n' "$out"
	! grep -qiE 'offset|fuzz' <<<"$out" || rc=1
	return $rc
}

# build_pristine [FRAGMENT...]: pristine Debian 6.12 (upstream's userspace
# helpers included) in build/pristine, built from FRAGMENT (scripts/build's
# default without), brought up to date on every call
build_pristine() {
	"$TOP/scripts/base" --pristine
	TREE=$BUILD_DIR/pristine "$TOP/scripts/build" "$@"
}

# The cases of a run: results_start FILE, then record STATUS NAME [DETAIL]
# per case (prints "STATUS: NAME (DETAIL)", appends "STATUS NAME" to FILE),
# then results_summary: "N passed, N failed[, N skipped]", and a failure
# status when a case failed.
RESULTS=
results_start() {
	RESULTS=$1
	mkdir -p "$(dirname "$RESULTS")"
	: >"$RESULTS"
}

record() {
	echo "$1: $2${3:+ ($3)}"
	echo "$1 $2" >>"$RESULTS"
}

results_summary() {
	local passed failed skipped

	passed=$(grep -c '^PASS ' "$RESULTS" || true)
	failed=$(grep -c '^FAIL ' "$RESULTS" || true)
	skipped=$(grep -c '^SKIP ' "$RESULTS" || true)
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}
