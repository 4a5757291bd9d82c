/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test programs share to talk nfnetlink: a request header and a
 * configuration request that waits for its ack.
 */
#ifndef TESTS_PROGS_NFNL_H
#define TESTS_PROGS_NFNL_H

#include <errno.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

/* A request to SUBSYS of TYPE for resource RES (queue or log group). */
static inline struct nlmsghdr *nfnl_put_hdr(char *buf, int subsys, int type,
					    uint16_t res)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (subsys << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res);
	return nlh;
}

/* Send NLH with NLM_F_ACK; 0 or -errno from the ack. */
static inline int nfnl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsgerr *err;
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	err = mnl_nlmsg_get_payload(nlh);
	return err->error;
}

#endif
