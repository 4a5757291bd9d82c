// SPDX-License-Identifier: GPL-2.0
/*
 * nf_cthelper: a userspace conntrack helper and a raw nfnetlink_cthelper
 * client for the selftests.
 *
 * Helper mode serves one nfnetlink_queue bound with NFQA_CFG_F_CONNTRACK
 * and speaks a toy line protocol found anywhere in the TCP/UDP payload:
 *
 *   "EXPECT <port>"  expect a flow from the client to the server's <port>
 *   "EXPECT <port> <helper>"  the same, and <helper> helps that flow
 *   "DATA <text>"    store <text> as the helper's private data
 *   "MANGLE"         (with -M) replace by "MANGLED-BY-HELPER"
 *   "NOTUPLE"        attach an expectation that has neither tuple nor mask
 *
 * and prints one line per packet with the private data the kernel sent
 * along (CTA_HELP_INFO).  Options: -r register the helper first (2
 * classes, 8 expectations each, 32 bytes of private data; with -P, queue
 * only TCP segments with payload), -K set the conntrack's mark to 1 in
 * every verdict on the client's packets, -E send NFQA_EXP without an
 * NFQA_CT, -c CLASS for
 * expectations, -S never answer, -H FILE hold packets until FILE exists
 * then answer them all (with -R last first, with -T from two threads at
 * once), -V the verdict, -B send a malformed NFQA_CT, -M mangle, -O
 * fail-open queue, -L queue length, -x exit after N packets, -F also
 * read FTP's passive mode replies from the server ("227 ... (h1,h2,h3,h4,
 * p1,p2)") and expect the client's data connection to the port they give,
 * as the kernel's FTP helper does.
 *
 * Control mode sends one NEW, GET or DEL message built from its arguments,
 * possibly malformed, and prints the result; "verdict" sends one verdict
 * from a socket that owns no queue; "ctnew" asks ctnetlink for a conntrack
 * helped by a named helper (CTA_HELP); "gso" sends one UDP datagram that
 * the kernel segments (UDP_SEGMENT).
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_ct.h>

#ifndef NFNL_SUBSYS_CTHELPER
#define NFNL_SUBSYS_CTHELPER 9
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Older installed headers: the attributes appended for the fail policy,
 * the counters and the filter.
 */
#ifndef NFCTH_F_FAIL_CLOSED
#define NFCTH_F_FAIL_CLOSED	0x1
#define NFCTH_FLAGS		(NFCTH_STATUS + 1)
#define NFCTH_STATS		(NFCTH_STATUS + 2)
#define NFCTH_FILTER		(NFCTH_STATUS + 3)
#define NFCTH_STATS_QUEUED	1
#define NFCTH_STATS_BYPASSED	2
#define NFCTH_STATS_DROPPED	3
#define NFCTH_STATS_VERDICTS	4
#define NFCTH_STATS_EXPECTED	5
#define NFCTH_STATS_FILTERED	7
#define NFCTH_STATS_MAX		7
#undef NFCTH_MAX
#define NFCTH_MAX		NFCTH_FILTER
#endif
#ifndef NFCTH_F_PAYLOAD_ONLY
#define NFCTH_F_PAYLOAD_ONLY	0x2
#endif

/* enum ip_conntrack_info: IP_CT_ESTABLISHED_REPLY and above are replies */
#define IP_CT_IS_REPLY_CTINFO 3

static struct mnl_socket *nl;
static unsigned int portid;
static unsigned int seq = 1;

static void show_usage(void)
{
	fprintf(stderr,
		"usage: nf_cthelper helper [-q QUEUE] [-n NAME] [-p tcp|udp]\n"
		"         [-f inet|inet6] [-r [-P]] [-c CLASS] [-S] [-M] [-B]\n"
		"         [-V VERDICT] [-x N] [-O] [-L MAXLEN] [-b BYTES]\n"
		"         [-H FILE [-R] [-T]]\n"
		"         [-F] [-K] [-E]\n"
		"       nf_cthelper verdict QUEUE ID VERDICT\n"
		"       nf_cthelper ctnew HELPER SPORT\n"
		"       nf_cthelper ctflow HELPER tcp|udp SRC SPORT DST DPORT\n"
		"       nf_cthelper udp ADDR PORT SPORT N\n"
		"       nf_cthelper bulk PREFIX N\n"
		"       nf_cthelper expnew SPORT MS\n"
		"       nf_cthelper actct HELPER\n"
		"       nf_cthelper gso ADDR PORT SPORT SEGSIZE SEGMENTS TEXT\n"
		"       nf_cthelper ctl new|get|del|dump|dump-slow|stats [excl]\n"
		"         [ATTR...]\n"
		"ATTR: name=S name-raw=HEXBYTES tuple=L3:L4 tuple-l3=L3 tuple-l4=L4\n"
		"      tuple-short queue=N privlen=N status=N flags=N stats-attr\n"
		"      filter=[words:W,...|N,CODE JT JF K,...]\n"
		"      policy=NUM[:NAME/MAX/TIMEOUT]... policy-empty policy-garbage\n"
		"      unknown=TYPE raw=TYPE:HEXBYTES\n");
	exit(2);
}

static struct nlmsghdr *nfnl_hdr(char *buf, int subsys, int type,
				 uint16_t flags, uint8_t family, uint16_t res)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (subsys << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res);
	return nlh;
}

/* Attribute names of an nfnetlink_cthelper request, by nesting level */
enum { LVL_TOP, LVL_TUPLE, LVL_POLICY, LVL_POLICY_SET, LVL_STATS, LVL_NONE };

static const char *const cth_names[][10] = {
	[LVL_TOP] = { NULL, "NFCTH_NAME", "NFCTH_TUPLE", "NFCTH_QUEUE_NUM",
		      "NFCTH_POLICY", "NFCTH_PRIV_DATA_LEN", "NFCTH_STATUS",
		      "NFCTH_FLAGS", "NFCTH_STATS", "NFCTH_FILTER" },
	[LVL_TUPLE] = { NULL, "NFCTH_TUPLE_L3PROTONUM",
			"NFCTH_TUPLE_L4PROTONUM" },
	[LVL_POLICY] = { NULL, "NFCTH_POLICY_SET_NUM", "NFCTH_POLICY_SET1",
			 "NFCTH_POLICY_SET2", "NFCTH_POLICY_SET3",
			 "NFCTH_POLICY_SET4" },
	[LVL_POLICY_SET] = { NULL, "NFCTH_POLICY_NAME",
			     "NFCTH_POLICY_EXPECT_MAX",
			     "NFCTH_POLICY_EXPECT_TIMEOUT" },
};

static int cth_child_level(int level, unsigned int type)
{
	if (level == LVL_TOP && type == NFCTH_TUPLE)
		return LVL_TUPLE;
	if (level == LVL_TOP && type == NFCTH_POLICY)
		return LVL_POLICY;
	if (level == LVL_TOP && type == NFCTH_STATS)
		return LVL_STATS;
	if (level == LVL_POLICY && type >= NFCTH_POLICY_SET1)
		return LVL_POLICY_SET;
	return LVL_NONE;
}

/* Append the name of attribute TYPE at LEVEL to OUT (its number outside
 * nfnetlink_cthelper, or when it has no name).
 */
