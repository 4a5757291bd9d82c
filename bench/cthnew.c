// SPDX-License-Identifier: GPL-2.0
/*
 * cthnew: NEW requests to nfnetlink_cthelper in the current network
 * namespace, each one timed.
 *
 *   cthnew [-c] PREFIX N
 *
 * NEWs helpers PREFIX0 .. PREFIX<N-1> one request at a time, as
 * "nf_cthelper bulk" does (tcp over IPv4, no private data, one expectation
 * class).  Before them, unless -c (cold), the same message goes over the
 * same socket as a GET of a helper that does not exist: under TCG the
 * first request of a process costs far more than the next ones, whatever
 * it is, and that GET pays for it, so the NEWs show what the kernel
 * spends on them.
 *
 * Prints "ok N TOTAL_US FIRST_US MEDIAN_US MAX_US", the times of the requests
 * from sending to the ack (TOTAL_US their sum), or "error ERRNO at I".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>

static struct mnl_socket *nl;
static unsigned int seq = 1;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct nlmsghdr *header(char *buf, int type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTHELPER << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Send NLH; the error its ack carries (0 for success) */
static int talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *ack = (struct nlmsghdr *)buf;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    mnl_socket_recvfrom(nl, buf, sizeof(buf)) < 0)
		return -errno;
	if (ack->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)mnl_nlmsg_get_payload(ack))->error;
}

/* A helper NAME of NEW's, in a TYPE request */
static struct nlmsghdr *helper_msg(char *buf, int type, uint16_t flags,
				   const char *name)
{
	struct nlmsghdr *nlh = header(buf, type, flags);
	struct nlattr *nest, *set;

	mnl_attr_put_strz(nlh, NFCTH_NAME, name);
	nest = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
	mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(AF_INET));
	mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, IPPROTO_TCP);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN, 0);
	nest = mnl_attr_nest_start(nlh, NFCTH_POLICY);
	mnl_attr_put_u32(nlh, NFCTH_POLICY_SET_NUM, htonl(1));
	set = mnl_attr_nest_start(nlh, NFCTH_POLICY_SET);
	mnl_attr_put_strz(nlh, NFCTH_POLICY_NAME, "c");
	mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_MAX, htonl(1));
	mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_TIMEOUT, htonl(10));
	mnl_attr_nest_end(nlh, set);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char *argv[])
{
	char buf[MNL_SOCKET_BUFFER_SIZE], name[16];
	struct nlmsghdr *nlh;
	unsigned int i, n;
	double *t, t0, total = 0;
	int cold = 0, err;

	if (argc > 1 && !strcmp(argv[1], "-c")) {
		cold = 1;
		argv++;
		argc--;
	}
	if (argc != 3 || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: cthnew [-c] PREFIX N\n");
		return 2;
	}
	n = atoi(argv[2]);
	t = calloc(n, sizeof(*t));
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!t || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("cthnew");
		return 1;
	}

	if (!cold)
		talk(helper_msg(buf, NFNL_MSG_CTHELPER_GET, 0, "cthnew-warm-up"));

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%u", argv[1], i);
		nlh = helper_msg(buf, NFNL_MSG_CTHELPER_NEW, NLM_F_CREATE, name);
		t0 = now_us();
		err = talk(nlh);
		t[i] = now_us() - t0;
		if (err) {
			printf("error %d at %u\n", -err, i);
			return 1;
		}
		total += t[i];
	}
	printf("ok %u %.0f %.0f", n, total, t[0]);
	qsort(t, n, sizeof(*t), cmp);
	printf(" %.0f %.0f\n", t[(n - 1) / 2], t[n - 1]);
	return 0;
}
