// SPDX-License-Identifier: GPL-2.0
/*
 * cthdiff: a sequence of nfnetlink_cthelper requests and of verdicts on
 * queued packets, and what the kernel made of each, as text that two
 * kernels' runs compare line for line (tests/progs/cthdiff-compare.py).
 *
 * The sequence comes from a byte stream: a seeded generator (-s SEED
 * -n COUNT) or a file (-i FILE, what the fuzzer hands over).  Each byte
 * is one choice, so the same bytes make the same requests on any kernel,
 * and -c FILE writes the generator's bytes out as a fuzzer seed.  A file
 * that begins with "NLRAW1" holds netlink messages as clients sent them
 * instead (see run_raw()).
 *
 * The sequence is cut into episodes that start from a known state (every
 * helper it registered deleted; before traffic, conntrack and
 * expectations flushed and what was left queued let go), so that a
 * difference allowed in one episode does not spread to the next:
 *
 *   E N                  episode N begins
 *   R N.K REQUEST -> RES request K: its form, the errno, what a GET returned
 *   S STATE              the helper table, when a request changed it
 *   Q ...                a packet queued to the helper, with its conntrack
 *   T N.K VERDICT -> RES a verdict (NFQA_CT, NFQA_EXP, payload) and its errno
 *   D ...                what the receiving socket got
 *   C ... / X ...        the conntrack and expectation tables after it
 *
 * Requests and verdicts are valid, at their bounds, or mutated: attributes
 * left out, duplicated, of the wrong length, without NLA_F_NESTED, of
 * unknown types, trailing bytes.  Timeouts, ids and counters are left out:
 * they differ between runs of the same kernel.
 *
 * Traffic (-t) needs a namespace of its own with nft: the program
 * registers helper "dq" (UDP, queue 7), assigns it to UDP to port 5000 on
 * loopback and answers the packets it queues.
 *
 * usage: cthdiff [-p] [-t] (-s SEED -n COUNT [-c SEEDFILE] | -i FILE)
 *   -p  nothing that crashes Linux 6.12.117 (see pristine_safe)
 * exit:  0 the sequence ran, 1 setup failed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfnl.h"

/* the attributes appended to 6.12's uapi (compiled against older headers) */
#define CTH_FLAGS	7
#define CTH_STATS	8

#define QNUM		7
#define DPORT		5000
#define EXP_DPORT	5001
#define SPORT		4000
#define EXP_SPORT	4001

/* The byte stream */
static struct {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t state;
	bool gen;
	FILE *rec;
} src;

static unsigned int byte(void)
{
	uint8_t b = 0;

	if (src.gen) {
		src.state ^= src.state >> 12;
		src.state ^= src.state << 25;
		src.state ^= src.state >> 27;
		b = (src.state * 0x2545f4914f6cdd1dULL) >> 56;
	} else if (src.pos < src.len) {
		b = src.buf[src.pos++];
	}
	if (src.rec)
		fputc(b, src.rec);
	return b;
}

static bool input_left(void)
{
	return src.gen || src.pos < src.len;
}

static unsigned int pick(unsigned int n)
{
	return byte() % n;
}

/* true PCT times in a hundred */
static bool chance(unsigned int pct)
{
	return byte() * 100 < pct * 256;
}

static uint32_t rand32(void)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | byte();
	return v;
}

/* One of VALS, or now and then any 32-bit value */
static uint32_t one_of(const uint32_t *vals, unsigned int n)
{
	unsigned int i = pick(n + 1);

	return i < n ? vals[i] : rand32();
}

#define ONE_OF(...) ({ static const uint32_t v_[] = { __VA_ARGS__ }; \
		       one_of(v_, sizeof(v_) / sizeof(v_[0])); })

/* A request under construction, and its description */
struct req {
	char buf[16384];
	struct nlmsghdr *nlh;
	char desc[4096];
	size_t dlen;
};

static void d(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (r->dlen < sizeof(r->desc))
		r->dlen += vsnprintf(r->desc + r->dlen,
				     sizeof(r->desc) - r->dlen, fmt, ap);
	va_end(ap);
	if (r->dlen >= sizeof(r->desc))
		r->dlen = sizeof(r->desc) - 1;
}

static void req_start(struct req *r, int subsys, int type, uint16_t flags,
		      uint8_t family, uint16_t res)
{
	struct nfgenmsg *nfg;

	memset(r->buf, 0, sizeof(r->buf));
	r->dlen = 0;
	r->desc[0] = '\0';
	r->nlh = mnl_nlmsg_put_header(r->buf);
	r->nlh->nlmsg_type = subsys << 8 | type;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nfg = mnl_nlmsg_put_extra_header(r->nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res);
}

static bool mutate;	/* requests may be malformed */
/*
 * -p: no request that crashes Linux 6.12.117, so that a differential run
 * gets through it: an NFQA_EXP without CTA_EXPECT_TUPLE or CTA_EXPECT_MASK
 * (a NULL dereference in ctnetlink_glue_attach_expect(), fixed upstream by
 * "netfilter: ctnetlink: check tuple and mask in expectations created via
 * nfqueue").  The choices are still drawn, so the byte stream is the same.
 */
static bool pristine_safe;

/*
 * Attribute TYPE with LEN bytes of DATA; when mutating, now and then with
 * a declared length other than LEN (described as ~N).
 */