static void put_attr_name(char *out, size_t size, bool cth, int level,
			  unsigned int type)
{
	size_t len = strlen(out);
	const char *name = NULL;

	if (cth && level < LVL_STATS && type < 10)
		name = cth_names[level][type];
	if (name)
		snprintf(out + len, size - len, "%s%s", len ? "/" : "", name);
	else
		snprintf(out + len, size - len, "%s%u", len ? "/" : "", type);
}

/* The attribute that starts at OFFS in the request MSG, as the path of
 * the nests it is in ("NFCTH_TUPLE/NFCTH_TUPLE_L3PROTONUM"); returns the
 * level of its children, for an attribute missing inside it.
 */
static int attr_path(const struct nlmsghdr *msg, unsigned int msglen,
		     unsigned int offs, char *out, size_t size)
{
	bool cth = (msg->nlmsg_type >> 8) == NFNL_SUBSYS_CTHELPER;
	const char *start = (const char *)msg, *p;
	const char *end = start + msglen;
	int level = LVL_TOP;

	out[0] = '\0';
	if (msg->nlmsg_len < msglen)
		end = start + msg->nlmsg_len;
	p = start + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		const char *next = p + NLMSG_ALIGN(a->nla_len);
		unsigned int type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - p)
			break;
		if (start + offs < p || start + offs >= next) {
			p = next;
			continue;
		}
		put_attr_name(out, size, cth, level, type);
		level = cth_child_level(level, type);
		if (start + offs == p)
			return level;
		/* inside: go down */
		end = p + a->nla_len;
		p += NLA_HDRLEN;
	}
	snprintf(out, size, "at %u", offs);
	return LVL_NONE;
}

/* Print an ack: "ok" or "error ERRNO (strerror)" followed by what the
 * extended ack says: ": message", " [attr PATH]", " [missing PATH]".
 */
static int print_ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	unsigned int len = mnl_nlmsg_get_payload_len(nlh);
	int offs = -1, miss = -1, nest = -1;
	bool capped = nlh->nlmsg_flags & NLM_F_CAPPED;
	unsigned int msglen;
	const char *msg = NULL;
	struct nlattr *attr;
	char path[128];

	if (!err->error) {
		printf("ok\n");
		return 0;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		unsigned int off = sizeof(*err);

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
		mnl_attr_for_each_payload((void *)((char *)err + off),
					  len - off) {
			switch (mnl_attr_get_type(attr)) {
			case NLMSGERR_ATTR_MSG:
				msg = mnl_attr_get_str(attr);
				break;
			case NLMSGERR_ATTR_OFFS:
				offs = mnl_attr_get_u32(attr);
				break;
			case NLMSGERR_ATTR_MISS_TYPE:
				miss = mnl_attr_get_u32(attr);
				break;
			case NLMSGERR_ATTR_MISS_NEST:
				nest = mnl_attr_get_u32(attr);
				break;
			}
		}
	}
	printf("error %d (%s)%s%s", -err->error, strerror(-err->error),
	       msg ? ": " : "", msg ? msg : "");
	/* the request as the ack echoes it: what follows struct nlmsgerr */
	msglen = len - offsetof(struct nlmsgerr, msg);
	if (offs >= 0 && !capped) {
		attr_path(&err->msg, msglen, offs, path, sizeof(path));
		printf(" [attr %s]", path);
	} else if (offs >= 0) {
		printf(" [attr at %d]", offs);
	}
	if (miss >= 0) {
		bool cth = (err->msg.nlmsg_type >> 8) == NFNL_SUBSYS_CTHELPER;
		int level = LVL_TOP;

		path[0] = '\0';
		if (nest >= 0 && !capped)
			level = attr_path(&err->msg, msglen, nest, path,
					  sizeof(path));
		put_attr_name(path, sizeof(path), cth, level, miss);
		printf(" [missing %s]", path);
	}
	printf("\n");
	fflush(stdout);
	return -err->error;
}

static int hex_put(struct nlmsghdr *nlh, int type, const char *hex)
{
	unsigned char data[256];
	size_t n = 0;

	while (hex[0] && hex[1] && n < sizeof(data)) {
		unsigned int byte;

		if (sscanf(hex, "%2x", &byte) != 1)
			return -1;
		data[n++] = byte;
		hex += 2;
	}
	mnl_attr_put(nlh, type, n, data);
	return 0;
}

/*
 * filter=words:W[,W...]: a program that queues the packets whose payload
 * (TCP or UDP, over IPv4 or IPv6 without extension headers) begins with
 * one of the 4-byte words W and lets the others through; the packet starts
 * at its network header.  A packet with less payload fails its load, which
 * ends the program with 0.
 */
static unsigned int words_filter(struct sock_filter *f, const char *spec)
{
	char buf[256], *tok, *save;
	unsigned int n = 0, nw = 0, i;
	uint32_t w[32];

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok && nw < 32;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strlen(tok) != 4)
			return 0;
		w[nw++] = (uint32_t)(uint8_t)tok[0] << 24 |
			  (uint8_t)tok[1] << 16 | (uint8_t)tok[2] << 8 |
			  (uint8_t)tok[3];
	}
	/* 0: IP version */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      6, 3, 0);
	/* 3: IPv4: A = protocol, X = header length */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 2, 0, 0);
	/* 6: IPv6: A = next header, X = 40 */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 40);
	/* 8: X = payload offset: after the TCP header's data offset... */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      IPPROTO_UDP, 6, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_IND, 12);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 2);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3c);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 3, 0, 0);
	/* 15: ... or after the 8 bytes of UDP's */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TXA, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 8);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
	/* 18: the payload's first word against each W */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0);
	for (i = 0; i < nw; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      w[i], nw - i, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 1);
	return n;
}

/* filter=: NFCTH_FILTER; empty (no program), words:... (words_filter()) or
 * bytecode as tcpdump -ddd and iptables -m bpf --bytecode write it:
 * "N,CODE JT JF K,..." (N instructions; any N is sent, as given).
 */
static int put_filter(struct nlmsghdr *nlh, const char *v)
{
	static struct sock_filter f[1024];
	unsigned int n = 0, want, code, jt, jf, k;
	const char *p;

	if (!strncmp(v, "words:", 6)) {
		n = words_filter(f, v + 6);
		if (!n)
			return -1;
	} else if (*v) {
		want = strtoul(v, NULL, 10);
		for (p = strchr(v, ','); p && n < 1024; p = strchr(p, ',')) {
			p++;
			if (sscanf(p, "%u %u %u %u", &code, &jt, &jf, &k) != 4)
				return -1;
			f[n++] = (struct sock_filter){ code, jt, jf, k };
		}
		if (n != want)
			return -1;
	}
	mnl_attr_put(nlh, NFCTH_FILTER, n * sizeof(f[0]), f);
	return 0;
}

