// SPDX-License-Identifier: GPL-2.0
/*
 * rr: TCP load for the benchmarks.
 *
 *   rr server ADDR PORT                 echo 64-byte requests, forever
 *   rr rr ADDR PORT SECONDS             request/response on one connection
 *   rr crr ADDR PORT SECONDS            connect, one exchange, close
 *   rr bulk ADDR PORT SECONDS           send as fast as possible
 *   rr ftp ADDR PORT SECONDS            an FTP-like control session
 *
 * ftp: request/response on one connection, each message a line of 64
 * bytes ending in CRLF: nine "NOOP" in ten, echoed, and a "PASV" that the
 * server answers "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." for its
 * data port (PORT + 1); the client then opens that data connection, which
 * the server closes at once.  A helper that reads the 227 reply creates
 * the expectation that lets the data connection through a policy that
 * drops other new connections.  Appends "pasv=N data=M": M data
 * connections of N succeeded (one second each at most).
 *
 * Client modes print "<mode> <count> <rate>/s [p50_us p99_us]"; bulk
 * counts the bytes the server received (it answers the count once the
 * client has shut its side down), "bulk <bytes> <MB/s>".  With RR_SAMPLES
 * set, rr and crr append every latency, in microseconds, to that file.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int addr(const char *a, const char *p, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(p));
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(p));
		return sizeof(*s6);
	}
	fprintf(stderr, "bad address %s\n", a);
	exit(2);
}

static int full(int fd, char *buf, int len, int rd)
{
	int done = 0, n;

	while (done < len) {
		n = rd ? read(fd, buf + done, len - done) : write(fd, buf + done, len - done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* A 64-byte line: TEXT, spaces, CRLF */
static void line(char *out, const char *text)
{
	memset(out, ' ', MSG);
	memcpy(out, text, strlen(text) < MSG - 2 ? strlen(text) : MSG - 2);
	out[MSG - 2] = '\r';
	out[MSG - 1] = '\n';
}

/* the 227 reply to a PASV on control connection FD */
static void pasv_reply(int fd, char *out)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	unsigned char *a = (unsigned char *)&sin.sin_addr;
	unsigned int port;
	char text[MSG];

	memset(&sin, 0, sizeof(sin));
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port) + 1;
	snprintf(text, sizeof(text),
		 "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).",
		 a[0], a[1], a[2], a[3], port >> 8, port & 0xff);
	line(out, text);
}

static void serve(int fd)
{
	long total = 0, echoed = 0;
	char buf[65536];
	int n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			break;
		if (n == 0) {
			/* a bulk client is done: what arrived, which it reads;
			 * request/response clients got everything echoed and
			 * are gone
			 */
			if (total != echoed) {
				n = snprintf(buf, sizeof(buf), "%ld\n", total);
				full(fd, buf, n, 0);
			}
			break;
		}
		total += n;
		if (n == MSG) {
			if (!memcmp(buf, "PASV", 4))
				pasv_reply(fd, buf);
			if (full(fd, buf, MSG, 0) < 0)
				break;
			echoed += MSG;
		}
	}
	close(fd);
	_exit(0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The data connection a 227 REPLY offers: connected and closed by the
 * server within a second
 */
static int data_conn(const char *reply)
{
	unsigned int h[4], p[2];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct pollfd pfd = { .events = POLLOUT };
	const char *s = strchr(reply, '(');
	char c;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	if (!s || sscanf(s, "(%u,%u,%u,%u,%u,%u)", &h[0], &h[1], &h[2],
			 &h[3], &p[0], &p[1]) != 6)
		return -1;
	sin.sin_addr.s_addr = htonl(h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]);
	sin.sin_port = htons(p[0] << 8 | p[1]);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	pfd.fd = fd;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	if (poll(&pfd, 1, 1000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		goto fail;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) != 1 || read(fd, &c, 1) != 0)
		goto fail;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int dial(struct sockaddr_storage *ss, int len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)ss, len) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