static void put(struct req *r, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = mnl_nlmsg_get_payload_tail(r->nlh);
	uint16_t alen = len;

	if (mutate && chance(3)) {
		alen = pick(len + 3);
		d(r, "~%u", alen);
	}
	if (NLMSG_ALIGN(r->nlh->nlmsg_len) + NLA_HDRLEN + NLA_ALIGN(alen) >
	    sizeof(r->buf))
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + alen;
	memcpy((char *)a + NLA_HDRLEN, data, alen < len ? alen : len);
	r->nlh->nlmsg_len = NLMSG_ALIGN(r->nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void put_be32(struct req *r, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put(r, type, &v, sizeof(v));
}

static void put_be16(struct req *r, uint16_t type, uint16_t v)
{
	v = htons(v);
	put(r, type, &v, sizeof(v));
}

/* a string, NUL included, or now and then without its NUL (!0) */
static void put_str(struct req *r, uint16_t type, const char *s)
{
	bool nul = !(mutate && chance(3));

	d(r, "\"%s\"%s", s, nul ? "" : "!0");
	put(r, type, s, strlen(s) + nul);
}

static struct nlattr *nest(struct req *r, uint16_t type)
{
	struct nlattr *a = mnl_nlmsg_get_payload_tail(r->nlh);
	bool flag = !(mutate && chance(6));

	a->nla_type = type | (flag ? NLA_F_NESTED : 0);
	a->nla_len = NLA_HDRLEN;
	r->nlh->nlmsg_len = NLMSG_ALIGN(r->nlh->nlmsg_len) + NLA_HDRLEN;
	d(r, "%s{", flag ? "" : "!n");
	return a;
}

static void nest_end(struct req *r, struct nlattr *a)
{
	a->nla_len = (char *)mnl_nlmsg_get_payload_tail(r->nlh) - (char *)a;
	d(r, "}");
}

/* what now and then follows the attributes */
static void garnish(struct req *r)
{
	if (!mutate)
		return;
	if (chance(3)) {
		uint32_t v = htonl(rand32());
		unsigned int type = ONE_OF(0, 9, 100, NLA_TYPE_MASK) & NLA_TYPE_MASK;

		d(r, " unknown%u", type);
		put(r, type, &v, sizeof(v));
	}
	if (chance(3)) {
		unsigned int n = 1 + pick(7);

		d(r, " trailing%u", n);
		memset(mnl_nlmsg_get_payload_tail(r->nlh), 0xa5, n);
		r->nlh->nlmsg_len += n;
	}
}

/* Talking to the kernel */
static struct mnl_socket *nl;		/* requests */
static struct mnl_socket *qnl;		/* the helper's queue */
static char rbuf[1 << 16];

typedef void (*reply_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send R and read what comes back up to the ack, an error or the end of
 * a dump; CB sees each message with data.  The errno, 0 on success.
 */
static int talk_on(struct mnl_socket *sock, struct req *r, reply_cb cb,
		   void *data)
{
	int n, ret = 0;
	bool more = true;

	r->nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(sock, r->nlh, r->nlh->nlmsg_len) < 0)
		return -errno;
	while (more) {
		struct nlmsghdr *nlh;

		n = mnl_socket_recvfrom(sock, rbuf, sizeof(rbuf));
		if (n < 0)
			return -errno;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				ret = e->error;
				more = false;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int *e = mnl_nlmsg_get_payload(nlh);

				ret = *e;
				more = false;
				break;
			}
			if (cb)
				cb(nlh, data);
		}
	}
	/* an ack that follows the end of a dump */
	if (r->nlh->nlmsg_flags & NLM_F_DUMP) {
		n = recv(mnl_socket_get_fd(sock), rbuf, sizeof(rbuf),
			 MSG_DONTWAIT);
		(void)n;
	}
	return ret;
}

static int talk(struct req *r, reply_cb cb, void *data)
{
	return talk_on(nl, r, cb, data);
}

static const char *errname(int err)
{
	static char buf[32];
	const char *s;

	if (!err)
		return "0";
	s = strerrorname_np(-err);
	if (s)
		snprintf(buf, sizeof(buf), "-%s", s);
	else
		snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

/* Text: a growing line */
struct text {
	char s[8192];
	size_t n;
};

static void t_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->n >= sizeof(t->s) - 1)
		return;
	va_start(ap, fmt);
	t->n += vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	if (t->n >= sizeof(t->s))
		t->n = sizeof(t->s) - 1;
}

static uint32_t attr_be32(const struct nlattr *a)
{
	return mnl_attr_get_payload_len(a) >= 4 ?
	       ntohl(mnl_attr_get_u32(a)) : 0xdeadbeef;
}

/* A helper as GET and dumps show it: its attributes in their order */
static void helper_text(const struct nlmsghdr *nlh, struct text *t)
{
	const struct nlattr *a, *b, *c;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFCTH_NAME:
			t_add(t, "name=%.*s ", (int)mnl_attr_get_payload_len(a),
			      (const char *)mnl_attr_get_payload(a));
			break;
		case NFCTH_TUPLE:
			t_add(t, "tuple=");
			mnl_attr_for_each_nested(b, a)
				t_add(t, "%u:%u,", mnl_attr_get_type(b),
				      mnl_attr_get_type(b) == NFCTH_TUPLE_L3PROTONUM ?
				      ntohs(mnl_attr_get_u16(b)) :
				      mnl_attr_get_u8(b));
			t_add(t, " ");
			break;
		case NFCTH_QUEUE_NUM:
			t_add(t, "queue=%u ", attr_be32(a));
			break;
		case NFCTH_POLICY:
			t_add(t, "policy=");
			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_get_type(b) == NFCTH_POLICY_SET_NUM) {
					t_add(t, "num:%u,", attr_be32(b));
					continue;
				}
				t_add(t, "set%u(", mnl_attr_get_type(b) - 1);
				mnl_attr_for_each_nested(c, b) {
					if (mnl_attr_get_type(c) == NFCTH_POLICY_NAME)
						t_add(t, "%s,", mnl_attr_get_str(c));
					else
						t_add(t, "%u:%u,",
						      mnl_attr_get_type(c),
						      attr_be32(c));
				}
				t_add(t, "),");
			}
			t_add(t, " ");
			break;
		case NFCTH_PRIV_DATA_LEN:
			t_add(t, "priv=%u ", attr_be32(a));
			break;
		case NFCTH_STATUS:
			t_add(t, "status=%u ", attr_be32(a));
			break;
		default:
			/* appended to the uapi: shown, values aside */
			t_add(t, "+attr%u ", mnl_attr_get_type(a));
			break;
		}
	}
	if (t->n && t->s[t->n - 1] == ' ')
		t->s[--t->n] = '\0';
}

/* the helpers a dump or GET returned, one "[...]" each, in their order */
struct helpers {
	char lines[256][512];
	unsigned int n;
};