/* policy=NUM[:NAME/MAX/TIMEOUT]... ; missing sets are simply not sent. */
static int put_policy(struct nlmsghdr *nlh, const char *spec)
{
	struct nlattr *nest, *set;
	char buf[256], *tok, *save;
	unsigned int i = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	tok = strtok_r(buf, ":", &save);
	if (!tok)
		return -1;
	nest = mnl_attr_nest_start(nlh, NFCTH_POLICY);
	mnl_attr_put_u32(nlh, NFCTH_POLICY_SET_NUM,
			 htonl(strtoul(tok, NULL, 0)));
	while ((tok = strtok_r(NULL, ":", &save))) {
		char name[64], *slash = strchr(tok, '/');
		unsigned long max, timeout;

		/* the name may be empty */
		if (!slash || sscanf(slash, "/%lu/%lu", &max, &timeout) != 2)
			return -1;
		snprintf(name, sizeof(name), "%.*s", (int)(slash - tok), tok);
		set = mnl_attr_nest_start(nlh, NFCTH_POLICY_SET + i++);
		mnl_attr_put_strz(nlh, NFCTH_POLICY_NAME, name);
		mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_MAX, htonl(max));
		mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_TIMEOUT,
				 htonl(timeout));
		mnl_attr_nest_end(nlh, set);
	}
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

static int put_ctl_attr(struct nlmsghdr *nlh, const char *arg)
{
	const char *v = strchr(arg, '=');
	struct nlattr *nest;
	unsigned int a, b;

	v = v ? v + 1 : "";
	if (!strncmp(arg, "name=", 5)) {
		mnl_attr_put_strz(nlh, NFCTH_NAME, v);
	} else if (!strncmp(arg, "name-raw=", 9)) {
		return hex_put(nlh, NFCTH_NAME, v);
	} else if (!strncmp(arg, "tuple=", 6)) {
		if (sscanf(v, "%u:%u", &a, &b) != 2)
			return -1;
		nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
		mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(a));
		mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, b);
		mnl_attr_nest_end(nlh, nest);
	} else if (!strncmp(arg, "tuple-l3=", 9)) {
		nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
		mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(atoi(v)));
		mnl_attr_nest_end(nlh, nest);
	} else if (!strncmp(arg, "tuple-l4=", 9)) {
		nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
		mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, atoi(v));
		mnl_attr_nest_end(nlh, nest);
	} else if (!strcmp(arg, "tuple-short")) {
		nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
		mnl_attr_put_u8(nlh, NFCTH_TUPLE_L3PROTONUM, 2);
		mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, 6);
		mnl_attr_nest_end(nlh, nest);
	} else if (!strncmp(arg, "queue=", 6)) {
		mnl_attr_put_u32(nlh, NFCTH_QUEUE_NUM,
				 htonl(strtoul(v, NULL, 0)));
	} else if (!strncmp(arg, "privlen=", 8)) {
		mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN,
				 htonl(strtoul(v, NULL, 0)));
	} else if (!strncmp(arg, "status=", 7)) {
		mnl_attr_put_u32(nlh, NFCTH_STATUS, htonl(strtoul(v, NULL, 0)));
	} else if (!strncmp(arg, "flags=", 6)) {
		mnl_attr_put_u32(nlh, NFCTH_FLAGS, htonl(strtoul(v, NULL, 0)));
	} else if (!strncmp(arg, "filter=", 7)) {
		return put_filter(nlh, v);
	} else if (!strcmp(arg, "stats-attr")) {
		nest = mnl_attr_nest_start(nlh, NFCTH_STATS);
		mnl_attr_put_u64(nlh, NFCTH_STATS_QUEUED, 0);
		mnl_attr_nest_end(nlh, nest);
	} else if (!strncmp(arg, "policy=", 7)) {
		return put_policy(nlh, v);
	} else if (!strcmp(arg, "policy-empty")) {
		nest = mnl_attr_nest_start(nlh, NFCTH_POLICY);
		mnl_attr_nest_end(nlh, nest);
	} else if (!strcmp(arg, "policy-garbage")) {
		nest = mnl_attr_nest_start(nlh, NFCTH_POLICY);
		mnl_attr_put_u32(nlh, 77, 0xdeadbeef);
		mnl_attr_put(nlh, NFCTH_POLICY_SET_NUM, 1, "\x01");
		mnl_attr_nest_end(nlh, nest);
	} else if (!strncmp(arg, "unknown=", 8)) {
		mnl_attr_put_u32(nlh, atoi(v), 0);
	} else if (!strncmp(arg, "raw=", 4)) {
		if (sscanf(v, "%u:", &a) != 1 || !strchr(v, ':'))
			return -1;
		return hex_put(nlh, a, strchr(v, ':') + 1);
	} else {
		return -1;
	}
	return 0;
}

static int helper_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static unsigned int be32_attr(const struct nlattr *attr)
{
	return attr ? ntohl(mnl_attr_get_u32(attr)) : 0;
}

static unsigned long long be64_attr(const struct nlattr *attr)
{
	return attr ? be64toh(mnl_attr_get_u64(attr)) : 0;
}

/* "ctl stats": the counters instead of the definition */
static bool show_stats;

static void print_stats(const char *name, const struct nlattr *attr)
{
	struct nlattr *ts[NFCTH_STATS_MAX + 1] = {};

	if (attr)
		mnl_attr_parse_nested(attr, helper_attr_cb, ts);
	printf("stats %s queued=%llu bypassed=%llu dropped=%llu ", name,
	       be64_attr(ts[NFCTH_STATS_QUEUED]),
	       be64_attr(ts[NFCTH_STATS_BYPASSED]),
	       be64_attr(ts[NFCTH_STATS_DROPPED]));
	printf("verdicts=%llu expected=%llu filtered=%llu\n",
	       be64_attr(ts[NFCTH_STATS_VERDICTS]),
	       be64_attr(ts[NFCTH_STATS_EXPECTED]),
	       be64_attr(ts[NFCTH_STATS_FILTERED]));
}

/* One line per helper, stable for diffs: name l3 l4 queue status privlen
 * classes [name/max/timeout]... [flags=N when not 0] [filter=BYTECODE, as
 * filter= takes it]
 */
static int print_helper(const struct nlmsghdr *nlh)
{
	struct nlattr *tb[NFCTH_MAX + 1] = {}, *tt[NFCTH_TUPLE_MAX + 1] = {};
	struct nlattr *tp[NFCTH_POLICY_SET_MAX + 1] = {};
	unsigned int i, num = 0;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), helper_attr_cb, tb);
	if (!tb[NFCTH_NAME] || !tb[NFCTH_TUPLE] || !tb[NFCTH_POLICY])
		return MNL_CB_ERROR;
	if (show_stats) {
		print_stats(mnl_attr_get_str(tb[NFCTH_NAME]), tb[NFCTH_STATS]);
		return MNL_CB_OK;
	}
	mnl_attr_parse_nested(tb[NFCTH_TUPLE], helper_attr_cb, tt);
	mnl_attr_parse_nested(tb[NFCTH_POLICY], helper_attr_cb, tp);
	if (tp[NFCTH_POLICY_SET_NUM])
		num = ntohl(mnl_attr_get_u32(tp[NFCTH_POLICY_SET_NUM]));
	printf("helper %s l3=%u l4=%u queue=%u status=%u privlen=%u classes=%u",
	       mnl_attr_get_str(tb[NFCTH_NAME]),
	       ntohs(mnl_attr_get_u16(tt[NFCTH_TUPLE_L3PROTONUM])),
	       mnl_attr_get_u8(tt[NFCTH_TUPLE_L4PROTONUM]),
	       be32_attr(tb[NFCTH_QUEUE_NUM]), be32_attr(tb[NFCTH_STATUS]),
	       be32_attr(tb[NFCTH_PRIV_DATA_LEN]),
	       num);
	for (i = 0; i < num && i < 4; i++) {
		struct nlattr *tc[NFCTH_POLICY_MAX + 1] = {};

		if (!tp[NFCTH_POLICY_SET + i])
			break;
		mnl_attr_parse_nested(tp[NFCTH_POLICY_SET + i],
				      helper_attr_cb, tc);
		printf(" %s/%u/%u", mnl_attr_get_str(tc[NFCTH_POLICY_NAME]),
		       be32_attr(tc[NFCTH_POLICY_EXPECT_MAX]),
		       be32_attr(tc[NFCTH_POLICY_EXPECT_TIMEOUT]));
	}
	if (be32_attr(tb[NFCTH_FLAGS]))
		printf(" flags=%u", be32_attr(tb[NFCTH_FLAGS]));
	if (tb[NFCTH_FILTER]) {
		const struct sock_filter *f;
		size_t n;

		f = mnl_attr_get_payload(tb[NFCTH_FILTER]);
		n = mnl_attr_get_payload_len(tb[NFCTH_FILTER]) / sizeof(*f);
		printf(" filter=%zu", n);
		for (i = 0; i < n; i++)
			printf(",%u %u %u %u", f[i].code, f[i].jt, f[i].jf,
			       f[i].k);
	}
	printf("\n");
	return MNL_CB_OK;
}

