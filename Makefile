# cthelper: build the patched kernel and test it in a VM.
#
#   make          base tree + series + kernel build
#   make check    the above, every test in the VM, then scripts/lint (the
#                 per-patch checks netdev's CI runs); each prints N passed, N failed
#   make lint     scripts/lint alone
#   make check-debug  the same tests on a modular KASAN/lockdep/kmemleak/UBSAN
#                 kernel, plus the module test
#   make check-incremental  the second series (incremental/) on pristine
#                 6.12: the selftests and conntrack-tools FTP in the VM, then
#                 scripts/lint --incremental
#   make variants the stripped base alone, then the configurations the
#                 series must build in (no cthelper, no glue, no nf_tables,
#                 no IPv6), and those of the second series (and its debug,
#                 modular kernel)
#   make demo     boot our kernel and walk through a userspace FTP helper
#   make bench    what a userspace helper costs, as ratios to no helper
#   make difftest the long differential run against pristine 6.12
#                 (SEED=, COUNT=; default a new seed, 100000 requests)
#   make fuzz     AFL++ with KCOV feedback on the fuzzing kernel for
#                 FUZZ_SECONDS (default 600); the corpus is kept
#   make clean    remove build/ (ccache stays in $(CCACHE_DIR))

.PHONY: all base apply build check lint check-debug check-incremental variants \
	demo bench difftest fuzz clean

all: build

base:
	scripts/base

apply: base
	scripts/apply

build: apply
	scripts/build

check:
	scripts/base
	scripts/apply
	scripts/build
	scripts/test; t=$$?; scripts/lint; c=$$?; [ $$t -eq 0 ] && [ $$c -eq 0 ]

lint: apply
	scripts/build
	scripts/lint

# The debug kernel is also the modular one: the test kernel covers
# everything built in, this one everything as modules, each with every
# test.  By hand before a submission (CI's time does not hold it).
check-debug: apply
	scripts/build --name debug scripts/config/vm.config \
		scripts/config/cthelper.config scripts/config/modules.config \
		scripts/config/debug.config
	KERNEL_NAME=debug KSFT_TIMEOUT=2400 VM_TIMEOUT=3600 scripts/test

# The second series: upstream's code with our fixes, on pristine 6.12.
check-incremental: apply
	scripts/check-incremental; t=$$?; scripts/lint --incremental; c=$$?; \
		[ $$t -eq 0 ] && [ $$c -eq 0 ]

# By hand before a submission: the stripped base builds on its own (in
# build/linux/o-base when the test kernel exists), then the variants, of
# both series (the second's also in the debug kernel's configuration).
variants: base
	scripts/base --verify-build
	scripts/apply
	scripts/variants; a=$$?; scripts/apply --incremental && \
		scripts/variants --incremental; b=$$?; \
		[ $$a -eq 0 ] && [ $$b -eq 0 ]

demo: build
	scripts/demo

bench: build
	scripts/bench

difftest: build
	scripts/difftest $(SEED) $(COUNT)

fuzz: apply
	scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