static void collect_helper(const struct nlmsghdr *nlh, void *data)
{
	struct helpers *h = data;
	struct text t = {};

	if (h->n >= 256)
		return;
	helper_text(nlh, &t);
	snprintf(h->lines[h->n++], sizeof(h->lines[0]), "[%.500s]", t.s);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(a, b);
}

static char state[sizeof(((struct helpers *)0)->lines)];

/* S line: the helper table, sorted (dumps differ in order by design) */
static void print_state(bool force)
{
	static struct helpers h;
	struct text t = {};
	struct req r;
	unsigned int i;
	int ret;

	h.n = 0;
	req_start(&r, NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_GET, NLM_F_DUMP,
		  AF_UNSPEC, 0);
	ret = talk(&r, collect_helper, &h);
	qsort(h.lines, h.n, sizeof(h.lines[0]), cmp_lines);
	for (i = 0; i < h.n; i++)
		t_add(&t, "%s%s", i ? " " : "", h.lines[i]);
	if (ret)
		t_add(&t, " dump %s", errname(ret));
	if (!force && !strcmp(state, t.s))
		return;
	snprintf(state, sizeof(state), "%s", t.s);
	printf("S %s\n", t.s);
}

/* Generated requests */
static const char *const names[] = {
	"h1", "h1", "h1", "h2", "ftp", "", "abcdefghijklmno",
	"abcdefghijklmnop",
};
static const char *const class_names[] = {
	"c", "c", "d", "", "abcdefghijklmno", "abcdefghijklmnop",
};

static void gen_name(struct req *r)
{
	d(r, " name=");
	put_str(r, NFCTH_NAME, names[pick(sizeof(names) / sizeof(names[0]))]);
}

static void gen_tuple(struct req *r, bool full)
{
	struct nlattr *n;
	uint16_t l3 = ONE_OF(NFPROTO_IPV4, NFPROTO_IPV4, NFPROTO_IPV4,
			     NFPROTO_IPV6, 0, 7);
	uint8_t l4 = ONE_OF(IPPROTO_UDP, IPPROTO_UDP, IPPROTO_TCP,
			    IPPROTO_SCTP, 0);

	d(r, " tuple");
	n = nest(r, NFCTH_TUPLE);
	if (!full && chance(10)) {
		d(r, "none");
	} else {
		if (!mutate || !chance(5)) {
			d(r, "l3=%u", l3);
			put_be16(r, NFCTH_TUPLE_L3PROTONUM, l3);
		}
		if (!mutate || !chance(5)) {
			d(r, ",l4=%u", l4);
			put(r, NFCTH_TUPLE_L4PROTONUM, &l4, sizeof(l4));
		}
	}
	nest_end(r, n);
}

static void gen_policy(struct req *r)
{
	uint32_t num = ONE_OF(1, 1, 1, 2, 4, 0, 5);
	unsigned int sets = chance(75) ? (num <= 5 ? num : 1) : pick(6);
	struct nlattr *p, *s;
	unsigned int i;

	d(r, " policy");
	p = nest(r, NFCTH_POLICY);
	if (!chance(5)) {
		d(r, "num=%u", num);
		put_be32(r, NFCTH_POLICY_SET_NUM, num);
	}
	for (i = 0; i < sets; i++) {
		d(r, ",set%u", i + 1);
		s = nest(r, NFCTH_POLICY_SET + i);
		if (!chance(5)) {
			d(r, "name=");
			put_str(r, NFCTH_POLICY_NAME,
				class_names[pick(sizeof(class_names) /
						 sizeof(class_names[0]))]);
		}
		if (!chance(5)) {
			uint32_t v = ONE_OF(1, 8, 8, 0, 255, 256);

			d(r, ",max=%u", v);
			put_be32(r, NFCTH_POLICY_EXPECT_MAX, v);
		}
		if (!chance(5)) {
			uint32_t v = ONE_OF(30, 30, 1, 0, 300, 0x7fffffff,
					    0xffffffff);

			d(r, ",timeout=%u", v);
			put_be32(r, NFCTH_POLICY_EXPECT_TIMEOUT, v);
		}
		nest_end(r, s);
	}
	nest_end(r, p);
}

static void gen_new(struct req *r)
{
	static const uint16_t flags[] = {
		NLM_F_CREATE, NLM_F_CREATE, 0, NLM_F_CREATE | NLM_F_EXCL,
		NLM_F_EXCL, NLM_F_REPLACE,
	};
	uint16_t f = flags[pick(6)];

	req_start(r, NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_NEW, f,
		  AF_UNSPEC, 0);
	d(r, "NEW flags=%#x", f);
	if (chance(95))
		gen_name(r);
	if (chance(90))
		gen_tuple(r, true);
	if (chance(60)) {
		uint32_t v = ONE_OF(0, 0, 1, 7, 65535, 65536);

		d(r, " queue=%u", v);
		put_be32(r, NFCTH_QUEUE_NUM, v);
	}
	if (chance(85))
		gen_policy(r);
	if (chance(85)) {
		uint32_t v = ONE_OF(0, 0, 8, 32, 33);

		d(r, " priv=%u", v);
		put_be32(r, NFCTH_PRIV_DATA_LEN, v);
	}
	if (chance(60)) {
		uint32_t v = ONE_OF(1, 1, 0, 2);

		d(r, " status=%u", v);
		put_be32(r, NFCTH_STATUS, v);
	}
	if (chance(8)) {
		uint32_t v = ONE_OF(0, 1, 2, 3, 4);

		d(r, " flags_attr=%u", v);
		put_be32(r, CTH_FLAGS, v);
	}
	if (chance(3)) {
		struct nlattr *n;

		d(r, " stats_attr");
		n = nest(r, CTH_STATS);
		nest_end(r, n);
	}
	if (mutate && chance(3))
		gen_name(r);
}

static void gen_lookup(struct req *r, int type, uint16_t flags)
{
	req_start(r, NFNL_SUBSYS_CTHELPER, type, flags, AF_UNSPEC, 0);
	d(r, "%s flags=%#x", type == NFNL_MSG_CTHELPER_GET ? "GET" : "DEL",
	  flags);
	if (chance(70))
		gen_name(r);
	if (chance(40))
		gen_tuple(r, false);
}