static int ctl(int argc, char *argv[])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t flags = NLM_F_ACK;
	unsigned int pause_ms = 0;
	struct nlmsghdr *nlh;
	int type, i, n;

	if (argc < 1)
		show_usage();
	if (!strcmp(argv[0], "new")) {
		type = NFNL_MSG_CTHELPER_NEW;
		flags |= NLM_F_CREATE;
	} else if (!strcmp(argv[0], "get")) {
		type = NFNL_MSG_CTHELPER_GET;
	} else if (!strcmp(argv[0], "stats")) {
		type = NFNL_MSG_CTHELPER_GET;
		show_stats = true;
	} else if (!strcmp(argv[0], "dump")) {
		type = NFNL_MSG_CTHELPER_GET;
		flags = NLM_F_DUMP;
	} else if (!strcmp(argv[0], "dump-slow")) {
		/* one read, then a pause: lets another process change the
		 * table in the middle of the dump
		 */
		type = NFNL_MSG_CTHELPER_GET;
		flags = NLM_F_DUMP;
		pause_ms = 3000;
	} else if (!strcmp(argv[0], "del")) {
		type = NFNL_MSG_CTHELPER_DEL;
	} else {
		show_usage();
	}
	if (argc > 1 && !strcmp(argv[1], "excl")) {
		flags |= NLM_F_EXCL;
		argv++;
		argc--;
	}

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_CTHELPER, type, flags, AF_UNSPEC, 0);
	for (i = 1; i < argc; i++) {
		if (put_ctl_attr(nlh, argv[i]) < 0) {
			fprintf(stderr, "bad attribute %s\n", argv[i]);
			show_usage();
		}
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("sendto");
		return 1;
	}

	/* Replies (GET, dump), then the ack or NLMSG_DONE. */
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			perror("recvfrom");
			return 1;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return print_ack(nlh) ? 1 : 0;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			print_helper(nlh);
		}
		fflush(stdout);
		if (pause_ms) {
			usleep(pause_ms * 1000);
			pause_ms = 0;
		}
	}
}

/* ---- helper mode ---- */

struct opts {
	uint16_t queue;
	const char *name;
	uint8_t l4;
	uint16_t l3;
	bool reg;
	bool silent;
	bool mangle;
	bool bad_ct;
	bool mark;		/* -K: NFQA_CT {CTA_MARK 1} */
	const char *hold;	/* hold packets until this file exists */
	bool reverse;		/* ... then answer the last one first */
	bool parallel;		/* ... from two threads at once */
	bool fail_open;
	bool payload_only;	/* -P: register with NFCTH_F_PAYLOAD_ONLY */
	bool bare_exp;		/* -E: NFQA_EXP without NFQA_CT */
	bool ftp;		/* -F: FTP's 227 replies */
	unsigned int maxlen;
	int rcvbuf;		/* -b: SO_RCVBUF of the queue's socket */
	int verdict;
	unsigned int class;
	unsigned int exit_after;
};

struct pkt {
	uint32_t id;
	int ctinfo;
	uint8_t l3;
	uint8_t src[16], dst[16];
	unsigned char *payload;		/* the whole IP packet */
	unsigned int len;
	unsigned int l4off;		/* transport header */
	unsigned int dataoff;		/* application data */
	char priv[33];
	bool has_ct;
};

/* Send NLH asking for an ack and read the ack into BUF: 0 or -errno. */
static int request(struct nlmsghdr *nlh, char *buf)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE) < 0)
		return -errno;
	return 0;
}

/* Send NLH and return the error its ack carries. */
static int talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *ack = (struct nlmsghdr *)buf;
	int err = request(nlh, buf);

	if (err)
		return err;
	if (ack->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)mnl_nlmsg_get_payload(ack))->error;
}

/* Send NLH and print its ack. */
static int send_print_ack(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (request(nlh, buf)) {
		perror("netlink");
		return 1;
	}
	return print_ack((struct nlmsghdr *)buf) ? 1 : 0;
}

static int register_helper(const struct opts *o)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], spec[64];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_NEW,
		       NLM_F_CREATE, AF_UNSPEC, 0);
	mnl_attr_put_strz(nlh, NFCTH_NAME, o->name);
	nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
	mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(o->l3));
	mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, o->l4);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, NFCTH_QUEUE_NUM, htonl(o->queue));
	mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN, htonl(32));
	mnl_attr_put_u32(nlh, NFCTH_STATUS, htonl(NFCT_HELPER_STATUS_ENABLED));
	if (o->payload_only)
		mnl_attr_put_u32(nlh, NFCTH_FLAGS, htonl(NFCTH_F_PAYLOAD_ONLY));
	snprintf(spec, sizeof(spec), "2:%s/8/30:%s-b/8/30", o->name, o->name);
	put_policy(nlh, spec);
	return talk(nlh);
}

static int bind_queue(const struct opts *o)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfqnl_msg_config_params params;
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct nlmsghdr *nlh;
	uint32_t flags;
	int err;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0,
		       AF_UNSPEC, o->queue);
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	err = talk(nlh);
	if (err)
		return err;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0,
		       AF_UNSPEC, o->queue);
	params.copy_range = htonl(0xffff);
	params.copy_mode = NFQNL_COPY_PACKET;
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	flags = NFQA_CFG_F_CONNTRACK;
	if (o->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK |
						NFQA_CFG_F_FAIL_OPEN));
	if (o->maxlen)
		mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(o->maxlen));
	return talk(nlh);
}

static int nested_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) <= CTA_MAX)
		tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static void parse_ct(struct pkt *p, const struct nlattr *attr)
{
	struct nlattr *ct[CTA_MAX + 1] = {};

	mnl_attr_parse_nested(attr, nested_cb, ct);
	if (ct[CTA_HELP]) {
		struct nlattr *h[CTA_HELP_MAX + 1] = {};

		mnl_attr_parse_nested(ct[CTA_HELP], nested_cb, h);
		const struct nlattr *info = h[CTA_HELP_INFO];

		if (info) {
			unsigned int n = mnl_attr_get_payload_len(info);

			if (n > 32)
				n = 32;
			memcpy(p->priv, mnl_attr_get_payload(info), n);
		}
	}
	p->has_ct = true;
}

