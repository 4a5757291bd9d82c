// SPDX-License-Identifier: GPL-2.0
/*
 * ctattrs: the shape of the conntrack that nfnetlink_queue (NFQA_CT) and
 * nfnetlink_log (NFULA_CT) attach to packets.
 *
 * Binds queue QUEUE with NFQA_CFG_F_CONNTRACK and log group GROUP with
 * NFULNL_CFG_F_CONNTRACK, accepts every queued packet, and prints one line
 * per message: "queue" or "log", then the attribute tree of the conntrack
 * and its ctinfo: attribute types in the order the kernel put them, a
 * nest (NLA_F_NESTED) as TYPE{...}.  Values are left out, so the output of
 * two kernels for the same traffic compares line for line.  Prints the
 * first COUNT messages of each kind and goes on accepting packets; once
 * it has both counts, it stops after IDLE seconds without a message
 * (default 2), and gives up when it has not got them after WAIT seconds
 * (default 30).
 *
 * usage: ctattrs [-q QUEUE] [-g GROUP] [-n COUNT] [-t IDLE] [-w WAIT]
 * exit:  0 COUNT of each seen, 1 setup error, 2 fewer seen
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfnl.h"

static struct mnl_socket *nl;
static unsigned int queued, logged, count = 1;

/* TYPE or TYPE{...} for each attribute of PAYLOAD, comma separated. */
static void print_tree(const void *payload, size_t len)
{
	const struct nlattr *attr;
	bool first = true;

	mnl_attr_for_each_payload(payload, len) {
		printf("%s%u", first ? "" : ",", mnl_attr_get_type(attr));
		first = false;
		if (attr->nla_type & NLA_F_NESTED) {
			putchar('{');
			print_tree(mnl_attr_get_payload(attr),
				   mnl_attr_get_payload_len(attr));
			putchar('}');
		}
	}
}

static void print_ct(const char *kind, const struct nlattr *ct,
		     const struct nlattr *info)
{
	printf("%s ct=", kind);
	if (ct)
		print_tree(mnl_attr_get_payload(ct),
			   mnl_attr_get_payload_len(ct));
	else
		printf("none");
	if (info)
		printf(" ctinfo=%u", ntohl(mnl_attr_get_u32(info)));
	printf("\n");
	fflush(stdout);
}

struct attrs {
	const struct nlattr *tb[64];
};

static int parse_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type < 64)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static int on_msg(const struct nlmsghdr *nlh, void *data __attribute__((unused)))
{
	unsigned int subsys = nlh->nlmsg_type >> 8;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfqnl_msg_verdict_hdr vh;
	struct nfqnl_msg_packet_hdr *ph;
	const struct nfgenmsg *nfg;
	struct attrs a = {};
	struct nlmsghdr *v;

	if (mnl_attr_parse(nlh, sizeof(*nfg), parse_cb, &a) < 0)
		return MNL_CB_ERROR;
	nfg = mnl_nlmsg_get_payload(nlh);

	if (subsys == NFNL_SUBSYS_ULOG) {
		if (logged++ < count)
			print_ct("log", a.tb[NFULA_CT], a.tb[NFULA_CT_INFO]);
		return MNL_CB_OK;
	}
	if (subsys != NFNL_SUBSYS_QUEUE || !a.tb[NFQA_PACKET_HDR])
		return MNL_CB_OK;

	if (queued++ < count)
		print_ct("queue", a.tb[NFQA_CT], a.tb[NFQA_CT_INFO]);
	ph = mnl_attr_get_payload(a.tb[NFQA_PACKET_HDR]);
	v = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT,
			 ntohs(nfg->res_id));
	vh.verdict = htonl(NF_ACCEPT);
	vh.id = ph->packet_id;
	mnl_attr_put(v, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	return mnl_socket_sendto(nl, v, v->nlmsg_len) < 0 ?
	       MNL_CB_ERROR : MNL_CB_OK;
}

static int setup_queue(uint16_t queue)
{
	struct nfqnl_msg_config_params params = {
		.copy_range = htonl(0xffff),
		.copy_mode = NFQNL_COPY_PACKET,
	};
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, queue);
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	ret = nfnl_talk(nl, nlh);
	if (ret < 0)
		return ret;
	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, queue);
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
	return nfnl_talk(nl, nlh);
}

static int setup_log(uint16_t group)
{
	struct nfulnl_msg_config_mode mode = {
		.copy_range = htonl(0xffff),
		.copy_mode = NFULNL_COPY_PACKET,
	};
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	ret = nfnl_talk(nl, nlh);
	if (ret < 0)
		return ret;
	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	return nfnl_talk(nl, nlh);
}

int main(int argc, char *argv[])
{
	struct timeval tv = { .tv_sec = 1 };
	unsigned int idle = 2, wait = 30, quiet = 0, waited = 0;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t queue = 0, group = 0;
	int opt, ret;

	while ((opt = getopt(argc, argv, "q:g:n:t:w:")) != -1) {
		switch (opt) {
		case 'q':
			queue = atoi(optarg);
			break;
		case 'g':
			group = atoi(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 't':
			idle = atoi(optarg);
			break;
		case 'w':
			wait = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: ctattrs [-q QUEUE] [-g GROUP] [-n COUNT] [-t IDLE] [-w WAIT]\n");
			return 1;
		}
	}

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	ret = setup_queue(queue);
	if (ret < 0) {
		printf("queue %u: %s\n", queue, strerror(-ret));
		return 1;
	}
	ret = setup_log(group);
	if (ret < 0) {
		printf("log group %u: %s\n", group, strerror(-ret));
		return 1;
	}
	fprintf(stderr, "ready\n");

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
		   &tv, sizeof(tv));
	/* one second at a time */
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				perror("recv");
				return 1;
			}
			waited++;
			if (queued >= count && logged >= count) {
				if (++quiet >= idle)
					break;
			} else if (waited >= wait) {
				printf("timeout: %u queued, %u logged\n",
				       queued, logged);
				return 2;
			}
			continue;
		}
		quiet = 0;
		ret = mnl_cb_run(buf, ret, 0, 0, on_msg, NULL);
		if (ret < 0) {
			perror("message");
			return 1;
		}
	}
	mnl_socket_close(nl);
	return 0;
}