static unsigned int episode, requests;

/* R line: one generated request, its errno, what it returned */
static void run_request(void)
{
	static struct helpers replies;
	static struct req r;
	struct text got = {};
	unsigned int what = pick(20), i;
	int ret;

	if (what < 9)
		gen_new(&r);
	else if (what < 14)
		gen_lookup(&r, NFNL_MSG_CTHELPER_GET, chance(30) ? NLM_F_DUMP : 0);
	else if (what < 19)
		gen_lookup(&r, NFNL_MSG_CTHELPER_DEL, 0);
	else {
		unsigned int type = ONE_OF(NFNL_MSG_CTHELPER_MAX, 7);

		req_start(&r, NFNL_SUBSYS_CTHELPER, type, 0, AF_UNSPEC, 0);
		d(&r, "TYPE%u", type);
		gen_name(&r);
	}
	garnish(&r);
	if (chance(5)) {
		struct nfgenmsg *nfg = mnl_nlmsg_get_payload(r.nlh);

		nfg->nfgen_family = ONE_OF(AF_INET, AF_INET6, 7);
		d(&r, " family=%u", nfg->nfgen_family);
	}
	replies.n = 0;
	ret = talk(&r, collect_helper, &replies);
	/* a dump in a stable order (the state lines explain why) */
	if (r.nlh->nlmsg_flags & NLM_F_DUMP)
		qsort(replies.lines, replies.n, sizeof(replies.lines[0]),
		      cmp_lines);
	for (i = 0; i < replies.n; i++)
		t_add(&got, " %s", replies.lines[i]);
	requests++;
	printf("R %u.%u %s -> %s%s\n", episode, requests, r.desc, errname(ret),
	       got.s);
	print_state(false);
}

/* Every helper the sequence registered goes; "dq" stays, in use */
static void reset_helpers(void)
{
	static struct req r;

	req_start(&r, NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_DEL, 0,
		  AF_UNSPEC, 0);
	talk(&r, NULL, NULL);
}

/* Traffic */
static int cli, cli_exp, srv, srv_exp;
static bool traffic;
/* waits for packets, in ms: how long a packet that may come gets, and
 * one that must come (the fuzzer shortens them: speed over a steady
 * transcript)
 */
static int may_wait = 30, must_wait = 1000;

static int udp_socket(uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_udp(int fd, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	/* never blocks: a packet that stays queued holds the socket's memory */
	if (sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sin,
		   sizeof(sin)) < 0)
		printf("send: %s\n", errname(-errno));
}

static void print_tuple(struct text *t, const struct nlattr *tuple)
{
	const struct nlattr *a, *b;
	char ip[64];

	t_add(t, "(");
	mnl_attr_for_each_nested(a, tuple) {
		mnl_attr_for_each_nested(b, a) {
			switch (mnl_attr_get_type(a) << 8 | mnl_attr_get_type(b)) {
			case CTA_TUPLE_IP << 8 | CTA_IP_V4_SRC:
			case CTA_TUPLE_IP << 8 | CTA_IP_V4_DST:
				inet_ntop(AF_INET, mnl_attr_get_payload(b), ip,
					  sizeof(ip));
				t_add(t, "%s,", ip);
				break;
			case CTA_TUPLE_PROTO << 8 | CTA_PROTO_NUM:
				t_add(t, "p%u,", mnl_attr_get_u8(b));
				break;
			case CTA_TUPLE_PROTO << 8 | CTA_PROTO_SRC_PORT:
			case CTA_TUPLE_PROTO << 8 | CTA_PROTO_DST_PORT:
				t_add(t, "%u,", ntohs(mnl_attr_get_u16(b)));
				break;
			default:
				t_add(t, "%u.%u,", mnl_attr_get_type(a),
				      mnl_attr_get_type(b));
			}
		}
	}
	t_add(t, ")");
}

/* a conntrack (NFQA_CT or a ctnetlink message), what does not vary */
static void ct_text(struct text *t, const struct nlattr *first, size_t len)
{
	const struct nlattr *attr, *a, *b;

	mnl_attr_for_each_payload(first, len) {
		unsigned int type = mnl_attr_get_type(attr);

		a = attr;

		switch (type) {
		case CTA_TUPLE_ORIG:
		case CTA_TUPLE_REPLY:
		case CTA_TUPLE_MASTER:
			t_add(t, " %s", type == CTA_TUPLE_ORIG ? "orig" :
			      type == CTA_TUPLE_REPLY ? "reply" : "master");
			print_tuple(t, a);
			break;
		case CTA_STATUS:
			t_add(t, " status=%#x", attr_be32(a));
			break;
		case CTA_MARK:
			t_add(t, " mark=%#x", attr_be32(a));
			break;
		case CTA_HELP:
			mnl_attr_for_each_nested(b, a)
				if (mnl_attr_get_type(b) == CTA_HELP_NAME)
					t_add(t, " helper=%s",
					      mnl_attr_get_str(b));
			break;
		case CTA_ZONE:
			t_add(t, " zone=%u", ntohs(mnl_attr_get_u16(a)));
			break;
		case CTA_LABELS: {
			const uint8_t *p = mnl_attr_get_payload(a);
			unsigned int i;

			t_add(t, " labels=");
			for (i = 0; i < mnl_attr_get_payload_len(a); i++)
				t_add(t, "%02x", p[i]);
			break;
		}
		default:
			break;
		}
	}
}

static void exp_text(struct text *t, const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		unsigned int type = mnl_attr_get_type(a);

		switch (type) {
		case CTA_EXPECT_MASTER:
		case CTA_EXPECT_TUPLE:
		case CTA_EXPECT_MASK:
			t_add(t, " %s", type == CTA_EXPECT_MASTER ? "master" :
			      type == CTA_EXPECT_TUPLE ? "tuple" : "mask");
			print_tuple(t, a);
			break;
		case CTA_EXPECT_FLAGS:
		case CTA_EXPECT_CLASS:
			t_add(t, " %s=%u", type == CTA_EXPECT_FLAGS ?
			      "flags" : "class", attr_be32(a));
			break;
		case CTA_EXPECT_HELP_NAME:
		case CTA_EXPECT_FN:
			t_add(t, " %s=%s", type == CTA_EXPECT_FN ? "fn" : "helper",
			      mnl_attr_get_str(a));
			break;
		case CTA_EXPECT_TIMEOUT:
		case CTA_EXPECT_ID:
			break;
		default:
			t_add(t, " attr%u", type);
		}
	}
}