static int parse_packet(struct pkt *p)
{
	unsigned char *d = p->payload;
	unsigned int hl;

	if (p->len < 20)
		return -1;
	if ((d[0] >> 4) == 4) {
		hl = (d[0] & 0xf) * 4;
		p->l3 = 4;
		memcpy(p->src, d + 12, 4);
		memcpy(p->dst, d + 16, 4);
		p->l4off = hl;
		if (d[9] == IPPROTO_TCP)
			p->dataoff = hl + (d[hl + 12] >> 4) * 4;
		else
			p->dataoff = hl + 8;
	} else {
		if (p->len < 48)
			return -1;
		p->l3 = 6;
		memcpy(p->src, d + 8, 16);
		memcpy(p->dst, d + 24, 16);
		p->l4off = 40;
		if (d[6] == IPPROTO_TCP)
			p->dataoff = 40 + (d[40 + 12] >> 4) * 4;
		else
			p->dataoff = 48;
	}
	if (p->dataoff > p->len)
		p->dataoff = p->len;
	return 0;
}

static const char *find_word(const struct pkt *p, const char *word)
{
	size_t wl = strlen(word);
	unsigned int i;

	for (i = p->dataoff; i + wl <= p->len; i++)
		if (!memcmp(p->payload + i, word, wl))
			return (const char *)p->payload + i;
	return NULL;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint32_t csum_add(uint32_t sum, const unsigned char *d, unsigned int len)
{
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (d[i] << 8) | d[i + 1];
	if (len & 1)
		sum += d[len - 1] << 8;
	return sum;
}

/* Fix lengths and checksums after the payload changed size (TCP). */
static void fix_tcp(struct pkt *p)
{
	unsigned char *d = p->payload;
	unsigned int tcplen = p->len - p->l4off;
	uint32_t sum;
	uint16_t c;

	if (p->l3 == 4) {
		d[2] = p->len >> 8;
		d[3] = p->len & 0xff;
		d[10] = 0;
		d[11] = 0;
		c = csum_fold(csum_add(0, d, p->l4off));
		d[10] = c >> 8;
		d[11] = c & 0xff;
		sum = csum_add(0, d + 12, 8);
	} else {
		d[4] = tcplen >> 8;
		d[5] = tcplen & 0xff;
		sum = csum_add(0, d + 8, 32);
	}

	d[p->l4off + 16] = 0;
	d[p->l4off + 17] = 0;
	sum += IPPROTO_TCP + tcplen;
	sum = csum_add(sum, d + p->l4off, tcplen);
	c = csum_fold(sum);
	d[p->l4off + 16] = c >> 8;
	d[p->l4off + 17] = c & 0xff;
}

/* Every "MANGLE" line of the payload becomes a longer one, also in a
 * segment that carries several (coalesced, or retransmitted together).
 * OUT holds at most 65535 bytes (an IPv4 packet, an IPv6 one without
 * jumbo payload: the helper's packets have no extension header).
 */
static bool mangle(struct pkt *p, unsigned char *out)
{
	static const char from[] = "MANGLE\n", to[] = "MANGLED-BY-HELPER\n";
	const unsigned int fl = strlen(from), tl = strlen(to);
	unsigned int i = p->dataoff, o = p->dataoff;
	bool found = false;

	if (p->payload[p->l3 == 4 ? 9 : 6] != IPPROTO_TCP)
		return false;
	memcpy(out, p->payload, p->dataoff);
	while (i < p->len) {
		if (i + fl <= p->len && o + tl <= 0xffff &&
		    !memcmp(p->payload + i, from, fl)) {
			memcpy(out + o, to, tl);
			o += tl;
			i += fl;
			found = true;
		} else if (o < 0xffff) {
			out[o++] = p->payload[i++];
		} else {
			return false;
		}
	}
	if (!found)
		return false;
	p->payload = out;
	p->len = o;
	fix_tcp(p);
	return true;
}

static void put_tuple(struct nlmsghdr *nlh, int type, const struct pkt *p,
		      const uint8_t *src, const uint8_t *dst, uint8_t proto,
		      uint16_t sport, uint16_t dport)
{
	struct nlattr *t, *n;

	t = mnl_attr_nest_start(nlh, type);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (p->l3 == 4) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst);
	}
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* An empty NFQA_CT: a verdict's NFQA_EXP goes with an NFQA_CT, as
 * conntrackd sends them (a kernel may read the expectation only beside it)
 */
static void put_empty_ct(struct nlmsghdr *nlh)
{
	mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NFQA_CT));
}

/* NFQA_EXP: a flow from SRC to DST's PORT, helped by HELPER if not empty */
static void put_exp(struct nlmsghdr *nlh, const struct opts *o,
		    const struct pkt *p, const uint8_t *src,
		    const uint8_t *dst, uint16_t port, const char *helper)
{
	static const uint8_t ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t proto = p->l3 == 4 ? p->payload[9] : p->payload[6];
	struct nlattr *nest;

	nest = mnl_attr_nest_start(nlh, NFQA_EXP);
	put_tuple(nlh, CTA_EXPECT_TUPLE, p, src, dst, proto, 0, port);
	put_tuple(nlh, CTA_EXPECT_MASK, p, ones, ones, 0xff, 0, 0xffff);
	mnl_attr_put_u32(nlh, CTA_EXPECT_CLASS, htonl(o->class));
	if (helper[0])
		mnl_attr_put_strz(nlh, CTA_EXPECT_HELP_NAME, helper);
	mnl_attr_nest_end(nlh, nest);
}

/* ARG is what follows "EXPECT ": a port, then maybe a helper's name */
static void put_expect(struct nlmsghdr *nlh, const struct opts *o,
		       const struct pkt *p, const char *arg)
{
	const char *end = (const char *)p->payload + p->len;
	uint16_t port = 0;
	char helper[16] = "";
	unsigned int i = 0;

	while (arg < end && isdigit((unsigned char)*arg))
		port = port * 10 + *arg++ - '0';
	if (arg < end && *arg == ' ')
		for (arg++; i < sizeof(helper) - 1 && arg + i < end &&
		     isgraph((unsigned char)arg[i]); i++)
			helper[i] = arg[i];

	/* from the client (this packet's source) to the server's port */
	put_exp(nlh, o, p, p->src, p->dst, port, helper);
}

/* "NOTUPLE": an expectation without CTA_EXPECT_TUPLE and CTA_EXPECT_MASK */
static void put_notuple(struct nlmsghdr *nlh)
{
	struct nlattr *nest;

	nest = mnl_attr_nest_start(nlh, NFQA_EXP);
	mnl_attr_put_u32(nlh, CTA_EXPECT_TIMEOUT, htonl(60));
	mnl_attr_nest_end(nlh, nest);
}

/* -F: a "227 " reply that begins the payload, "(h1,h2,h3,h4,p1,p2)" in
 * it: the client (this packet's destination) may connect to the server's
 * port p1 * 256 + p2
 */
