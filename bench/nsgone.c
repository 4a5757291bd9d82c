// SPDX-License-Identifier: GPL-2.0
/*
 * nsgone PID SLAB_KB: how long a network namespace takes to go away once
 * its last process is killed.
 *
 * Run it inside a user namespace whose user.max_net_namespaces is 1 and
 * that holds one network namespace, the one of process PID (its only
 * process).  It kills PID, then tries every 2 ms to make a new network
 * namespace: that succeeds once cleanup_net() has freed the old one, which
 * gives its count back at its very end, after every pernet exit and an
 * rcu_barrier().  Meanwhile it watches SUnreclaim in /proc/meminfo for the
 * first time it is at or below SLAB_KB.
 *
 * Prints "killed T", "gone USEC", "slab USEC" ("slab -" when SUnreclaim
 * stayed above SLAB_KB until 5 s after "gone") and "end T", where T is a
 * wall-clock time in microseconds since the epoch (bash's $EPOCHREALTIME
 * without its dot) and USEC a time since the kill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long sunreclaim_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SUnreclaim: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char *argv[])
{
	long long t0, t, gone = -1, slab = -1, killed;
	const struct timespec tick = { .tv_nsec = 2000000 };
	long slab_kb, kb;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: nsgone PID SLAB_KB\n");
		return 2;
	}
	pid = atoi(argv[1]);
	slab_kb = atol(argv[2]);

	killed = now_us(CLOCK_REALTIME);
	t0 = now_us(CLOCK_MONOTONIC);
	if (kill(pid, SIGKILL)) {
		perror("kill");
		return 1;
	}
	for (;;) {
		t = now_us(CLOCK_MONOTONIC) - t0;
		if (slab < 0) {
			kb = sunreclaim_kb();
			if (kb >= 0 && kb <= slab_kb)
				slab = t;
		}
		if (gone < 0) {
			if (!unshare(CLONE_NEWNET))
				gone = t;
			else if (errno != ENOSPC) {
				perror("unshare");
				return 1;
			}
		}
		if (gone >= 0 && (slab >= 0 || t - gone > 5000000))
			break;
		if (t > 600000000) {
			fprintf(stderr, "nsgone: still there after 600 s\n");
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	printf("killed %lld\n", killed);
	printf("gone %lld\n", gone);
	if (slab >= 0)
		printf("slab %lld\n", slab);
	else
		printf("slab -\n");
	printf("end %lld\n", killed + gone);
	return 0;
}