struct table {
	char lines[64][1024];
	unsigned int n;
};

static void collect_ct(const struct nlmsghdr *nlh, void *data)
{
	struct table *tb = data;
	struct text t = {};

	if (tb->n >= 64)
		return;
	if ((nlh->nlmsg_type >> 8) == NFNL_SUBSYS_CTNETLINK)
		ct_text(&t, mnl_nlmsg_get_payload_offset(nlh,
							 sizeof(struct nfgenmsg)),
			mnl_nlmsg_get_payload_len(nlh) - sizeof(struct nfgenmsg));
	else
		exp_text(&t, nlh);
	snprintf(tb->lines[tb->n++], sizeof(tb->lines[0]), "%.1000s", t.s);
}

/* C and X lines: the conntrack and expectation tables, sorted */
static void print_tables(void)
{
	static struct table tb;
	static struct req r;
	unsigned int i, k;

	for (k = 0; k < 2; k++) {
		tb.n = 0;
		if (k == 0)
			req_start(&r, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
				  NLM_F_DUMP, AF_INET, 0);
		else
			req_start(&r, NFNL_SUBSYS_CTNETLINK_EXP,
				  IPCTNL_MSG_EXP_GET, NLM_F_DUMP, AF_INET, 0);
		talk(&r, collect_ct, &tb);
		qsort(tb.lines, tb.n, sizeof(tb.lines[0]), cmp_lines);
		for (i = 0; i < tb.n; i++)
			printf("%c%s\n", k ? 'X' : 'C', tb.lines[i]);
	}
}

static void flush_tables(void)
{
	static struct req r;

	req_start(&r, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, 0,
		  AF_INET, 0);
	talk(&r, NULL, NULL);
	req_start(&r, NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_DELETE, 0,
		  AF_INET, 0);
	talk(&r, NULL, NULL);
}

/* a packet the queue handed over */
struct queued {
	uint32_t id;
	uint8_t payload[2048];
	size_t len;
};

/* packets queued while a verdict waited for its ack, in their order */
static struct {
	char msg[16][4096];
	unsigned int head, tail;
} stash;

static void stash_packet(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (stash.tail - stash.head >= 16 || nlh->nlmsg_len > 4096) {
		fprintf(stderr, "cthdiff: a queued packet lost from the stash\n");
		return;
	}
	memcpy(stash.msg[stash.tail++ % 16], nlh, nlh->nlmsg_len);
}

static bool quiet;

/* Q line: a packet of the helper's queue; false when NLH is none */
static bool parse_queued(const struct nlmsghdr *nlh, struct queued *q)
{
	const struct nlattr *a, *ct = NULL, *info = NULL, *pl = NULL;
	const struct nfqnl_msg_packet_hdr *ph = NULL;
	struct text t = {};

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE ||
	    (nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFQA_PACKET_HDR:
			ph = mnl_attr_get_payload(a);
			break;
		case NFQA_CT:
			ct = a;
			break;
		case NFQA_CT_INFO:
			info = a;
			break;
		case NFQA_PAYLOAD:
			pl = a;
			break;
		}
	}
	if (!ph)
		return false;
	q->id = ntohl(ph->packet_id);
	q->len = 0;
	if (pl) {
		q->len = mnl_attr_get_payload_len(pl);
		if (q->len > sizeof(q->payload))
			q->len = sizeof(q->payload);
		memcpy(q->payload, mnl_attr_get_payload(pl), q->len);
	}
	if (quiet)
		return true;
	if (ct)
		ct_text(&t, mnl_attr_get_payload(ct),
			mnl_attr_get_payload_len(ct));
	else
		t_add(&t, " noct");
	printf("Q len=%zu ctinfo=%d%s\n", q->len,
	       info ? (int)attr_be32(info) : -1, t.s);
	return true;
}

/* Wait up to MS for a packet of the helper's queue: true when one came */
static bool next_queued(struct queued *q, int ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(qnl), .events = POLLIN };
	int n;

	if (stash.head != stash.tail)
		return parse_queued((struct nlmsghdr *)stash.msg[stash.head++ % 16],
				    q);
	if (poll(&pfd, 1, ms) <= 0)
		return false;
	n = recv(pfd.fd, rbuf, sizeof(rbuf), 0);
	if (n < (int)sizeof(struct nlmsghdr))
		return false;
	return parse_queued((struct nlmsghdr *)rbuf, q);
}

/* a packet already waiting, taken without a Q line */
static bool next_queued_quiet(struct queued *q)
{
	bool got;

	quiet = true;
	got = next_queued(q, 0);
	quiet = false;
	return got;
}

/* verdicts come from the socket bound to the queue */
static int verdict(struct req *r)
{
	return talk_on(qnl, r, stash_packet, NULL);
}

static void accept_packet(struct queued *q)
{
	static struct req r;
	struct nfqnl_msg_verdict_hdr vh = {
		.verdict = htonl(NF_ACCEPT),
		.id = htonl(q->id),
	};

	bool was = mutate;

	/* draws nothing from the input: how many packets come is timing */
	mutate = false;
	req_start(&r, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT, 0, AF_UNSPEC,
		  QNUM);
	put(&r, NFQA_VERDICT_HDR, &vh, sizeof(vh));
	verdict(&r);
	mutate = was;
}

/* accept whatever else the queue holds, once nothing came for MS */
static void pump(int ms)
{
	struct queued q;

	while (next_queued(&q, ms))
		accept_packet(&q);
}

/* D line: what the socket FD received */
static void print_delivered(int fd, const char *what)
{
	uint8_t buf[4096];
	unsigned int sum, i;
	ssize_t n;
	bool any = false;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		for (sum = 0, i = 0; i < n; i++)
			sum = sum * 31 + buf[i];
		printf("D %s len=%zd sum=%08x\n", what, n, sum);
		any = true;
	}
	if (!any)
		printf("D %s none\n", what);
}