static void put_pasv(struct nlmsghdr *nlh, const struct opts *o,
		     const struct pkt *p)
{
	const char *s = (const char *)p->payload + p->dataoff;
	const char *end = (const char *)p->payload + p->len;
	unsigned int v[6] = {}, i;

	if (end - s < 4 || memcmp(s, "227 ", 4))
		return;
	while (s < end && *s != '(')
		s++;
	for (i = 0, s++; i < 6 && s < end; i++, s++) {
		while (s < end && isdigit((unsigned char)*s))
			v[i] = v[i] * 10 + *s++ - '0';
		if (s >= end || *s != (i < 5 ? ',' : ')'))
			return;
	}
	if (i == 6 && v[4] < 256 && v[5] < 256) {
		if (!o->bare_exp)
			put_empty_ct(nlh);
		put_exp(nlh, o, p, p->dst, p->src, v[4] << 8 | v[5], "");
	}
}

static int send_verdict(const struct opts *o, struct pkt *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], data[33] = "";
	unsigned char mangled[0x10000];
	struct nfqnl_msg_verdict_hdr vh;
	const char *expect, *priv;
	bool notuple;
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT, 0,
		       AF_UNSPEC, o->queue);
	vh.verdict = htonl(o->verdict);
	vh.id = htonl(p->id);
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);

	/* the toy protocol is spoken by the client only */
	if (p->ctinfo >= IP_CT_IS_REPLY_CTINFO) {
		if (o->ftp)
			put_pasv(nlh, o, p);
		goto send;
	}

	expect = find_word(p, "EXPECT ");
	notuple = !expect && find_word(p, "NOTUPLE");
	priv = find_word(p, "DATA ");
	if (priv) {
		unsigned int i;

		priv += 5;
		for (i = 0; i < 32 && priv + i < (char *)p->payload + p->len &&
		     isgraph((unsigned char)priv[i]); i++)
			data[i] = priv[i];
	}
	if (priv || o->bad_ct) {
		struct nlattr *help;

		nest = mnl_attr_nest_start(nlh, NFQA_CT);
		help = mnl_attr_nest_start(nlh, CTA_HELP);
		mnl_attr_put_strz(nlh, CTA_HELP_NAME,
				  o->bad_ct ? "no-such-helper" : o->name);
		mnl_attr_put(nlh, CTA_HELP_INFO, 32, data);
		mnl_attr_nest_end(nlh, help);
		mnl_attr_nest_end(nlh, nest);
	} else if (o->mark) {
		nest = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(1));
		mnl_attr_nest_end(nlh, nest);
	} else if ((expect || notuple) && !o->bare_exp) {
		put_empty_ct(nlh);
	}

	if (expect)
		put_expect(nlh, o, p, expect + 7);
	else if (notuple)
		put_notuple(nlh);

	if (o->mangle && mangle(p, mangled))
		mnl_attr_put(nlh, NFQA_PAYLOAD, p->len, p->payload);

send:
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *tb[NFQA_MAX + 1] = {};
	struct pkt p = {};

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), helper_attr_cb, tb);
	if (!tb[NFQA_PACKET_HDR] || !tb[NFQA_PAYLOAD])
		return MNL_CB_ERROR;
	p.id = ntohl(((struct nfqnl_msg_packet_hdr *)
		      mnl_attr_get_payload(tb[NFQA_PACKET_HDR]))->packet_id);
	p.payload = mnl_attr_get_payload(tb[NFQA_PAYLOAD]);
	p.len = mnl_attr_get_payload_len(tb[NFQA_PAYLOAD]);
	p.ctinfo = tb[NFQA_CT_INFO] ? (int)be32_attr(tb[NFQA_CT_INFO]) : -1;
	if (tb[NFQA_CT])
		parse_ct(&p, tb[NFQA_CT]);
	if (parse_packet(&p) < 0)
		return MNL_CB_ERROR;

	printf("packet id=%u len=%u ct=%d ctinfo=%d data=%u priv=%s\n", p.id,
	       p.len, p.has_ct, p.ctinfo, p.len - p.dataoff,
	       p.priv[0] ? p.priv : "-");
	fflush(stdout);

	*(struct pkt *)data = p;
	return MNL_CB_OK;
}

static void put_held_verdict(char *buf, const struct opts *o, uint32_t id,
			     uint16_t flags)
{
	struct nfqnl_msg_verdict_hdr vh;
	struct nlmsghdr *nlh;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT, flags,
		       AF_UNSPEC, o->queue);
	vh.verdict = htonl(o->verdict);
	vh.id = htonl(id);
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
}

struct release_job {
	const struct opts *o;
	const uint32_t *ids;
	unsigned int n, first;
	pthread_barrier_t *start;
};

/* Every other held packet, from JOB->first on; no acks, which the two
 * threads would read from the one socket in any order.
 */
static void *release_thread(void *arg)
{
	const struct release_job *job = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int i;

	pthread_barrier_wait(job->start);
	for (i = job->first; i < job->n; i += 2) {
		put_held_verdict(buf, job->o, job->ids[i], 0);
		mnl_socket_sendto(nl, buf, ((struct nlmsghdr *)buf)->nlmsg_len);
	}
	return NULL;
}

/* -T: the verdicts for the held packets from two threads that start
 * together, so that the kernel handles them on both CPUs at once.
 */
static void release_parallel(const struct opts *o, const uint32_t *ids,
			     unsigned int n)
{
	struct release_job job[2];
	pthread_barrier_t start;
	pthread_t t[2];
	int i;

	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		job[i] = (struct release_job){ o, ids, n, i, &start };
		pthread_create(&t[i], NULL, release_thread, &job[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	printf("released %u in parallel\n", n);
	fflush(stdout);
}

/* Read up to the ack of the verdict just sent: a packet that arrives first
 * (the one the verdict queued again, say) is printed and held as well, at
 * IDS[*NHELD].  Returns the ack's error.
 */
static int held_verdict_ack(uint32_t *ids, unsigned int *nheld)
{
	static char buf[0x10000 + 4096];
	struct nlmsghdr *nlh;
	int n;

	for (;;) {
		n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ENOBUFS)
				continue;
			return -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			struct pkt p = {};

			if (nlh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)
					mnl_nlmsg_get_payload(nlh))->error;
			if (queue_cb(nlh, &p) == MNL_CB_OK && *nheld < 65536)
				ids[(*nheld)++] = p.id;
		}
	}
}

/* Verdicts for the N held packets at the start of IDS, in order or (-R)
 * last first; prints how many the kernel refused.  Packets that arrive
 * meanwhile are held for the next round: returns how many.
 */
static unsigned int release_held(const struct opts *o, uint32_t *ids,
				 unsigned int n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	unsigned int i, refused = 0, nheld = n;

	if (o->parallel) {
		release_parallel(o, ids, n);
		return 0;
	}

	for (i = 0; i < n; i++) {
		put_held_verdict(buf, o, ids[o->reverse ? n - 1 - i : i],
				 NLM_F_ACK);
		if (mnl_socket_sendto(nl, buf, nlh->nlmsg_len) < 0 ||
		    held_verdict_ack(ids, &nheld))
			refused++;
	}
	printf("released %u refused %u\n", n, refused);
	fflush(stdout);
	memmove(ids, ids + n, (nheld - n) * sizeof(*ids));
	return nheld - n;
}

