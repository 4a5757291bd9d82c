# cthelper: build the patched kernel and test it in a VM.
#
#   make          base tree + series + kernel build
#   make check    the above, then every test in the VM; last line N passed, N failed
#   make check-debug  the same tests on a KASAN/lockdep/kmemleak/UBSAN kernel
#   make demo     boot our kernel and walk through a userspace FTP helper
#   make bench    what a userspace helper costs, as ratios to no helper
#   make clean    remove build/ (ccache stays in $(CCACHE_DIR))

.PHONY: all base apply build check check-debug demo bench clean

all: build

base:
	scripts/base

apply: base
	scripts/apply

build: apply
	scripts/build

check:
	scripts/base --verify-build
	scripts/apply
	scripts/build
	tests/run

check-debug: apply
	scripts/build --name debug scripts/config/vm.config \
		scripts/config/cthelper.config scripts/config/debug.config
	KERNEL_NAME=debug tests/run

demo: build
	scripts/demo

bench: build
	scripts/bench

clean:
	rm -rf build