static void put_ip(struct req *r, uint16_t type, uint32_t addr)
{
	addr = htonl(addr);
	put(r, type, &addr, sizeof(addr));
}

/* an expectation tuple (or mask, MASK set) for the expected flow */
static void gen_exp_tuple(struct req *r, uint16_t type, bool mask)
{
	struct nlattr *t, *n;
	uint32_t any = mask ? 0xffffffff : INADDR_LOOPBACK;

	d(r, " %s", mask ? "mask" : "tuple");
	t = nest(r, type);
	if (chance(95)) {
		n = nest(r, CTA_TUPLE_IP);
		if (chance(95)) {
			uint32_t v = chance(85) ? any : rand32();

			d(r, "src=%#x", v);
			put_ip(r, CTA_IP_V4_SRC, v);
		}
		if (chance(95)) {
			uint32_t v = chance(90) ? any : rand32();

			d(r, ",dst=%#x", v);
			put_ip(r, CTA_IP_V4_DST, v);
		}
		nest_end(r, n);
	}
	if (chance(95)) {
		uint8_t proto = chance(90) ? IPPROTO_UDP : ONE_OF(IPPROTO_TCP, 0);

		n = nest(r, CTA_TUPLE_PROTO);
		if (chance(95)) {
			d(r, "p%u", proto);
			put(r, CTA_PROTO_NUM, &proto, 1);
		}
		if (chance(90)) {
			uint16_t v = mask ? ONE_OF(0xffff, 0xffff, 0) :
					    ONE_OF(EXP_SPORT, EXP_SPORT, 0);

			d(r, ",sport=%u", v);
			put_be16(r, CTA_PROTO_SRC_PORT, v);
		}
		if (chance(95)) {
			uint16_t v = mask ? ONE_OF(0xffff, 0xffff, 0) :
					    ONE_OF(EXP_DPORT, EXP_DPORT, 1);

			d(r, ",dport=%u", v);
			put_be16(r, CTA_PROTO_DST_PORT, v);
		}
		nest_end(r, n);
	}
	nest_end(r, t);
}

static void gen_verdict_ct(struct req *r)
{
	struct nlattr *n, *h;

	d(r, " ct");
	n = nest(r, NFQA_CT);
	if (chance(40)) {
		uint32_t v = ONE_OF(1, 0x42, 0);

		d(r, "mark=%#x,", v);
		put_be32(r, CTA_MARK, v);
	}
	if (chance(15)) {
		uint32_t v = ONE_OF(IPS_ASSURED, 0, IPS_SEEN_REPLY);

		d(r, "status=%#x,", v);
		put_be32(r, CTA_STATUS, v);
	}
	if (chance(20)) {
		uint32_t v = ONE_OF(30, 0, 300);

		d(r, "timeout=%u,", v);
		put_be32(r, CTA_TIMEOUT, v);
	}
	if (chance(10)) {
		uint8_t labels[16] = {};

		labels[0] = byte();
		labels[15] = byte();

		d(r, "labels=%02x..%02x,", labels[0], labels[15]);
		put(r, CTA_LABELS, labels, sizeof(labels));
	}
	if (chance(5)) {
		d(r, "help");
		h = nest(r, CTA_HELP);
		d(r, "name=");
		put_str(r, CTA_HELP_NAME, chance(50) ? "dq" : "x");
		nest_end(r, h);
	}
	nest_end(r, n);
}

static void gen_verdict_exp(struct req *r)
{
	struct nlattr *n;

	d(r, " exp");
	n = nest(r, NFQA_EXP);
	if (chance(90) || pristine_safe)
		gen_exp_tuple(r, CTA_EXPECT_TUPLE, false);
	if (chance(85) || pristine_safe)
		gen_exp_tuple(r, CTA_EXPECT_MASK, true);
	if (chance(70)) {
		uint32_t v = ONE_OF(30, 30, 0, 1, 0xffffffff);

		d(r, " timeout=%u", v);
		put_be32(r, CTA_EXPECT_TIMEOUT, v);
	}
	if (chance(25)) {
		uint32_t v = ONE_OF(0, 1, 4);

		d(r, " class=%u", v);
		put_be32(r, CTA_EXPECT_CLASS, v);
	}
	if (chance(25)) {
		uint32_t v = ONE_OF(0, NF_CT_EXPECT_PERMANENT,
				    NF_CT_EXPECT_INACTIVE,
				    NF_CT_EXPECT_USERSPACE);

		d(r, " flags=%#x", v);
		put_be32(r, CTA_EXPECT_FLAGS, v);
	}
	if (chance(15)) {
		d(r, " helper=");
		put_str(r, CTA_EXPECT_HELP_NAME, chance(60) ? "dq" : "nope");
	}
	if (chance(5)) {
		d(r, " fn=");
		put_str(r, CTA_EXPECT_FN, chance(50) ? "sip" : "x");
	}
	if (chance(3)) {
		d(r, " zone=1");
		put_be16(r, CTA_EXPECT_ZONE, 1);
	}
	nest_end(r, n);
}

static const char *verdict_name(uint32_t v)
{
	static const char *const vnames[] = {
		"DROP", "ACCEPT", "STOLEN", "QUEUE", "REPEAT", "STOP",
	};
	static char buf[16];

	if (v < sizeof(vnames) / sizeof(vnames[0]))
		return vnames[v];
	snprintf(buf, sizeof(buf), "v=%#x", v);
	return buf;
}