/* The options of helper mode, into O. */
static void parse_helper_opts(int argc, char *argv[], struct opts *o)
{
	const char *optstring = "q:n:p:f:rPc:SMBEV:x:OL:b:H:RTFK";
	int opt;

	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 'q':
			o->queue = atoi(optarg);
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'p':
			o->l4 = IPPROTO_TCP;
			if (!strcmp(optarg, "udp"))
				o->l4 = IPPROTO_UDP;
			break;
		case 'f':
			o->l3 = !strcmp(optarg, "inet6") ? AF_INET6 : AF_INET;
			break;
		case 'r':
			o->reg = true;
			break;
		case 'c':
			o->class = atoi(optarg);
			break;
		case 'S':
			o->silent = true;
			break;
		case 'M':
			o->mangle = true;
			break;
		case 'B':
			o->bad_ct = true;
			break;
		case 'E':
			o->bare_exp = true;
			break;
		case 'V':
			if (!strcmp(optarg, "accept"))
				o->verdict = NF_ACCEPT;
			else if (!strcmp(optarg, "drop"))
				o->verdict = NF_DROP;
			else
				o->verdict = strtol(optarg, NULL, 0);
			break;
		case 'x':
			o->exit_after = atoi(optarg);
			break;
		case 'P':
			o->payload_only = true;
			break;
		case 'O':
			o->fail_open = true;
			break;
		case 'H':
			o->hold = optarg;
			break;
		case 'R':
			o->reverse = true;
			break;
		case 'T':
			o->parallel = true;
			break;
		case 'F':
			o->ftp = true;
			break;
		case 'K':
			o->mark = true;
			break;
		case 'L':
			o->maxlen = atoi(optarg);
			break;
		case 'b':
			o->rcvbuf = atoi(optarg);
			break;
		default:
			show_usage();
		}
	}}

static int run_helper(int argc, char *argv[])
{
	static uint32_t held[65536];
	unsigned int nheld = 0;
	struct opts o = {
		.name = "toy", .l3 = AF_INET, .l4 = IPPROTO_TCP,
		.verdict = NF_ACCEPT,
	};
	char buf[0x10000 + 4096];
	unsigned int seen = 0;
	int err, n;

	parse_helper_opts(argc, argv, &o);

	if (o.reg) {
		err = register_helper(&o);
		if (err) {
			printf("register: %s\n", strerror(-err));
			return 1;
		}
	}
	err = bind_queue(&o);
	if (err) {
		printf("bind: %s\n", strerror(-err));
		return 1;
	}
	if (o.rcvbuf &&
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF,
		       &o.rcvbuf, sizeof(o.rcvbuf)) < 0) {
		perror("SO_RCVBUF");
		return 1;
	}
	if (o.hold) {
		struct timeval tv = { .tv_usec = 100000 };

		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
			   &tv, sizeof(tv));
	}
	printf("ready queue=%u helper=%s\n", o.queue, o.name);
	fflush(stdout);

	for (;;) {
		/* once released, held packets are answered together, with
		 * whatever else waits in the socket
		 */
		bool drain = o.hold && nheld && !access(o.hold, F_OK);
		struct nlmsghdr *nlh;

		n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf),
			 drain ? MSG_DONTWAIT : 0);
		if (n < 0 && errno == EAGAIN && drain) {
			nheld = release_held(&o, held, nheld);
			continue;
		}
		if (n < 0) {
			if (errno == ENOBUFS || errno == EINTR ||
			    errno == EAGAIN)
				continue;
			perror("recv");
			return 1;
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			struct pkt p = {};

			if (nlh->nlmsg_type == NLMSG_ERROR) {
				print_ack(nlh);
				continue;
			}
			if (queue_cb(nlh, &p) != MNL_CB_OK)
				continue;
			if (o.hold) {
				if (nheld < 65536)
					held[nheld++] = p.id;
			} else if (!o.silent) {
				err = send_verdict(&o, &p);
				if (err)
					printf("verdict: %s\n", strerror(-err));
			}
			if (o.exit_after && ++seen >= o.exit_after)
				return 0;
		}
	}
}

/* ctnetlink creates the IPv4 conntrack A:SPORT -> B:DPORT helped by
 * HELPER, as conntrackd does when it installs an entry with CTA_HELP: the
 * helper is attached without a rule that holds it
 */
static int ct_new(const char *helper, uint8_t proto, const uint8_t *a,
		  uint16_t sport, const uint8_t *b, uint16_t dport)
{
	const struct pkt p = { .l3 = 4 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfnl_hdr(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW,
		       NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, AF_INET, 0);
	put_tuple(nlh, CTA_TUPLE_ORIG, &p, a, b, proto, sport, dport);
	put_tuple(nlh, CTA_TUPLE_REPLY, &p, b, a, proto, dport, sport);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(120));
	nest = mnl_attr_nest_start(nlh, CTA_HELP);
	mnl_attr_put_strz(nlh, CTA_HELP_NAME, helper);
	mnl_attr_nest_end(nlh, nest);
	return send_print_ack(nlh);
}

/* ctnew HELPER SPORT: the TCP conntrack 10.9.9.1:SPORT -> 10.9.9.2:2121 */
static int ctnew(const char *helper, uint16_t sport)
{
	static const uint8_t a[4] = { 10, 9, 9, 1 }, b[4] = { 10, 9, 9, 2 };

	return ct_new(helper, IPPROTO_TCP, a, sport, b, 2121);
}

/* ctflow HELPER tcp|udp SRC SPORT DST DPORT */
static int ctflow(char *argv[])
{
	struct in_addr a, b;
	uint8_t proto;

	if (!strcmp(argv[1], "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(argv[1], "udp"))
		proto = IPPROTO_UDP;
	else
		show_usage();
	if (inet_pton(AF_INET, argv[2], &a) != 1 ||
	    inet_pton(AF_INET, argv[4], &b) != 1)
		show_usage();
	return ct_new(argv[0], proto, (const uint8_t *)&a, atoi(argv[3]),
		      (const uint8_t *)&b, atoi(argv[5]));
}

/* expnew SPORT MS: for MS milliseconds, expectations one after the
 * other, through ctnetlink, on the conntrack ctnew SPORT made, each to a
 * port of its own; prints "ok CREATED REFUSED"
 */
static int exp_new(uint16_t sport, unsigned int ms)
{
	static const uint8_t a[4] = { 10, 9, 9, 1 }, b[4] = { 10, 9, 9, 2 };
	static const uint8_t ones[4] = { 0xff, 0xff, 0xff, 0xff };
	unsigned int i, created = 0, refused = 0;
	const struct pkt p = { .l3 = 4 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval t0, t;
	struct nlmsghdr *nlh;

	gettimeofday(&t0, NULL);
	for (i = 0;; i++) {
		gettimeofday(&t, NULL);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_usec - t0.tv_usec) / 1000 >= (long)ms)
			break;
		nlh = nfnl_hdr(buf, NFNL_SUBSYS_CTNETLINK_EXP,
			       IPCTNL_MSG_EXP_NEW, NLM_F_CREATE, AF_INET, 0);
		put_tuple(nlh, CTA_EXPECT_MASTER, &p, a, b, IPPROTO_TCP,
			  sport, 2121);
		put_tuple(nlh, CTA_EXPECT_TUPLE, &p, a, b, IPPROTO_TCP, 0,
			  20000 + i % 20000);
		put_tuple(nlh, CTA_EXPECT_MASK, &p, ones, ones, 0xff, 0,
			  0xffff);
		mnl_attr_put_u32(nlh, CTA_EXPECT_TIMEOUT, htonl(60));
		if (talk(nlh))
			refused++;
		else
			created++;
	}
	printf("ok %u %u\n", created, refused);
	return 0;
}

/* bulk PREFIX N: NEW helpers PREFIX0 .. PREFIX<N-1> (tcp over IPv4), one
 * request at a time; prints "ok N USEC", or the first error as "error
 * ERRNO at I" after I helpers.
 */
static int bulk_new(const char *prefix, unsigned int n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], name[16];
	struct timeval t0, t1;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	unsigned int i;
	int err;

	gettimeofday(&t0, NULL);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%u", prefix, i);
		nlh = nfnl_hdr(buf, NFNL_SUBSYS_CTHELPER,
			       NFNL_MSG_CTHELPER_NEW, NLM_F_CREATE,
			       AF_UNSPEC, 0);
		mnl_attr_put_strz(nlh, NFCTH_NAME, name);
		nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
		mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(AF_INET));
		mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, IPPROTO_TCP);
		mnl_attr_nest_end(nlh, nest);
		mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN, 0);
		put_policy(nlh, "1:c/1/10");
		err = talk(nlh);
		if (err) {
			printf("error %d at %u\n", -err, i);
			return 1;
		}
	}
	gettimeofday(&t1, NULL);
	printf("ok %u %ld\n", n, (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
					 (t1.tv_usec - t0.tv_usec)));
	return 0;
}

