// SPDX-License-Identifier: GPL-2.0
/*
 * cthfuzz: tests/progs/cthdiff's requests and traffic under AFL++, with
 * the kernel coverage (KCOV) of the calling thread as AFL's feedback.
 *
 * Sets up once: opens KCOV and AFL's shared map, drops to nobody, enters a
 * user and a network namespace of its own (so everything runs as an
 * unprivileged user would), registers helper "dq" with its nft rule and
 * binds its queue (cthdiff -t).  Then it is AFL's fork server: a child per
 * input enables KCOV, decodes the input into cthdiff's sequence (without
 * -p: everything) and hashes the kernel PCs it reached, edge by edge, into
 * AFL's map.  Before each input it writes the input to LAST, so that an
 * input that brings the kernel down is not lost with it.
 *
 * usage: cthfuzz [-l LAST] FILE|-   one input (- for standard input, as
 *                                   afl-fuzz gives it), in a loop when
 *                                   run by afl-fuzz
 *        cthfuzz -c FILE...         each input once; print the kernel PCs
 *                                   they reached, one per line (hex)
 */
#define CTHDIFF_NO_MAIN
#include "cthdiff.c"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define KCOV_INIT_TRACE	_IOR('c', 1, unsigned long)
#define KCOV_ENABLE	_IO('c', 100)
#define KCOV_DISABLE	_IO('c', 101)
#define KCOV_TRACE_PC	0
#define COVER_WORDS	(1 << 20)

#define FORKSRV_FD	198
#define MAP_SIZE	65536
/* the PCs -c records: kernel text from its link address, one bit each */
#define TEXT_BASE	0xffffffff81000000UL
#define TEXT_SIZE	(128UL << 20)

static unsigned long *cover;
static int kcov;
static uint8_t *afl_map;
static uint8_t *seen;		/* -c: shared bitmap of kernel PCs */

static int kcov_open(void)
{
	kcov = open("/sys/kernel/debug/kcov", O_RDWR);
	if (kcov < 0 || ioctl(kcov, KCOV_INIT_TRACE, COVER_WORDS)) {
		if (kcov >= 0)
			close(kcov);
		return -1;
	}
	cover = mmap(NULL, COVER_WORDS * sizeof(unsigned long),
		     PROT_READ | PROT_WRITE, MAP_SHARED, kcov, 0);
	return cover == MAP_FAILED ? -1 : 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* nobody, root of a user and network namespace of its own */
static int unprivileged_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -1;
	/* a changed uid leaves /proc/self/ to root: take it back */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return -1;
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 65534 1") ||
	    write_file("/proc/self/gid_map", "0 65534 1"))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return -1;
	close(fd);
	return 0;
}

static uint8_t input[1 << 16];

/*
 * PATH's bytes; "-" is standard input, the file afl-fuzz rewrites for
 * each run and opened for us before privileges were dropped
 */
static int load(const char *path)
{
	bool in = !strcmp(path, "-");
	int fd = in ? 0 : open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || (in && lseek(fd, 0, SEEK_SET) < 0))
		return -1;
	n = read(fd, input, sizeof(input));
	if (!in)
		close(fd);
	if (n < 0)
		return -1;
	src.buf = input;
	src.len = n;
	src.pos = 0;
	src.gen = false;
	return 0;
}

/* LAST, opened before privileges are dropped: the input about to run */
static int last_fd = -1;

static void save_last(void)
{
	if (last_fd < 0)
		return;
	if (ftruncate(last_fd, 0) ||
	    pwrite(last_fd, input, src.len, 0) != (ssize_t)src.len)
		perror("last input");
}

static inline uint32_t hash_pc(unsigned long pc)
{
	uint64_t h = pc * 0x9e3779b97f4a7c15ULL;

	return h >> 40;
}

/*
 * CTHFUZZ_PCS="LO-HI,...": the kernel text whose edges feed AFL (the
 * series' files); the rest of the kernel (page faults, timers, memory
 * accounting) varies from run to run and would only make noise
 */
static struct { unsigned long lo, hi; } ranges[64];
static unsigned int nranges;

static void parse_ranges(const char *s)
{
	while (s && *s && nranges < 64) {
		char *end;

		ranges[nranges].lo = strtoul(s, &end, 16);
		if (*end != '-')
			break;
		ranges[nranges].hi = strtoul(end + 1, &end, 16);
		nranges++;
		s = *end == ',' ? end + 1 : NULL;
	}
}

static bool wanted(unsigned long pc)
{
	unsigned int i;

	if (!nranges)
		return true;
	for (i = 0; i < nranges; i++)
		if (pc >= ranges[i].lo && pc < ranges[i].hi)
			return true;
	return false;
}