/* T line: a generated verdict on Q; true when it asked for an expectation */
static bool run_verdict(struct queued *q)
{
	static struct req r;
	struct nfqnl_msg_verdict_hdr vh;
	bool exp = false;
	uint32_t v;
	int ret;

	req_start(&r, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT, 0, AF_UNSPEC, QNUM);
	v = ONE_OF(NF_ACCEPT, NF_ACCEPT, NF_ACCEPT, NF_ACCEPT, NF_ACCEPT,
		   NF_DROP, NF_REPEAT, NF_STOP, NF_STOLEN, NF_QUEUE, 7);
	vh.verdict = htonl(v);
	vh.id = htonl(q->id + (chance(4) ? 1 : 0));
	d(&r, "VERDICT %s id%s", verdict_name(v),
	  ntohl(vh.id) == q->id ? "" : "+1");
	put(&r, NFQA_VERDICT_HDR, &vh, sizeof(vh));
	if (chance(10)) {
		uint32_t m = ONE_OF(0, 5);

		d(&r, " nfmark=%u", m);
		put_be32(&r, NFQA_MARK, m);
	}
	if (chance(45))
		gen_verdict_ct(&r);
	if (chance(50)) {
		gen_verdict_exp(&r);
		exp = true;
	}
	if (chance(30)) {
		uint8_t pl[2048];
		size_t len = q->len;

		unsigned int how = pick(4);

		/* a UDP datagram of ours: at least the headers, never big */
		if (len < 28 || len > sizeof(pl) - 20)
			how = 0;
		memcpy(pl, q->payload, len);
		switch (how) {
		case 0:
			d(&r, " payload=same");
			break;
		case 1:
			pl[len - 1] ^= 0x20;
			d(&r, " payload=flip");
			break;
		case 2:
			memset(pl + len, 'x', 20);
			len += 1 + pick(20);
			d(&r, " payload=+%zu", len - q->len);
			break;
		default:
			len = 28 + pick(len - 27);
			d(&r, " payload=%zu", len);
			break;
		}
		put(&r, NFQA_PAYLOAD, pl, len);
	}
	garnish(&r);
	ret = verdict(&r);
	requests++;
	printf("T %u.%u %s -> %s\n", episode, requests, r.desc, errname(ret));
	/* a refused verdict leaves the packet queued: let it go */
	if (ret)
		accept_packet(q);
	return exp;
}

static const char message[] = "PORT 127,0,0,1,19,137\r\n";

/* A flow to port 5000: its first packet answered by the generator */
static void run_traffic(void)
{
	struct queued q;
	bool exp = false;

	/* what an earlier episode left queued goes, unprinted */
	while (next_queued_quiet(&q))
		accept_packet(&q);
	flush_tables();
	send_udp(cli, DPORT, message, sizeof(message) - 1 - pick(10));
	if (next_queued(&q, must_wait))
		exp = run_verdict(&q);
	else
		printf("Q none\n");
	pump(may_wait);
	print_delivered(srv, "5000");
	print_tables();
	if (exp) {
		send_udp(cli_exp, EXP_DPORT, "expected", 8);
		pump(may_wait);
		print_delivered(srv_exp, "5001");
		print_tables();
	}
	/* the flow's next packet: what the verdict left in its conntrack */
	send_udp(cli, DPORT, "next", 4);
	if (!next_queued(&q, 2 * must_wait))
		printf("Q none\n");
	else
		accept_packet(&q);
	pump(may_wait);
	print_delivered(srv, "5000");
}

