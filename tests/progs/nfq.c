// SPDX-License-Identifier: GPL-2.0
/*
 * nfq: minimal nfnetlink_queue listener for the foundation tests.
 *
 * Binds one queue, optionally with NFQA_CFG_F_CONNTRACK, accepts every
 * packet it gets and exits after a packet count or a timeout.
 *
 * usage: nfq [-q QUEUE] [-c] [-n COUNT] [-t SECONDS]
 * exit:  0 COUNT packets seen, 1 setup error, 2 timeout before COUNT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfnl.h"

static struct mnl_socket *nl;
static unsigned int portid;
static unsigned int seen;

static int parse_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= NFQA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *tb[NFQA_MAX + 1] = {};
	struct nfqnl_msg_packet_hdr *ph;
	uint16_t queue = *(uint16_t *)data;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfqnl_msg_verdict_hdr vh;
	struct nlmsghdr *v;
	unsigned int len = 0;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), parse_attr, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[NFQA_PACKET_HDR])
		return MNL_CB_ERROR;
	ph = mnl_attr_get_payload(tb[NFQA_PACKET_HDR]);
	if (tb[NFQA_PAYLOAD])
		len = mnl_attr_get_payload_len(tb[NFQA_PAYLOAD]);
	seen++;
	printf("packet id=%u len=%u ct=%d\n", ntohl(ph->packet_id), len,
	       tb[NFQA_CT] != NULL);
	fflush(stdout);

	v = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT, queue);
	vh.verdict = htonl(NF_ACCEPT);
	vh.id = ph->packet_id;
	mnl_attr_put(v, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	if (mnl_socket_sendto(nl, v, v->nlmsg_len) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

int main(int argc, char *argv[])
{
	struct nfqnl_msg_config_params params;
	struct nfqnl_msg_config_cmd cmd;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int count = 0;
	struct timeval tv = { .tv_sec = 10 };
	uint16_t queue = 0;
	struct nlmsghdr *nlh;
	int conntrack = 0;
	int opt, ret;

	while ((opt = getopt(argc, argv, "q:cn:t:")) != -1) {
		switch (opt) {
		case 'q': queue = atoi(optarg); break;
		case 'c': conntrack = 1; break;
		case 'n': count = atoi(optarg); break;
		case 't': tv.tv_sec = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: nfq [-q QUEUE] [-c] [-n COUNT] [-t SECONDS]\n");
			return 1;
		}
	}

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, queue);
	cmd.command = NFQNL_CFG_CMD_BIND;
	cmd.pf = 0;
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	ret = nfnl_talk(nl, nlh);
	if (ret < 0) {
		printf("bind: %s\n", strerror(-ret));
		return 1;
	}

	nlh = nfnl_put_hdr(buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, queue);
	params.copy_range = htonl(0xffff);
	params.copy_mode = NFQNL_COPY_PACKET;
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	if (conntrack) {
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
	}
	ret = nfnl_talk(nl, nlh);
	if (ret < 0) {
		printf("config: %s\n", strerror(-ret));
		return 1;
	}
	printf("ready queue=%u conntrack=%d\n", queue, conntrack);
	fflush(stdout);

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!count || seen < count) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				printf("timeout after %u packets\n", seen);
				return 2;
			}
			/* the kernel dropped what did not fit: go on */
			if (errno == ENOBUFS)
				continue;
			perror("recv");
			return 1;
		}
		ret = mnl_cb_run(buf, ret, 0, portid, on_packet, &queue);
		if (ret < 0) {
			perror("packet");
			return 1;
		}

	}
	mnl_socket_close(nl);
	return 0;
}