/* what an earlier input left behind, before coverage is recorded */
static void settle(void)
{
	struct queued q;
	char buf[256];
	bool was = mutate;

	mutate = false;
	while (recv(mnl_socket_get_fd(nl), rbuf, sizeof(rbuf),
		    MSG_DONTWAIT) > 0)
		;
	while (next_queued_quiet(&q))
		accept_packet(&q);
	while (recv(srv, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	       recv(srv_exp, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	reset_helpers();
	flush_tables();
	mutate = was;
}

/* The child: one input under KCOV, its edges into the map */
static void run_input(void)
{
	unsigned long n, i, prev = 0;

	settle();
	/* without KCOV (a kernel without it): the inputs run, unmeasured */
	if (kcov < 0) {
		run(~0UL);
		return;
	}
	if (ioctl(kcov, KCOV_ENABLE, KCOV_TRACE_PC))
		_exit(1);
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	run(~0UL);
	n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
	ioctl(kcov, KCOV_DISABLE, 0);
	if (n >= COVER_WORDS)
		n = COVER_WORDS - 1;
	for (i = 0; i < n; i++) {
		unsigned long pc = cover[i + 1];
		uint32_t cur = hash_pc(pc);

		if (afl_map && wanted(pc)) {
			uint8_t *hit = &afl_map[(cur ^ prev) % MAP_SIZE];

			/* saturating: a count that wraps reads as no hit */
			if (*hit < 255)
				(*hit)++;
			prev = cur >> 1;
		}
		if (seen && pc - TEXT_BASE < TEXT_SIZE)
			seen[(pc - TEXT_BASE) / 8] |= 1 << ((pc - TEXT_BASE) % 8);
	}
}

/* The child's life: the transcript is not wanted, the coverage is */
static void __attribute__((noreturn)) child(void)
{
	if (!freopen("/dev/null", "w", stdout))
		_exit(1);
	run_input();
	fflush(stdout);
	_exit(0);
}

/* A child per input; its exit status as waitpid() gave it */
static int fork_input(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		child();
	waitpid(pid, &status, 0);
	return status;
}

static void fork_server(const char *file)
{
	uint32_t msg = 0;
	int status;
	pid_t pid;

	/* not run by afl-fuzz: one input */
	if (write(FORKSRV_FD + 1, &msg, 4) != 4) {
		if (!load(file)) {
			save_last();
			fork_input();
		}
		return;
	}
	for (;;) {
		if (read(FORKSRV_FD, &msg, 4) != 4)
			exit(0);
		if (load(file))
			exit(1);
		save_last();
		pid = fork();
		if (pid < 0)
			exit(1);
		if (!pid) {
			close(FORKSRV_FD);
			close(FORKSRV_FD + 1);
			child();
		}
		if (write(FORKSRV_FD + 1, &pid, 4) != 4)
			exit(1);
		if (waitpid(pid, &status, 0) < 0)
			exit(1);
		if (write(FORKSRV_FD + 1, &status, 4) != 4)
			exit(1);
	}
}

int main(int argc, char *argv[])
{
	const char *last = NULL, *shm = getenv("__AFL_SHM_ID");
	bool collect = false;
	unsigned long i;
	int opt;

	while ((opt = getopt(argc, argv, "cl:")) != -1) {
		switch (opt) {
		case 'c':
			collect = true;
			break;
		case 'l':
			last = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;

	if (last) {
		last_fd = open(last, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (last_fd < 0) {
			perror(last);
			return 1;
		}
	}
	if (kcov_open()) {
		perror("kcov (running without coverage)");
		if (collect)
			return 1;
		kcov = -1;
	}
	if (shm) {
		afl_map = shmat(atoi(shm), NULL, 0);
		if (afl_map == (void *)-1) {
			perror("shmat");
			return 1;
		}
	}
	if (collect) {
		seen = mmap(NULL, TEXT_SIZE / 8, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (seen == MAP_FAILED)
			return 1;
	}
	parse_ranges(getenv("CTHFUZZ_PCS"));
	traffic = true;
	may_wait = 5;
	must_wait = 200;
	if (unprivileged_netns()) {
		perror("cthfuzz: user and network namespace");
		return 1;
	}
	if (open_nl() || setup_traffic()) {
		fprintf(stderr, "cthfuzz: setup failed\n");
		return 1;
	}
	if (!collect) {
		fork_server(argv[optind]);
		return 0;
	}
	for (; optind < argc; optind++) {
		if (load(argv[optind]))
			continue;
		fork_input();
	}
	for (i = 0; i < TEXT_SIZE; i++)
		if (seen[i / 8] & (1 << (i % 8)))
			printf("%lx\n", TEXT_BASE + i);
	return 0;
usage:
	fprintf(stderr, "usage: cthfuzz [-l LAST] FILE | cthfuzz -c FILE...\n");
	return 1;
}