static int setup_traffic(void)
{
	struct nfqnl_msg_config_params params = {
		.copy_range = htonl(0xffff),
		.copy_mode = NFQNL_COPY_PACKET,
	};
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	static struct req r;
	struct nlattr *n, *s;
	uint8_t l4 = IPPROTO_UDP;
	FILE *nft;
	int ret;

	/* the helper, unmutated */
	req_start(&r, NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_NEW,
		  NLM_F_CREATE, AF_UNSPEC, 0);
	put(&r, NFCTH_NAME, "dq", 3);
	n = nest(&r, NFCTH_TUPLE);
	put_be16(&r, NFCTH_TUPLE_L3PROTONUM, NFPROTO_IPV4);
	put(&r, NFCTH_TUPLE_L4PROTONUM, &l4, 1);
	nest_end(&r, n);
	put_be32(&r, NFCTH_QUEUE_NUM, QNUM);
	n = nest(&r, NFCTH_POLICY);
	put_be32(&r, NFCTH_POLICY_SET_NUM, 1);
	s = nest(&r, NFCTH_POLICY_SET);
	put(&r, NFCTH_POLICY_NAME, "c", 2);
	put_be32(&r, NFCTH_POLICY_EXPECT_MAX, 8);
	put_be32(&r, NFCTH_POLICY_EXPECT_TIMEOUT, 30);
	nest_end(&r, s);
	nest_end(&r, n);
	put_be32(&r, NFCTH_PRIV_DATA_LEN, 0);
	put_be32(&r, NFCTH_STATUS, NFCT_HELPER_STATUS_ENABLED);
	ret = talk(&r, NULL, NULL);
	if (ret) {
		fprintf(stderr, "helper dq: %s\n", strerror(-ret));
		return -1;
	}

	qnl = mnl_socket_open(NETLINK_NETFILTER);
	if (!qnl || mnl_socket_bind(qnl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	req_start(&r, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0, AF_UNSPEC, QNUM);
	put(&r, NFQA_CFG_CMD, &cmd, sizeof(cmd));
	if (nfnl_talk(qnl, r.nlh))
		return -1;
	req_start(&r, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0, AF_UNSPEC, QNUM);
	put(&r, NFQA_CFG_PARAMS, &params, sizeof(params));
	put_be32(&r, NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK);
	put_be32(&r, NFQA_CFG_MASK, NFQA_CFG_F_CONNTRACK);
	if (nfnl_talk(qnl, r.nlh))
		return -1;

	nft = popen("nft -f -", "w");
	if (!nft)
		return -1;
	fprintf(nft,
		"table ip cthdiff {\n"
		"	ct helper dq { type \"dq\" protocol udp; }\n"
		"	chain out {\n"
		"		type filter hook output priority filter;\n"
		"		udp dport %u ct helper set \"dq\"\n"
		"	}\n"
		"}\n", DPORT);
	if (pclose(nft))
		return -1;
	cli = udp_socket(SPORT);
	cli_exp = udp_socket(EXP_SPORT);
	srv = udp_socket(DPORT);
	srv_exp = udp_socket(EXP_DPORT);
	if (cli < 0 || cli_exp < 0 || srv < 0 || srv_exp < 0)
		return -1;
	return 0;
}

/*
 * Raw messages: an input that begins with RAW_MAGIC is not decoded into
 * generated requests but holds netlink messages as a client sent them
 * (tests/progs/fuzz-seeds.sh records what nfct and conntrackd send), each
 * as a record: a target byte, a length (16 bits, big endian), the bytes.
 * Target 0 goes to the request socket.  Target 1 is a verdict (with -t):
 * a packet of a new flow is queued to "dq" first, and the message's queue
 * number and NFQA_VERDICT_HDR id become that packet's.  The message's
 * nlmsg_len is the record's length and NLM_F_ACK is set, so that every
 * message is answered.
 *
 * Each raw input is one episode from the usual known state:
 *
 *   W N.K target=T type=SUBSYS/MSG len=L -> RES (+M messages)
 */
#define RAW_MAGIC	"NLRAW1"

static bool raw_input(void)
{
	return !src.gen && src.len >= sizeof(RAW_MAGIC) - 1 &&
	       !memcmp(src.buf, RAW_MAGIC, sizeof(RAW_MAGIC) - 1);
}

static void count_reply(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(unsigned int *)data;
}

/* the verdict header of raw message R, if it has one at the top level */
static struct nfqnl_msg_verdict_hdr *raw_verdict_hdr(struct req *r)
{
	struct nlattr *a;

	if (r->nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return NULL;
	mnl_attr_for_each(a, r->nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR &&
		    mnl_attr_get_payload_len(a) >=
		    sizeof(struct nfqnl_msg_verdict_hdr))
			return mnl_attr_get_payload(a);
	return NULL;
}

static void run_raw(void)
{
	static struct req r;
	struct timeval tv = { .tv_sec = 5 };

	/* an answer that never comes fails the message, not the run */
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (traffic)
		setsockopt(mnl_socket_get_fd(qnl), SOL_SOCKET, SO_RCVTIMEO,
			   &tv, sizeof(tv));
	src.pos = sizeof(RAW_MAGIC) - 1;
	episode++;
	printf("E %u raw\n", episode);
	reset_helpers();
	print_state(true);
	while (src.pos + 3 <= src.len) {
		unsigned int target = byte(), len = byte() << 8, replies = 0;
		struct nfqnl_msg_verdict_hdr *vh;
		struct nfgenmsg *nfg;
		struct queued q;
		int ret;

		len |= byte();
		if (len > src.len - src.pos)
			len = src.len - src.pos;
		memset(r.buf, 0, sizeof(r.buf));
		memcpy(r.buf, src.buf + src.pos,
		       len < sizeof(r.buf) ? len : sizeof(r.buf));
		src.pos += len;
		if (len > sizeof(r.buf))
			len = sizeof(r.buf);
		if (len < NLMSG_HDRLEN)
			len = NLMSG_HDRLEN;
		r.nlh = (struct nlmsghdr *)r.buf;
		r.nlh->nlmsg_len = len;
		requests++;
		snprintf(r.desc, sizeof(r.desc),
			 "W %u.%u target=%u type=%u/%u len=%u", episode,
			 requests, target & 1, r.nlh->nlmsg_type >> 8,
			 r.nlh->nlmsg_type & 0xff, len);
		if (target & 1) {
			if (!traffic) {
				printf("%s -> skipped (no traffic)\n", r.desc);
				continue;
			}
			flush_tables();
			send_udp(cli, DPORT, message, sizeof(message) - 1);
			if (!next_queued(&q, must_wait)) {
				printf("Q none\n%s -> skipped\n", r.desc);
				continue;
			}
			nfg = mnl_nlmsg_get_payload(r.nlh);
			nfg->res_id = htons(QNUM);
			vh = raw_verdict_hdr(&r);
			if (vh)
				vh->id = htonl(q.id);
			ret = verdict(&r);
			printf("%s -> %s\n", r.desc, errname(ret));
			if (ret)
				accept_packet(&q);
			pump(may_wait);
			print_delivered(srv, "5000");
			print_tables();
			continue;
		}
		ret = talk(&r, count_reply, &replies);
		printf("%s -> %s (+%u messages)\n", r.desc, errname(ret),
		       replies);
		print_state(false);
	}
}

/* Run the sequence until COUNT requests (or the input's end) */
static void run(unsigned long count)
{
	if (raw_input()) {
		run_raw();
		return;
	}
	while (requests < count && input_left()) {
		unsigned int k, n;

		episode++;
		/* whole episodes out, so a run cut short shows where it was */
		fflush(stdout);
		printf("E %u\n", episode);
		reset_helpers();
		mutate = chance(50);
		print_state(true);
		if (chance(25) && traffic) {
			run_traffic();
			continue;
		}
		n = 1 + pick(6);
		for (k = 0; k < n && input_left(); k++)
			run_request();
	}
}

static int open_nl(void)
{
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return -1;
	}
	return 0;
}

#ifndef CTHDIFF_NO_MAIN
int main(int argc, char *argv[])
{
	unsigned long count = 0;
	const char *seedfile = NULL, *input = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "pts:n:c:i:")) != -1) {
		switch (opt) {
		case 'p':
			pristine_safe = true;
			break;
		case 't':
			traffic = true;
			break;
		case 's':
			src.gen = true;
			src.state = strtoull(optarg, NULL, 0) * 2 + 1;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			seedfile = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (src.gen == !!input || (src.gen && !count))
		goto usage;
	if (input) {
		static uint8_t buf[1 << 20];
		FILE *f = fopen(input, "r");

		if (!f) {
			perror(input);
			return 1;
		}
		src.len = fread(buf, 1, sizeof(buf), f);
		src.buf = buf;
		fclose(f);
		count = ~0UL;
	}
	if (seedfile) {
		src.rec = fopen(seedfile, "w");
		if (!src.rec) {
			perror(seedfile);
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (open_nl() || (traffic && setup_traffic())) {
		fprintf(stderr, "cthdiff: setup failed\n");
		return 1;
	}
	run(count);
	if (src.rec)
		fclose(src.rec);
	printf("# %u requests in %u episodes\n", requests, episode);
	return 0;
usage:
	fprintf(stderr, "usage: cthdiff [-p] [-t] (-s SEED -n COUNT [-c SEEDFILE] | -i FILE)\n");
	return 1;
}
#endif