int main(int argc, char *argv[])
{
	static double lat[2000000];
	struct sockaddr_storage ss;
	char buf[65536] = "";
	long count = 0, nlat = 0, pasv = 0, data = 0;
	double start, end, t;
	int fd, len, one = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: rr server|rr|crr|bulk|ftp ADDR PORT [SECONDS]\n");
		return 2;
	}
	len = addr(argv[2], argv[3], &ss);

	if (!strcmp(argv[1], "server")) {
		int l = socket(ss.ss_family, SOCK_STREAM, 0);

		signal(SIGCHLD, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 128) < 0) {
			perror("listen");
			return 1;
		}
		/* the data port of ftp: a connection is closed at once */
		if (ss.ss_family == AF_INET && !fork()) {
			struct sockaddr_in *d = (struct sockaddr_in *)&ss;

			close(l);
			l = socket(AF_INET, SOCK_STREAM, 0);
			d->sin_port = htons(ntohs(d->sin_port) + 1);
			setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(l, (struct sockaddr *)d, len) < 0 ||
			    listen(l, 128) < 0)
				_exit(1);
			for (;;) {
				fd = accept(l, NULL, NULL);
				if (fd >= 0)
					close(fd);
			}
		}
		printf("listening\n");
		fflush(stdout);
		for (;;) {
			fd = accept(l, NULL, NULL);
			if (fd < 0)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (!fork())
				serve(fd);
			close(fd);
		}
	}

	if (argc < 5)
		return 2;
	start = now();
	end = start + atof(argv[4]);
	if (!strcmp(argv[1], "rr")) {
		fd = dial(&ss, len);
		while ((t = now()) < end) {
			if (full(fd, buf, MSG, 0) < 0 || full(fd, buf, MSG, 1) < 0)
				return 1;
			if (nlat < 2000000)
				lat[nlat++] = now() - t;
			count++;
		}
	} else if (!strcmp(argv[1], "ftp")) {
		char cmd[MSG];

		fd = dial(&ss, len);
		while ((t = now()) < end) {
			bool is_pasv = count % 10 == 9;

			line(cmd, is_pasv ? "PASV" : "NOOP");
			if (full(fd, cmd, MSG, 0) < 0 || full(fd, buf, MSG, 1) < 0)
				return 1;
			if (is_pasv) {
				buf[MSG] = '\0';
				pasv++;
				if (!data_conn(buf))
					data++;
			}
			if (nlat < 2000000)
				lat[nlat++] = now() - t;
			count++;
		}
	} else if (!strcmp(argv[1], "crr")) {
		while ((t = now()) < end) {
			fd = dial(&ss, len);
			if (full(fd, buf, MSG, 0) < 0 || full(fd, buf, MSG, 1) < 0)
				return 1;
			close(fd);
			if (nlat < 2000000)
				lat[nlat++] = now() - t;
			count++;
		}
	} else if (!strcmp(argv[1], "bulk")) {
		struct timeval tv = { .tv_sec = 30 };
		char tail[32] = "";
		int r, k, b;

		fd = dial(&ss, len);
		while (now() < end) {
			if (full(fd, buf, sizeof(buf), 0) < 0)
				return 1;
		}
		/* delivered, not accepted by send(): the server's count, the
		 * last line of what it sends back (after any echo)
		 */
		shutdown(fd, SHUT_WR);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while ((r = read(fd, buf, sizeof(buf))) > 0) {
			k = r < (int)sizeof(tail) ? r : (int)sizeof(tail);
			memmove(tail, tail + k, sizeof(tail) - k);
			memcpy(tail + sizeof(tail) - k, buf + r - k, k);
		}
		b = sizeof(tail) - 1;
		if (tail[b] != '\n')
			return 1;
		while (b > 0 && tail[b - 1] >= '0' && tail[b - 1] <= '9')
			b--;
		if (b == (int)sizeof(tail) - 1)
			return 1;
		count = strtol(tail + b, NULL, 10);
		printf("bulk %ld %.1f MB/s\n", count, count / (now() - start) / 1e6);
		return 0;
	} else {
		return 2;
	}
	if (getenv("RR_SAMPLES")) {
		FILE *f = fopen(getenv("RR_SAMPLES"), "a");
		long i;

		for (i = 0; f && i < nlat; i++)
			fprintf(f, "%.0f\n", lat[i] * 1e6);
		if (f)
			fclose(f);
	}
	qsort(lat, nlat, sizeof(lat[0]), cmp);
	printf("%s %ld %.1f/s %.0f %.0f", argv[1], count, count / (now() - start),
	       nlat ? lat[nlat / 2] * 1e6 : 0, nlat ? lat[nlat * 99 / 100] * 1e6 : 0);
	if (!strcmp(argv[1], "ftp"))
		printf(" pasv=%ld data=%ld", pasv, data);
	printf("\n");
	return 0;
}