/* TCA_CT_HELPER_*, which older uapi headers lack, follow TCA_CT_PAD. */
#define ACT_CT_HELPER_NAME	(TCA_CT_PAD + 1)
#define ACT_CT_HELPER_FAMILY	(TCA_CT_PAD + 2)
#define ACT_CT_HELPER_PROTO	(TCA_CT_PAD + 3)

/* actct HELPER: a tc ct action that commits with HELPER (tcp over IPv4);
 * prints its ack as ctl does.
 */
static int act_ct(const char *helper)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *tab, *act, *opts;
	struct tc_ct ct = {
		.action = TC_ACT_PIPE,
	};
	struct mnl_socket *rtnl;
	struct nlmsghdr *nlh;
	struct tcamsg *t;
	int n;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWACTION;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			   NLM_F_EXCL;
	nlh->nlmsg_seq = seq++;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tca_family = AF_UNSPEC;
	tab = mnl_attr_nest_start(nlh, TCA_ACT_TAB);
	act = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "ct");
	opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_CT_PARMS, sizeof(ct), &ct);
	mnl_attr_put_u16(nlh, TCA_CT_ACTION, TCA_CT_ACT_COMMIT);
	mnl_attr_put_strz(nlh, ACT_CT_HELPER_NAME, helper);
	mnl_attr_put_u8(nlh, ACT_CT_HELPER_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, ACT_CT_HELPER_PROTO, IPPROTO_TCP);
	mnl_attr_nest_end(nlh, opts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, tab);

	rtnl = mnl_socket_open(NETLINK_ROUTE);
	if (!rtnl || mnl_socket_bind(rtnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("rtnetlink");
		return 1;
	}
	n = 1;
	mnl_socket_setsockopt(rtnl, NETLINK_EXT_ACK, &n, sizeof(n));
	if (mnl_socket_sendto(rtnl, nlh, nlh->nlmsg_len) < 0 ||
	    mnl_socket_recvfrom(rtnl, buf, sizeof(buf)) < 0) {
		perror("rtnetlink");
		return 1;
	}
	mnl_socket_close(rtnl);
	return print_ack((struct nlmsghdr *)buf) ? 1 : 0;
}

/* gso ADDR PORT SPORT SEGSIZE SEGMENTS TEXT: one UDP datagram from SPORT
 * that the kernel sends as SEGMENTS datagrams of SEGSIZE bytes, each
 * starting with TEXT, its number and a dash.
 */
static int send_gso(char *argv[])
{
	unsigned int seg = atoi(argv[3]), n = atoi(argv[4]), i;
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	char buf[0x10000];
	int fd, gso = seg;

	if (!seg || !n || seg * n > sizeof(buf) ||
	    inet_pton(AF_INET, argv[0], &dst.sin_addr) != 1)
		show_usage();
	dst.sin_port = htons(atoi(argv[1]));
	src.sin_port = htons(atoi(argv[2]));
	memset(buf, '.', seg * n);
	for (i = 0; i < n; i++) {
		char head[64];
		unsigned int len;

		len = snprintf(head, sizeof(head), "%s%u-", argv[5], i);
		if (len >= sizeof(head))
			len = sizeof(head) - 1;
		memcpy(buf + i * seg, head, len < seg ? len : seg - 1);
		buf[(i + 1) * seg - 1] = '\n';
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)) < 0 ||
	    sendto(fd, buf, seg * n, 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0) {
		perror("gso");
		return 1;
	}
	close(fd);
	return 0;
}

/* udp ADDR PORT SPORT N: N datagrams from SPORT, "x00001" to "xN", at
 * a pace a veth backlog takes
 */
static int send_udp(char *argv[])
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned int n = atoi(argv[3]), i;
	char buf[16];
	int fd, len;

	if (inet_pton(AF_INET, argv[0], &dst.sin_addr) != 1)
		show_usage();
	dst.sin_port = htons(atoi(argv[1]));
	src.sin_port = htons(atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("udp");
		return 1;
	}
	for (i = 1; i <= n; i++) {
		len = snprintf(buf, sizeof(buf), "x%05u\n", i);
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&dst,
			   sizeof(dst)) < 0) {
			perror("udp");
			return 1;
		}
		usleep(200);
	}
	close(fd);
	return 0;
}

int main(int argc, char *argv[])
{
	int one = 1;

	if (argc < 2)
		show_usage();

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Verdict errors come back as acks without asking for them. */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	if (!strcmp(argv[1], "ctl"))
		return ctl(argc - 2, argv + 2);
	if (!strcmp(argv[1], "helper"))
		return run_helper(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verdict") && argc == 5) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nfqnl_msg_verdict_hdr vh;
		struct nlmsghdr *nlh;

		/* verdict QUEUE ID VERDICT, from a socket that owns nothing */
		nlh = nfnl_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT,
			       NLM_F_ACK, AF_UNSPEC, atoi(argv[2]));
		vh.id = htonl(strtoul(argv[3], NULL, 0));
		vh.verdict = htonl(strtoul(argv[4], NULL, 0));
		mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
		return send_print_ack(nlh);
	}
	if (!strcmp(argv[1], "ctnew") && argc == 4)
		return ctnew(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "ctflow") && argc == 8)
		return ctflow(argv + 2);
	if (!strcmp(argv[1], "udp") && argc == 6)
		return send_udp(argv + 2);
	if (!strcmp(argv[1], "expnew") && argc == 4)
		return exp_new(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(argv[1], "bulk") && argc == 4)
		return bulk_new(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "actct") && argc == 3)
		return act_ct(argv[2]);
	if (!strcmp(argv[1], "gso") && argc == 8)
		return send_gso(argv + 2);
	show_usage();
	return 2;
}
