// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfnetlink_cthelper: connection tracking helpers in userspace.
 *
 * A helper registered here is an nf_conntrack_helper like the in-kernel
 * ones: the CT target and nft ct helper objects attach it to flows by
 * name.  Its help function parses nothing: it queues the packet to the
 * helper's nfnetlink_queue, where a userspace process parses the protocol
 * and answers with a verdict that may carry the helper's private data and
 * new expectations (the ctnetlink glue of nfnetlink_queue).  Conntrack
 * completes the packet when the verdict reinjects it.  A helper may give a
 * classic BPF filter that keeps the packets its daemon does not need out
 * of the queue.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/filter.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/rculist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <linux/stringhash.h>
#include <linux/tcp.h>
#include <linux/u64_stats_sync.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_seqadj.h>
#include <net/netfilter/nf_queue.h>

/* Longest expectation timeout we accept, in seconds: the expectation timer
 * is set to timeout * HZ jiffies, which must not wrap.
 */
#define NFNL_CTHELPER_TIMEOUT_MAX	(INT_MAX / HZ)

/* Nested attributes are parsed as nfnetlink parses the top level, and as
 * this subsystem always has: attributes it does not know, nests without
 * NLA_F_NESTED and trailing bytes pass, so that no request that worked
 * stops working.  Lengths are checked (too short is -ERANGE).
 */
#define NFNL_CTHELPER_VALIDATE	NL_VALIDATE_LIBERAL

/* What became of the packets of a helper's flows, per CPU: the help
 * function and nfnetlink_queue count at packet rate, also when no daemon
 * runs.
 */
struct nfnl_cthelper_stats {
	u64_stats_t			cnt[__NF_CT_HELPER_ACCT_MAX];
	struct u64_stats_sync		syncp;
};

/* NFCTH_FILTER: the program as the checker took it, and as given, for
 * GET.  Replaced whole by an update; freed after a grace period.
 */
struct nfnl_cthelper_filter {
	struct bpf_prog			*prog;
	struct rcu_head			rcu;
	unsigned int			len;
	struct sock_filter		insns[] __counted_by(len);
};

/* Instructions a filter may have: it must fit a GET reply with the rest of
 * the helper, and a protocol's test needs few (the FTP filter of the
 * documentation has 13).
 */
#define NFNL_CTHELPER_FILTER_MAX	256
#define NFNL_CTHELPER_FILTER_BYTES	\
	(NFNL_CTHELPER_FILTER_MAX * sizeof(struct sock_filter))

struct nfnl_cthelper {
	struct list_head		list;
	struct hlist_node		hnode;
	struct nf_conntrack_helper	helper;
	struct nf_conntrack_expect_policy policy[NF_CT_MAX_EXPECT_CLASSES];
	struct nfnl_cthelper_stats __percpu *stats;
	struct nfnl_cthelper_filter __rcu *filter;
	u16				queue_num;
	/* being unregistered, see nfnl_cthelper_unregister() */
	struct list_head		dying_list;
	struct rcu_head			rcu;
};

static struct nfnl_cthelper *nfnl_cthelper(struct nf_conntrack_helper *helper)
{
	return container_of(helper, struct nfnl_cthelper, helper);
}

/* helper->account: nfnetlink_queue and the help function count here */
static void nfnl_cthelper_account(struct nf_conntrack_helper *helper,
				  enum nf_ct_helper_acct what)
{
	struct nfnl_cthelper_stats *stats;
	unsigned long flags;

	stats = get_cpu_ptr(nfnl_cthelper(helper)->stats);
	flags = u64_stats_update_begin_irqsave(&stats->syncp);
	u64_stats_inc(&stats->cnt[what]);
	u64_stats_update_end_irqrestore(&stats->syncp, flags);
	put_cpu_ptr(nfnl_cthelper(helper)->stats);
}

static void nfnl_cthelper_filter_free(struct nfnl_cthelper_filter *filter)
{
	if (!filter)
		return;

	bpf_prog_destroy(filter->prog);
	kfree(filter);
}

static void nfnl_cthelper_filter_free_rcu(struct rcu_head *head)
{
	nfnl_cthelper_filter_free(container_of(head,
					       struct nfnl_cthelper_filter,
					       rcu));
}

/* No reader is left: the helper is unreachable and a grace period passed */
static void nfnl_cthelper_free(struct nfnl_cthelper *h)
{
	nfnl_cthelper_filter_free(rcu_dereference_protected(h->filter, true));
	free_percpu(h->stats);
	kfree(h);
}

/* A helper belongs to the network namespace that registered it: only that
 * namespace sees it here and finds it by name (nfnl_cthelper_netns), and
 * its queue is that namespace's.  Nothing is shared between namespaces:
 * the list keeps the helpers in creation order for dumps, the table finds
 * them by name.  Writers hold the nfnl mutex of NFNL_SUBSYS_CTHELPER;
 * lookups and dumps read under RCU.
 */
#define NFNL_CTHELPER_HASH_BITS	6

/* How many helpers a namespace may have (net.netfilter.nfnl_cthelper_max):
 * enough for a whole helper daemon, twice over for IPv4 and IPv6.  The
 * initial namespace's value is also the most any other namespace gets.
 */
#define NFNL_CTHELPER_MAX_DEFAULT	64
#define NFNL_CTHELPER_MAX_LIMIT		65536

struct nfnl_cthelper_net {
	struct list_head		helpers;
	struct hlist_head		table[1 << NFNL_CTHELPER_HASH_BITS];
	unsigned int			count;
	unsigned int			max;
	/* one unregistration at a time, see nfnl_cthelper_del() */
	struct mutex			unregister_mutex;
#ifdef CONFIG_SYSCTL
	struct ctl_table_header		*sysctl_header;
#endif
};

static unsigned int nfnl_cthelper_net_id __read_mostly;

static struct nfnl_cthelper_net *nfnl_cthelper_pernet(const struct net *net)
{
	return net_generic(net, nfnl_cthelper_net_id);
}

static struct list_head *nfnl_cthelper_list(const struct net *net)
{
	return &nfnl_cthelper_pernet(net)->helpers;
}

/* @net's limit: its own, never above the initial namespace's */
static unsigned int nfnl_cthelper_max(const struct net *net)
{
	return min(READ_ONCE(nfnl_cthelper_pernet(net)->max),
		   READ_ONCE(nfnl_cthelper_pernet(&init_net)->max));
}

static struct hlist_head *nfnl_cthelper_bucket(const struct net *net,
					       const char *name)
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(net);
	u32 hash = full_name_hash(NULL, name, strlen(name));

	return &cnet->table[hash_32(hash, NFNL_CTHELPER_HASH_BITS)];
}

#define nfnl_cthelper_lockdep_held() lockdep_nfnl_is_held(NFNL_SUBSYS_CTHELPER)

/* Whether the packet carries data: a TCP segment may not.  A header
 * that cannot be read is left to the daemon.
 */
static bool nfnl_cthelper_has_payload(const struct sk_buff *skb,
				      unsigned int protoff,
				      const struct nf_conn *ct)
{
	const struct tcphdr *th;
	struct tcphdr _th;

	if (nf_ct_protonum(ct) != IPPROTO_TCP)
		return true;

	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return true;

	return skb->len > protoff + th->doff * 4;
}

/* The help function: hand the packet to userspace.  A disabled helper lets
 * packets through untouched.
 *
 * When nobody listens on the queue (the daemon died or is restarting), a
 * fail-open helper must neither lose the packet nor block the flow.
 * Returning NF_ACCEPT lets nf_confirm() go on and confirm the conntrack,
 * in its true direction and with its helper, so that the flow is helped
 * again once the daemon is back.  A listener that goes away right after
 * the check leaves the packet to the queue's bypass, after which conntrack
 * completes it just the same.  A full queue applies its own policy.
 *
 * A fail-closed helper drops what its daemon cannot see: packets that find
 * nobody listening or the queue full.  It never asks for the bypass, so a
 * listener that goes away right after the check gets the packet dropped
 * by nf_queue() too.
 *
 * A payload-only helper lets TCP segments without data through: the daemon
 * parses payload, conntrack follows the TCP state by itself.  Not on a flow
 * that NAT may have to adjust: a verdict may change a queued segment's
 * length, and the segments after it must not overtake it, or they would
 * leave with unadjusted sequence numbers.
 *
 * A helper's filter keeps out of the queue the packets for which it
 * returns zero, with the same exception.  It reads the packet from its
 * network header, where skb->data is in every hook that runs helpers.
 * What payload-only queueing or the filter lets through may overtake a
 * packet of the same flow that waits in the queue.
 *
 * A fail-closed helper looks at its queue first: while nobody listens,
 * nothing passes, not even what payload-only queueing or the filter would
 * let through, so that no flow starts without the daemon.  That one look
 * also decides whether the packet is queued: if the listener leaves in
 * between, nf_queue() drops the packet; if the queue fills in between, so
 * does nfnetlink_queue, NFQA_CFG_F_FAIL_OPEN or not.
 */
static int nfnl_cthelper_queue(struct sk_buff *skb, unsigned int protoff,
			       struct nf_conn *ct,
			       enum ip_conntrack_info ctinfo)
{
	enum nf_queue_state state = NF_QUEUE_ABSENT;
	const struct nfnl_cthelper_filter *filter;
	struct nf_conntrack_helper *helper;
	struct nfnl_cthelper *h;
	unsigned int queue, flags;
	bool fail_closed, adjusted;

	helper = rcu_dereference(nfct_help(ct)->helper);
	if (!helper)
		return NF_ACCEPT;

	/* acquire: pairs with nfnl_cthelper_update() */
	flags = smp_load_acquire(&helper->flags);
	if (!(flags & NF_CT_HELPER_F_CONFIGURED))
		return NF_ACCEPT;

	h = nfnl_cthelper(helper);
	queue = READ_ONCE(h->queue_num);
	fail_closed = flags & NF_CT_HELPER_F_FAIL_CLOSED;
	if (fail_closed) {
		state = nf_queue_state(nf_ct_net(ct), queue);
		if (state == NF_QUEUE_ABSENT)
			goto drop;
	}

	adjusted = nfct_seqadj(ct);
	if ((flags & NF_CT_HELPER_F_PAYLOAD_ONLY) && !adjusted &&
	    !nfnl_cthelper_has_payload(skb, protoff, ct))
		return NF_ACCEPT;

	filter = rcu_dereference(h->filter);
	if (filter && !adjusted && !bpf_prog_run_save_cb(filter->prog, skb)) {
		nfnl_cthelper_account(helper, NF_CT_HELPER_ACCT_FILTERED);
		return NF_ACCEPT;
	}

	if (!fail_closed)
		state = nf_queue_state(nf_ct_net(ct), queue);
	if (state == NF_QUEUE_ROOM ||
	    (state == NF_QUEUE_FULL && !fail_closed)) {
		/* counted by nfnetlink_queue once it has the packet */
		if (fail_closed)
			return NF_QUEUE_NR(queue) |
			       NF_VERDICT_FLAG_CT_FAIL_CLOSED;
		return NF_QUEUE_NR(queue) | NF_VERDICT_FLAG_QUEUE_BYPASS;
	}

	if (fail_closed)
		goto drop;

	nfnl_cthelper_account(helper, NF_CT_HELPER_ACCT_BYPASSED);
	return NF_ACCEPT;

drop:
	nfnl_cthelper_account(helper, NF_CT_HELPER_ACCT_DROPPED);
	return NF_DROP;
}

/* CTA_HELP_INFO from a verdict: the helper's private data, cut to its
 * declared length.
 */
static int nfnl_cthelper_from_nlattr(struct nlattr *attr, struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	const struct nf_conntrack_helper *helper;

	if (!attr || !help)
		return -EINVAL;

	helper = rcu_dereference(help->helper);
	if (!helper)
		return -EINVAL;

	memcpy(help->data, nla_data(attr),
	       min_t(u32, nla_len(attr), helper->data_len));
	return 0;
}

static int nfnl_cthelper_to_nlattr(struct sk_buff *skb,
				   const struct nf_conn *ct)
{
	const struct nf_conn_help *help = nfct_help(ct);
	const struct nf_conntrack_helper *helper;

	helper = rcu_dereference(help->helper);
	if (helper && helper->data_len &&
	    nla_put(skb, CTA_HELP_INFO, helper->data_len, &help->data))
		return -EMSGSIZE;

	return 0;
}

static const struct nla_policy
nfnl_cthelper_tuple_policy[NFCTH_TUPLE_MAX + 1] = {
	[NFCTH_TUPLE_L3PROTONUM]	= { .type = NLA_BE16 },
	[NFCTH_TUPLE_L4PROTONUM]	= { .type = NLA_U8 },
};

static const struct nla_policy
nfnl_cthelper_class_policy[NFCTH_POLICY_MAX + 1] = {
	[NFCTH_POLICY_NAME]		= { .type = NLA_NUL_STRING,
					    .len = NF_CT_HELPER_NAME_LEN - 1 },
	[NFCTH_POLICY_EXPECT_MAX]	= { .type = NLA_BE32 },
	[NFCTH_POLICY_EXPECT_TIMEOUT]	= { .type = NLA_BE32 },
};

/* The classes themselves are parsed one by one, up to NFCTH_POLICY_SET_NUM:
 * those beyond it are ignored, as they always were.
 */
static const struct nla_policy
nfnl_cthelper_classes_policy[NFCTH_POLICY_SET_MAX + 1] = {
	[NFCTH_POLICY_SET_NUM]	= { .type = NLA_BE32 },
};

static const struct nla_policy nfnl_cthelper_policy[NFCTH_MAX + 1] = {
	[NFCTH_NAME]		= { .type = NLA_NUL_STRING,
				    .len = NF_CT_HELPER_NAME_LEN - 1 },
	[NFCTH_TUPLE]		= { .type = NLA_NESTED },
	[NFCTH_QUEUE_NUM]	= { .type = NLA_BE32 },
	[NFCTH_POLICY]		= { .type = NLA_NESTED },
	[NFCTH_PRIV_DATA_LEN]	= { .type = NLA_BE32 },
	[NFCTH_STATUS]		= { .type = NLA_BE32 },
	[NFCTH_FLAGS]		= NLA_POLICY_MASK(NLA_BE32,
						  NFCTH_F_FAIL_CLOSED |
						  NFCTH_F_PAYLOAD_ONLY),
	[NFCTH_STATS]		= {
		.type		= NLA_REJECT,
		.reject_message	= "counters are read only",
	},
	[NFCTH_FILTER]		= { .type = NLA_BINARY },
};

/* NL_REQ_ATTR_CHECK() for the top level: the macro wants a writable
 * table, nfnetlink passes its callbacks a const one.
 */
static bool nfnl_cthelper_missing(struct netlink_ext_ack *extack,
				  const struct nlattr * const tb[], u32 type)
{
	if (tb[type])
		return false;
	NL_SET_ERR_ATTR_MISS(extack, NULL, type);
	return true;
}

/* A NEW request, parsed and checked before anything changes. */
struct nfnl_cthelper_req {
	const char *name;
	struct nf_conntrack_tuple tuple;
	struct nf_conntrack_expect_policy policy[NF_CT_MAX_EXPECT_CLASSES];
	unsigned int classes;	/* 0 without NFCTH_POLICY */
	u32 queue_num;
	u32 data_len;
	u32 status;
	u32 flags;		/* NFCTH_F_* */
	const struct nlattr *filter;	/* NFCTH_FILTER, its length checked */
};

static int nfnl_cthelper_parse_name(const struct nlattr *attr,
				    const char **name,
				    struct netlink_ext_ack *extack)
{
	*name = nla_data(attr);
	if (!**name) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "helper name is empty");
		return -EINVAL;
	}
	return 0;
}

static int nfnl_cthelper_parse_tuple(struct nf_conntrack_tuple *tuple,
				     const struct nlattr *attr,
				     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFCTH_TUPLE_MAX + 1];
	u16 l3num;
	int err;

	err = __nla_parse(tb, NFCTH_TUPLE_MAX, nla_data(attr), nla_len(attr),
			  nfnl_cthelper_tuple_policy,
			  NFNL_CTHELPER_VALIDATE, extack);
	if (err < 0)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_TUPLE_L3PROTONUM) ||
	    NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_TUPLE_L4PROTONUM))
		return -EINVAL;

	l3num = ntohs(nla_get_be16(tb[NFCTH_TUPLE_L3PROTONUM]));
	switch (l3num) {
	case NFPROTO_UNSPEC:	/* both */
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_TUPLE_L3PROTONUM],
				    "layer 3 protocol must be IPv4, IPv6 or 0 (both)");
		return -EINVAL;
	}

	memset(tuple, 0, sizeof(*tuple));
	tuple->src.l3num = l3num;
	tuple->dst.protonum = nla_get_u8(tb[NFCTH_TUPLE_L4PROTONUM]);
	return 0;
}

static int nfnl_cthelper_parse_class(struct nf_conntrack_expect_policy *pol,
				     const struct nlattr *attr,
				     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFCTH_POLICY_MAX + 1];
	const char *name;
	u32 max;
	int err;

	err = __nla_parse(tb, NFCTH_POLICY_MAX, nla_data(attr), nla_len(attr),
			  nfnl_cthelper_class_policy,
			  NFNL_CTHELPER_VALIDATE, extack);
	if (err < 0)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_POLICY_NAME) ||
	    NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_POLICY_EXPECT_MAX) ||
	    NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_POLICY_EXPECT_TIMEOUT))
		return -EINVAL;

	/* A class may be unnamed: expectations name it by number. */
	name = nla_data(tb[NFCTH_POLICY_NAME]);

	max = ntohl(nla_get_be32(tb[NFCTH_POLICY_EXPECT_MAX]));
	if (max > NF_CT_EXPECT_MAX_CNT) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_POLICY_EXPECT_MAX],
				    "more than 255 expectations per class");
		return -EINVAL;
	}

	strscpy(pol->name, name, sizeof(pol->name));
	pol->max_expected = max;
	pol->timeout = ntohl(nla_get_be32(tb[NFCTH_POLICY_EXPECT_TIMEOUT]));
	pol->timeout = min_t(u32, pol->timeout, NFNL_CTHELPER_TIMEOUT_MAX);
	return 0;
}

static int nfnl_cthelper_parse_classes(struct nfnl_cthelper_req *req,
				       const struct nlattr *attr,
				       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NFCTH_POLICY_SET_MAX + 1];
	unsigned int i, num;
	int err;

	err = __nla_parse(tb, NFCTH_POLICY_SET_MAX,
			  nla_data(attr), nla_len(attr),
			  nfnl_cthelper_classes_policy,
			  NFNL_CTHELPER_VALIDATE, extack);
	if (err < 0)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_POLICY_SET_NUM))
		return -EINVAL;

	num = ntohl(nla_get_be32(tb[NFCTH_POLICY_SET_NUM]));
	if (!num) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_POLICY_SET_NUM],
				    "at least one expectation class is needed");
		return -EINVAL;
	}
	if (num > NF_CT_MAX_EXPECT_CLASSES) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_POLICY_SET_NUM],
				    "at most 4 expectation classes");
		return -EOVERFLOW;
	}

	for (i = 0; i < num; i++) {
		if (NL_REQ_ATTR_CHECK(extack, attr, tb, NFCTH_POLICY_SET1 + i))
			return -EINVAL;

		err = nfnl_cthelper_parse_class(&req->policy[i],
						tb[NFCTH_POLICY_SET1 + i],
						extack);
		if (err < 0)
			return err;
	}
	req->classes = num;
	return 0;
}

static int nfnl_cthelper_parse(struct nfnl_cthelper_req *req,
			       const struct nlattr * const tb[],
			       struct netlink_ext_ack *extack)
{
	int err;

	/* A new helper without NFCTH_STATUS starts disabled, as it always
	 * has: nfct registers the stub, the daemon enables it.
	 */
	memset(req, 0, sizeof(*req));
	req->status = NFCT_HELPER_STATUS_DISABLED;

	err = nfnl_cthelper_parse_name(tb[NFCTH_NAME], &req->name, extack);
	if (err < 0)
		return err;

	err = nfnl_cthelper_parse_tuple(&req->tuple, tb[NFCTH_TUPLE], extack);
	if (err < 0)
		return err;

	if (tb[NFCTH_POLICY]) {
		err = nfnl_cthelper_parse_classes(req, tb[NFCTH_POLICY],
						  extack);
		if (err < 0)
			return err;
	}

	if (tb[NFCTH_PRIV_DATA_LEN]) {
		req->data_len = ntohl(nla_get_be32(tb[NFCTH_PRIV_DATA_LEN]));
		if (req->data_len > sizeof_field(struct nf_conn_help, data)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_PRIV_DATA_LEN],
					    "private data longer than 32 bytes");
			return -EINVAL;
		}
	}

	if (tb[NFCTH_QUEUE_NUM]) {
		req->queue_num = ntohl(nla_get_be32(tb[NFCTH_QUEUE_NUM]));
		if (req->queue_num > U16_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_QUEUE_NUM],
					    "queue number above 65535");
			return -EINVAL;
		}
	}

	if (tb[NFCTH_STATUS]) {
		req->status = ntohl(nla_get_be32(tb[NFCTH_STATUS]));
		if (req->status != NFCT_HELPER_STATUS_ENABLED &&
		    req->status != NFCT_HELPER_STATUS_DISABLED) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_STATUS],
					    "status must be 0 (disabled) or 1 (enabled)");
			return -EINVAL;
		}
	}

	/* the policy refused unknown bits */
	if (tb[NFCTH_FLAGS])
		req->flags = ntohl(nla_get_be32(tb[NFCTH_FLAGS]));

	/* the program itself is checked when it is built */
	if (tb[NFCTH_FILTER]) {
		unsigned int len = nla_len(tb[NFCTH_FILTER]);

		if (len % sizeof(struct sock_filter)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_FILTER],
					    "filter is not a whole number of instructions");
			return -EINVAL;
		}
		if (len > NFNL_CTHELPER_FILTER_BYTES) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_FILTER],
					    "filter longer than 256 instructions");
			return -EINVAL;
		}
		req->filter = tb[NFCTH_FILTER];
	}
	return 0;
}

/* The filter of @attr, whose length nfnl_cthelper_parse() checked; none
 * (NULL) when it is empty.  The classic BPF checker refuses what socket
 * filters refuse.  The program is charged to the caller's memory cgroup
 * as socket filters are; a JIT image counts against the host's
 * bpf_jit_limit, as theirs do.
 */
static int nfnl_cthelper_filter_create(const struct nlattr *attr,
				       struct nfnl_cthelper_filter **filter,
				       struct netlink_ext_ack *extack)
{
	unsigned int len = nla_len(attr) / sizeof(struct sock_filter);
	struct nfnl_cthelper_filter *f;
	struct sock_fprog_kern fprog;
	int err;

	*filter = NULL;
	if (!len)
		return 0;

	f = kmalloc(struct_size(f, insns, len), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;

	f->len = len;
	memcpy(f->insns, nla_data(attr), len * sizeof(f->insns[0]));
	fprog.len = len;
	fprog.filter = f->insns;
	err = bpf_prog_create(&f->prog, &fprog);
	if (err < 0) {
		kfree(f);
		if (err == -EINVAL) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "filter refused by the classic BPF checker");
		} else if (err != -ENOMEM) {
			/* the JIT is required and failed (an errno internal
			 * to the kernel), or the image could not be protected
			 */
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "filter could not be compiled");
			err = -EOPNOTSUPP;
		}
		return err;
	}

	*filter = f;
	return 0;
}

static struct nfnl_cthelper *
nfnl_cthelper_find(const struct net *net, const char *name,
		   const struct nf_conntrack_tuple *tuple)
{
	struct nfnl_cthelper *h;

	hlist_for_each_entry_rcu(h, nfnl_cthelper_bucket(net, name), hnode,
				 nfnl_cthelper_lockdep_held()) {
		if (!strcmp(h->helper.name, name) &&
		    h->helper.tuple.src.l3num == tuple->src.l3num &&
		    h->helper.tuple.dst.protonum == tuple->dst.protonum)
			return h;
	}
	return NULL;
}

/* nf_ct_helper_netns->find: @net's helper @name for l3num/protonum, or
 * for NFPROTO_UNSPEC (both families).  Any helper @name makes @net own the
 * name, whatever its tuple.
 */
static struct nf_conntrack_helper *
nfnl_cthelper_netns_find(const struct net *net, const char *name,
			 u16 l3num, u8 protonum, bool *owned)
{
	struct nfnl_cthelper *h;

	hlist_for_each_entry_rcu(h, nfnl_cthelper_bucket(net, name), hnode) {
		if (strcmp(h->helper.name, name))
			continue;

		*owned = true;
		if ((h->helper.tuple.src.l3num == NFPROTO_UNSPEC ||
		     h->helper.tuple.src.l3num == l3num) &&
		    h->helper.tuple.dst.protonum == protonum)
			return &h->helper;
	}
	return NULL;
}

static const struct nf_ct_helper_netns nfnl_cthelper_netns = {
	.find	= nfnl_cthelper_netns_find,
};

static unsigned int nfnl_cthelper_status_flags(u32 status)
{
	if (status == NFCT_HELPER_STATUS_ENABLED)
		return NF_CT_HELPER_F_USERSPACE | NF_CT_HELPER_F_CONFIGURED;
	return NF_CT_HELPER_F_USERSPACE;
}

/* NFCTH_F_* to NF_CT_HELPER_F_* and back */
static unsigned int nfnl_cthelper_flags_from_uapi(u32 flags)
{
	unsigned int f = 0;

	if (flags & NFCTH_F_FAIL_CLOSED)
		f |= NF_CT_HELPER_F_FAIL_CLOSED;
	if (flags & NFCTH_F_PAYLOAD_ONLY)
		f |= NF_CT_HELPER_F_PAYLOAD_ONLY;
	return f;
}

static u32 nfnl_cthelper_flags_to_uapi(unsigned int flags)
{
	u32 f = 0;

	if (flags & NF_CT_HELPER_F_FAIL_CLOSED)
		f |= NFCTH_F_FAIL_CLOSED;
	if (flags & NF_CT_HELPER_F_PAYLOAD_ONLY)
		f |= NFCTH_F_PAYLOAD_ONLY;
	return f;
}

static void nfnl_cthelper_free_rcu(struct rcu_head *head)
{
	nfnl_cthelper_free(container_of(head, struct nfnl_cthelper, rcu));
}

/* The last reference to a helper whose namespace is gone was dropped. */
static void nfnl_cthelper_release(struct nf_conntrack_helper *helper)
{
	call_rcu(&nfnl_cthelper(helper)->rcu, nfnl_cthelper_free_rcu);
}

static int nfnl_cthelper_create(struct net *net,
				const struct nfnl_cthelper_req *req,
				const struct nlattr * const tb[],
				struct netlink_ext_ack *extack)
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(net);
	struct nfnl_cthelper_filter *filter = NULL;
	struct nf_conntrack_helper *helper;
	struct nfnl_cthelper *h;
	int cpu, err;

	if (nfnl_cthelper_missing(extack, tb, NFCTH_POLICY) ||
	    nfnl_cthelper_missing(extack, tb, NFCTH_PRIV_DATA_LEN))
		return -EINVAL;

	if (cnet->count >= nfnl_cthelper_max(net)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME],
				    "too many helpers in this network namespace, see net.netfilter.nfnl_cthelper_max");
		return -ENOSPC;
	}

	rcu_read_lock();
	helper = __nf_conntrack_helper_find(NULL, req->name,
					    req->tuple.src.l3num,
					    req->tuple.dst.protonum);
	rcu_read_unlock();
	if (helper) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME],
				    "a kernel helper with this name and tuple exists");
		return -EBUSY;
	}

	if (req->filter) {
		err = nfnl_cthelper_filter_create(req->filter, &filter, extack);
		if (err < 0)
			return err;
	}

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h) {
		nfnl_cthelper_filter_free(filter);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(h->filter, filter);

	h->stats = alloc_percpu_gfp(struct nfnl_cthelper_stats,
				    GFP_KERNEL_ACCOUNT);
	if (!h->stats) {
		nfnl_cthelper_free(h);
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(h->stats, cpu)->syncp);

	memcpy(h->policy, req->policy, sizeof(h->policy));

	helper = &h->helper;
	strscpy(helper->name, req->name, sizeof(helper->name));
	helper->tuple = req->tuple;
	helper->me = THIS_MODULE;
	helper->help = nfnl_cthelper_queue;
	helper->from_nlattr = nfnl_cthelper_from_nlattr;
	helper->to_nlattr = nfnl_cthelper_to_nlattr;
	helper->expect_policy = h->policy;
	helper->expect_class_max = req->classes - 1;
	helper->data_len = req->data_len;
	h->queue_num = req->queue_num;
	helper->flags = nfnl_cthelper_status_flags(req->status) |
			nfnl_cthelper_flags_from_uapi(req->flags);
	helper->account = nfnl_cthelper_account;
	helper->release = nfnl_cthelper_release;

	/* the table's reference */
	refcount_set(&helper->refcnt, 1);
	hlist_add_head_rcu(&h->hnode, nfnl_cthelper_bucket(net, helper->name));
	list_add_tail_rcu(&h->list, &cnet->helpers);
	cnet->count++;
	return 0;
}

/* Update an existing helper: queue, status, flags, filter, and the limits
 * of its classes.  What conntracks and expectations already depend on
 * (number and names of the classes, private data length) cannot change.
 */
static int nfnl_cthelper_update(struct nfnl_cthelper *h,
				const struct nfnl_cthelper_req *req,
				const struct nlattr * const tb[],
				struct netlink_ext_ack *extack)
{
	struct nfnl_cthelper_filter *filter = NULL, *old;
	struct nf_conntrack_helper *helper = &h->helper;
	unsigned int i, flags;
	int err;

	if (tb[NFCTH_PRIV_DATA_LEN] && req->data_len != helper->data_len) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_PRIV_DATA_LEN],
				    "private data length of a helper cannot change");
		return -EBUSY;
	}

	if (req->classes) {
		if (req->classes != helper->expect_class_max + 1) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_POLICY],
					    "number of expectation classes cannot change");
			return -EBUSY;
		}
		for (i = 0; i < req->classes; i++) {
			if (strcmp(req->policy[i].name, h->policy[i].name)) {
				NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_POLICY],
						    "expectation class names cannot change");
				return -EBUSY;
			}
		}
	}

	if (req->filter) {
		err = nfnl_cthelper_filter_create(req->filter, &filter, extack);
		if (err < 0)
			return err;
	}

	/* Checked; nothing below fails. */
	for (i = 0; i < req->classes; i++) {
		const struct nf_conntrack_expect_policy *pol = &req->policy[i];

		WRITE_ONCE(h->policy[i].max_expected, pol->max_expected);
		WRITE_ONCE(h->policy[i].timeout, pol->timeout);
	}

	if (tb[NFCTH_QUEUE_NUM])
		WRITE_ONCE(h->queue_num, req->queue_num);

	/* before the flags, which nfnl_cthelper_queue() reads with acquire:
	 * a helper enabled with a filter queues nothing unfiltered
	 */
	if (req->filter) {
		old = rcu_replace_pointer(h->filter, filter,
					  nfnl_cthelper_lockdep_held());
		if (old)
			call_rcu(&old->rcu, nfnl_cthelper_filter_free_rcu);
	}

	flags = helper->flags;
	if (tb[NFCTH_STATUS]) {
		flags &= ~NF_CT_HELPER_F_CONFIGURED;
		flags |= nfnl_cthelper_status_flags(req->status);
	}
	if (tb[NFCTH_FLAGS]) {
		flags &= ~(NF_CT_HELPER_F_FAIL_CLOSED |
			   NF_CT_HELPER_F_PAYLOAD_ONLY);
		flags |= nfnl_cthelper_flags_from_uapi(req->flags);
	}
	/* release: the filter is visible to whoever sees these flags */
	smp_store_release(&helper->flags, flags);
	return 0;
}

static int nfnl_cthelper_new(struct sk_buff *skb, const struct nfnl_info *info,
			     const struct nlattr * const tb[])
{
	struct netlink_ext_ack *extack = info->extack;
	struct nfnl_cthelper_req req;
	struct nfnl_cthelper *h;
	int err;

	if (nfnl_cthelper_missing(extack, tb, NFCTH_NAME) ||
	    nfnl_cthelper_missing(extack, tb, NFCTH_TUPLE))
		return -EINVAL;

	err = nfnl_cthelper_parse(&req, tb, extack);
	if (err < 0)
		return err;

	h = nfnl_cthelper_find(info->net, req.name, &req.tuple);
	if (!h)
		return nfnl_cthelper_create(info->net, &req, tb, extack);

	if (info->nlh->nlmsg_flags & NLM_F_EXCL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME], "helper exists");
		return -EEXIST;
	}
	return nfnl_cthelper_update(h, &req, tb, extack);
}

static int
nfnl_cthelper_fill_class(struct sk_buff *skb, unsigned int i,
			 const struct nf_conntrack_expect_policy *pol)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, NFCTH_POLICY_SET1 + i);
	if (!nest)
		return -EMSGSIZE;

	if (nla_put_string(skb, NFCTH_POLICY_NAME, pol->name) ||
	    nla_put_be32(skb, NFCTH_POLICY_EXPECT_MAX,
			 htonl(READ_ONCE(pol->max_expected))) ||
	    nla_put_be32(skb, NFCTH_POLICY_EXPECT_TIMEOUT,
			 htonl(READ_ONCE(pol->timeout))))
		return -EMSGSIZE;

	nla_nest_end(skb, nest);
	return 0;
}

static int nfnl_cthelper_fill_stats(struct sk_buff *skb,
				    const struct nfnl_cthelper *h)
{
	/* NFCTH_STATS_* for each enum nf_ct_helper_acct */
	static const u16 type[__NF_CT_HELPER_ACCT_MAX] = {
		[NF_CT_HELPER_ACCT_QUEUED]	= NFCTH_STATS_QUEUED,
		[NF_CT_HELPER_ACCT_BYPASSED]	= NFCTH_STATS_BYPASSED,
		[NF_CT_HELPER_ACCT_DROPPED]	= NFCTH_STATS_DROPPED,
		[NF_CT_HELPER_ACCT_VERDICT]	= NFCTH_STATS_VERDICTS,
		[NF_CT_HELPER_ACCT_EXPECTED]	= NFCTH_STATS_EXPECTED,
		[NF_CT_HELPER_ACCT_FILTERED]	= NFCTH_STATS_FILTERED,
	};
	u64 sum[__NF_CT_HELPER_ACCT_MAX] = {};
	struct nlattr *nest;
	unsigned int start;
	int cpu, i;

	for_each_possible_cpu(cpu) {
		const struct nfnl_cthelper_stats *stats;
		u64 cnt[__NF_CT_HELPER_ACCT_MAX];

		stats = per_cpu_ptr(h->stats, cpu);
		do {
			start = u64_stats_fetch_begin(&stats->syncp);
			for (i = 0; i < __NF_CT_HELPER_ACCT_MAX; i++)
				cnt[i] = u64_stats_read(&stats->cnt[i]);
		} while (u64_stats_fetch_retry(&stats->syncp, start));

		for (i = 0; i < __NF_CT_HELPER_ACCT_MAX; i++)
			sum[i] += cnt[i];
	}

	nest = nla_nest_start(skb, NFCTH_STATS);
	if (!nest)
		return -EMSGSIZE;

	for (i = 0; i < __NF_CT_HELPER_ACCT_MAX; i++) {
		if (nla_put_be64(skb, type[i], cpu_to_be64(sum[i]),
				 NFCTH_STATS_PAD))
			return -EMSGSIZE;
	}

	nla_nest_end(skb, nest);
	return 0;
}

/* under the nfnl mutex (GET) or RCU (dumps) */
static int nfnl_cthelper_fill_filter(struct sk_buff *skb,
				     const struct nfnl_cthelper *h)
{
	const struct nfnl_cthelper_filter *filter;

	filter = rcu_dereference_check(h->filter,
				       nfnl_cthelper_lockdep_held());
	if (filter &&
	    nla_put(skb, NFCTH_FILTER, filter->len * sizeof(filter->insns[0]),
		    filter->insns))
		return -EMSGSIZE;

	return 0;
}

static int nfnl_cthelper_fill(struct sk_buff *skb, u32 portid, u32 seq,
			      u16 flags, const struct nfnl_cthelper *h)
{
	const struct nf_conntrack_helper *helper = &h->helper;
	unsigned int i, hflags;
	struct nlattr *nest;
	struct nlmsghdr *nlh;
	u16 event;
	u32 status;

	event = nfnl_msg_type(NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_NEW);
	nlh = nfnl_msg_put(skb, portid, seq, event, flags, AF_UNSPEC,
			   NFNETLINK_V0, 0);
	if (!nlh)
		return -EMSGSIZE;

	if (nla_put_string(skb, NFCTH_NAME, helper->name))
		goto cancel;

	if (nla_put_be32(skb, NFCTH_QUEUE_NUM,
			 htonl(READ_ONCE(h->queue_num))))
		goto cancel;

	nest = nla_nest_start(skb, NFCTH_TUPLE);
	if (!nest ||
	    nla_put_be16(skb, NFCTH_TUPLE_L3PROTONUM,
			 htons(helper->tuple.src.l3num)) ||
	    nla_put_u8(skb, NFCTH_TUPLE_L4PROTONUM,
		       helper->tuple.dst.protonum))
		goto cancel;
	nla_nest_end(skb, nest);

	nest = nla_nest_start(skb, NFCTH_POLICY);
	if (!nest ||
	    nla_put_be32(skb, NFCTH_POLICY_SET_NUM,
			 htonl(helper->expect_class_max + 1)))
		goto cancel;
	for (i = 0; i <= helper->expect_class_max; i++) {
		if (nfnl_cthelper_fill_class(skb, i, &h->policy[i]) < 0)
			goto cancel;
	}
	nla_nest_end(skb, nest);

	hflags = READ_ONCE(helper->flags);
	status = hflags & NF_CT_HELPER_F_CONFIGURED ?
		 NFCT_HELPER_STATUS_ENABLED : NFCT_HELPER_STATUS_DISABLED;
	if (nla_put_be32(skb, NFCTH_PRIV_DATA_LEN, htonl(helper->data_len)) ||
	    nla_put_be32(skb, NFCTH_STATUS, htonl(status)) ||
	    nla_put_be32(skb, NFCTH_FLAGS,
			 htonl(nfnl_cthelper_flags_to_uapi(hflags))) ||
	    nfnl_cthelper_fill_stats(skb, h) < 0 ||
	    nfnl_cthelper_fill_filter(skb, h) < 0)
		goto cancel;

	nlmsg_end(skb, nlh);
	return skb->len;

cancel:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

/* Dumps resume by position, never by pointer: helpers deleted between two
 * recvmsg() calls may shift what is left, but nothing freed is touched.
 */
static int nfnl_cthelper_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct list_head *helpers = nfnl_cthelper_list(sock_net(skb->sk));
	unsigned int idx = 0, start = cb->args[0];
	struct nfnl_cthelper *h;

	rcu_read_lock();
	list_for_each_entry_rcu(h, helpers, list) {
		if (idx >= start &&
		    nfnl_cthelper_fill(skb, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI, h) < 0)
			break;
		idx++;
	}
	rcu_read_unlock();

	cb->args[0] = idx;
	return skb->len;
}

static bool nfnl_cthelper_match(const struct nfnl_cthelper *h, const char *name,
				const struct nf_conntrack_tuple *tuple)
{
	if (name && strcmp(h->helper.name, name))
		return false;

	return !tuple ||
	       (h->helper.tuple.src.l3num == tuple->src.l3num &&
		h->helper.tuple.dst.protonum == tuple->dst.protonum);
}

/* Optional NFCTH_NAME and NFCTH_TUPLE of GET and DEL. */
static int nfnl_cthelper_parse_key(const struct nlattr * const tb[],
				   const char **name,
				   struct nf_conntrack_tuple *tuple,
				   bool *has_tuple,
				   struct netlink_ext_ack *extack)
{
	int err;

	*name = NULL;
	*has_tuple = false;

	if (tb[NFCTH_NAME]) {
		err = nfnl_cthelper_parse_name(tb[NFCTH_NAME], name, extack);
		if (err < 0)
			return err;
	}
	if (tb[NFCTH_TUPLE]) {
		err = nfnl_cthelper_parse_tuple(tuple, tb[NFCTH_TUPLE], extack);
		if (err < 0)
			return err;
		*has_tuple = true;
	}
	return 0;
}

static int nfnl_cthelper_get(struct sk_buff *skb, const struct nfnl_info *info,
			     const struct nlattr * const tb[])
{
	struct netlink_ext_ack *extack = info->extack;
	struct nf_conntrack_tuple tuple;
	struct nfnl_cthelper *h;
	struct sk_buff *reply;
	const char *name;
	bool has_tuple;
	int err;

	if (info->nlh->nlmsg_flags & NLM_F_DUMP) {
		struct netlink_dump_control c = {
			.dump = nfnl_cthelper_dump,
			.module = THIS_MODULE,
		};

		return netlink_dump_start(info->sk, skb, info->nlh, &c);
	}

	/* Without NFCTH_NAME, the first helper registered (of the tuple's
	 * family and protocol, if given) answers, as it always has.
	 */
	err = nfnl_cthelper_parse_key(tb, &name, &tuple, &has_tuple, extack);
	if (err < 0)
		return err;

	list_for_each_entry(h, nfnl_cthelper_list(info->net), list) {
		if (!nfnl_cthelper_match(h, name, has_tuple ? &tuple : NULL))
			continue;

		reply = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
		if (!reply)
			return -ENOMEM;

		/* NLM_F_MULTI, as this reply has always carried */
		err = nfnl_cthelper_fill(reply, NETLINK_CB(skb).portid,
					 info->nlh->nlmsg_seq, NLM_F_MULTI, h);
		if (err < 0) {
			kfree_skb(reply);
			return err;
		}
		return nfnetlink_unicast(reply, info->net,
					 NETLINK_CB(skb).portid);
	}

	NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME] ?: tb[NFCTH_TUPLE],
			    "no such helper");
	return -ENOENT;
}

#define nfnl_cthelper_expect_held() \
	lockdep_is_held(&nf_conntrack_expect_lock)

static bool nfnl_cthelper_expect_dying(struct nf_conntrack_expect *exp,
				       void *data)
{
	const struct nf_conntrack_helper *helper, *assign;

	helper = rcu_dereference_protected(exp->helper,
					   nfnl_cthelper_expect_held());
	assign = rcu_dereference_protected(exp->assign_helper,
					   nfnl_cthelper_expect_held());
	return nf_ct_helper_dying(helper) || nf_ct_helper_dying(assign);
}

static int nfnl_cthelper_queued_dying(struct nf_queue_entry *entry,
				      unsigned long data)
{
	return nf_ct_helper_dying(nf_ct_skb_helper(entry->skb));
}

static int nfnl_cthelper_unhelp(struct nf_conn *ct, void *data)
{
	struct nf_conn_help *help = nfct_help(ct);

	if (help && nf_ct_helper_dying(rcu_dereference_raw(help->helper))) {
		nf_conntrack_event(IPCT_HELPER, ct);
		RCU_INIT_POINTER(help->helper, NULL);
	}
	return 0;	/* the conntrack stays */
}

/* Take helper @h out of its namespace's table; nfnl_cthelper_unregister()
 * finishes the job for all the helpers unlinked together.
 */
static void nfnl_cthelper_unlink(struct net *net, struct nfnl_cthelper *h,
				 struct list_head *dying)
{
	nfnl_cthelper_pernet(net)->count--;
	/* no expectation of it is created from now, see
	 * nf_ct_expect_helper_dying()
	 */
	WRITE_ONCE(h->helper.flags, h->helper.flags | NF_CT_HELPER_F_DYING);
	hlist_del_rcu(&h->hnode);
	list_del_rcu(&h->list);
	/* not h->list: a dump may still be walking it */
	list_add_tail(&h->dying_list, dying);
}

static void nfnl_cthelper_expect_sweep(struct net *net)
{
	nf_ct_expect_iterate_net(net, nfnl_cthelper_expect_dying, NULL, 0, 0);
}

static void nfnl_cthelper_queue_sweep(struct net *net)
{
	nf_queue_drop(net, nfnl_cthelper_queued_dying, 0);
}

static void nfnl_cthelper_ct_sweep(struct net *net)
{
	struct nf_ct_iter_data iter_data = {
		.net	= net,
	};

	nf_ct_iterate_cleanup_net(nfnl_cthelper_unhelp, &iter_data);
}

/* @fn for @net, or for each namespace of @net_exit_list */
static void nfnl_cthelper_sweep_nets(void (*fn)(struct net *net),
				     struct net *net,
				     struct list_head *net_exit_list)
{
	if (net) {
		fn(net);
		return;
	}
	list_for_each_entry(net, net_exit_list, exit_list)
		fn(net);
}

/* Unregister the helpers on list @dying, all of @net or of the namespaces
 * on @net_exit_list: when it returns, no lookup, expectation, conntrack,
 * queued packet or RCU reader (dumps included) can see them any more.  A
 * helper is only ever used by its namespace: the walks of the expectation
 * and conntrack tables touch those namespaces' entries only, and only the
 * queued packets of these helpers' flows are dropped.  The cost is a
 * constant number of grace periods whatever the number of helpers and
 * namespaces.
 */
static void nfnl_cthelper_unregister(struct net *net,
				     struct list_head *net_exit_list,
				     struct list_head *dying)
{
	if (list_empty(dying))
		return;

	/* no lookup by name finds them now: no new rule, expectation or
	 * conntrack of ctnetlink gets them
	 */
	synchronize_rcu();
	nfnl_cthelper_sweep_nets(nfnl_cthelper_expect_sweep, net,
				 net_exit_list);

	/* A packet that matched one of those expectations may still be on
	 * its way to a queue with a new conntrack of these helpers.  Wait
	 * until it is there, then drop the queued packets of their flows,
	 * and only those: conntracks not in the table yet are out of reach
	 * of the iteration below.
	 */
	synchronize_net();
	nfnl_cthelper_sweep_nets(nfnl_cthelper_queue_sweep, net,
				 net_exit_list);

	/* one reinjected just before is in the table now */
	synchronize_net();
	nfnl_cthelper_sweep_nets(nfnl_cthelper_ct_sweep, net, net_exit_list);

	/* readers of the helper pointers cleared above are done */
	synchronize_rcu();
}

/* Delete the helpers that match; without NFCTH_NAME, all of them (flush).
 * A helper a rule or an nft object still holds stays: -EBUSY when nothing
 * else could be deleted.
 */
static int nfnl_cthelper_del(struct sk_buff *skb, const struct nfnl_info *info,
			     const struct nlattr * const tb[])
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(info->net);
	struct netlink_ext_ack *extack = info->extack;
	bool has_tuple, deleted = false, busy = false;
	struct nf_conntrack_tuple tuple;
	struct nfnl_cthelper *h, *next;
	struct list_head *helpers;
	const char *name;
	LIST_HEAD(dying);
	bool unlock;
	int err;

	err = nfnl_cthelper_parse_key(tb, &name, &tuple, &has_tuple, extack);
	if (err < 0)
		return err;

	helpers = nfnl_cthelper_list(info->net);
	list_for_each_entry_safe(h, next, helpers, list) {
		if (!nfnl_cthelper_match(h, name, has_tuple ? &tuple : NULL))
			continue;

		/* The table holds one reference, users of the helper more. */
		if (!refcount_dec_if_one(&h->helper.refcnt)) {
			busy = true;
			continue;
		}
		nfnl_cthelper_unlink(info->net, h, &dying);
		deleted = true;
	}

	if (deleted) {
		/* The helpers are out of the table: the other requests, of
		 * every namespace, need not wait for the grace periods of
		 * their unregistration.  Unless the module is on its way out:
		 * then it waits for us with the mutex held.  A namespace
		 * unregisters one batch at a time: concurrent requests do not
		 * multiply its walks of the expectation and conntrack tables.
		 */
		unlock = try_module_get(THIS_MODULE);
		if (unlock)
			nfnl_unlock(NFNL_SUBSYS_CTHELPER);
		mutex_lock(&cnet->unregister_mutex);
		nfnl_cthelper_unregister(info->net, NULL, &dying);
		mutex_unlock(&cnet->unregister_mutex);
		list_for_each_entry_safe(h, next, &dying, dying_list)
			nfnl_cthelper_free(h);
		if (unlock) {
			nfnl_lock(NFNL_SUBSYS_CTHELPER);
			module_put(THIS_MODULE);
		}
	}

	if (deleted || (!busy && !name && !has_tuple))
		return 0;
	if (busy) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME], "helper in use");
		return -EBUSY;
	}
	NL_SET_ERR_MSG_ATTR(extack, tb[NFCTH_NAME] ?: tb[NFCTH_TUPLE],
			    "no such helper");
	return -ENOENT;
}

static const struct nfnl_callback nfnl_cthelper_cb[NFNL_MSG_CTHELPER_MAX] = {
	[NFNL_MSG_CTHELPER_NEW] = {
		.call		= nfnl_cthelper_new,
		.type		= NFNL_CB_MUTEX,
		.attr_count	= NFCTH_MAX,
		.policy		= nfnl_cthelper_policy
	},
	[NFNL_MSG_CTHELPER_GET] = {
		.call		= nfnl_cthelper_get,
		.type		= NFNL_CB_MUTEX,
		.attr_count	= NFCTH_MAX,
		.policy		= nfnl_cthelper_policy
	},
	[NFNL_MSG_CTHELPER_DEL] = {
		.call		= nfnl_cthelper_del,
		.type		= NFNL_CB_MUTEX,
		.attr_count	= NFCTH_MAX,
		.policy		= nfnl_cthelper_policy
	},
};

static const struct nfnetlink_subsystem nfnl_cthelper_subsys = {
	.name		= "cthelper",
	.subsys_id	= NFNL_SUBSYS_CTHELPER,
	.cb_count	= NFNL_MSG_CTHELPER_MAX,
	.cb		= nfnl_cthelper_cb,
};

#ifdef CONFIG_SYSCTL
static unsigned int nfnl_cthelper_max_limit = NFNL_CTHELPER_MAX_LIMIT;

static const struct ctl_table nfnl_cthelper_sysctl_table[] = {
	{
		.procname	= "nfnl_cthelper_max",
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= SYSCTL_ZERO,
	},
};

/* Each namespace sets its own limit, below the initial namespace's (which
 * also bounds it when lowered later, see nfnl_cthelper_max()).
 */
static int nfnl_cthelper_sysctl_init(struct net *net)
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(net);
	struct ctl_table_header *hdr;
	struct ctl_table *table;

	table = kmemdup(nfnl_cthelper_sysctl_table,
			sizeof(nfnl_cthelper_sysctl_table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;

	table[0].data = &cnet->max;
	if (net_eq(net, &init_net))
		table[0].extra2 = &nfnl_cthelper_max_limit;
	else
		table[0].extra2 = &nfnl_cthelper_pernet(&init_net)->max;

	hdr = register_net_sysctl_sz(net, "net/netfilter", table,
				     ARRAY_SIZE(nfnl_cthelper_sysctl_table));
	if (!hdr) {
		kfree(table);
		return -ENOMEM;
	}
	cnet->sysctl_header = hdr;
	return 0;
}

static void nfnl_cthelper_sysctl_exit(struct net *net)
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(net);
	const struct ctl_table *table = cnet->sysctl_header->ctl_table_arg;

	unregister_net_sysctl_table(cnet->sysctl_header);
	kfree(table);
}
#else
static int nfnl_cthelper_sysctl_init(struct net *net)
{
	return 0;
}

static void nfnl_cthelper_sysctl_exit(struct net *net)
{
}
#endif

static int __net_init nfnl_cthelper_net_init(struct net *net)
{
	struct nfnl_cthelper_net *cnet = nfnl_cthelper_pernet(net);
	unsigned int i;

	INIT_LIST_HEAD(&cnet->helpers);
	for (i = 0; i < ARRAY_SIZE(cnet->table); i++)
		INIT_HLIST_HEAD(&cnet->table[i]);
	mutex_init(&cnet->unregister_mutex);

	/* a new namespace starts where the initial namespace is */
	if (net_eq(net, &init_net))
		cnet->max = NFNL_CTHELPER_MAX_DEFAULT;
	else
		cnet->max = READ_ONCE(nfnl_cthelper_pernet(&init_net)->max);

	return nfnl_cthelper_sysctl_init(net);
}

static void __net_exit nfnl_cthelper_net_exit(struct net *net)
{
	nfnl_cthelper_sysctl_exit(net);
}

/* The helpers of the namespaces going away go with them, all in one
 * unregistration; so do all helpers when the module is removed.  No
 * request can come any more: no socket of these namespaces is left, or
 * the nfnetlink subsystem is gone.  Their lists are walked without the
 * nfnl mutex.
 */
static void __net_exit
nfnl_cthelper_net_exit_batch(struct list_head *net_exit_list)
{
	struct nfnl_cthelper *h, *next;
	LIST_HEAD(dying);
	struct net *net;

	list_for_each_entry(net, net_exit_list, exit_list) {
		list_for_each_entry_safe(h, next, nfnl_cthelper_list(net), list)
			nfnl_cthelper_unlink(net, h, &dying);
	}

	nfnl_cthelper_unregister(NULL, net_exit_list, &dying);
	list_for_each_entry_safe(h, next, &dying, dying_list) {
		/* The table's reference.  A rule or an nft object of the
		 * namespace that is destroyed after us holds another one:
		 * its nf_conntrack_helper_put() frees the helper.
		 */
		if (refcount_dec_and_test(&h->helper.refcnt))
			nfnl_cthelper_free(h);
	}
}

static struct pernet_operations nfnl_cthelper_net_ops = {
	.init		= nfnl_cthelper_net_init,
	.exit		= nfnl_cthelper_net_exit,
	.exit_batch	= nfnl_cthelper_net_exit_batch,
	.id		= &nfnl_cthelper_net_id,
	.size		= sizeof(struct nfnl_cthelper_net),
};

static int __init nfnl_cthelper_init(void)
{
	int err;

	err = register_pernet_subsys(&nfnl_cthelper_net_ops);
	if (err < 0)
		return err;

	nf_ct_helper_netns_register(&nfnl_cthelper_netns);

	err = nfnetlink_subsys_register(&nfnl_cthelper_subsys);
	if (err < 0) {
		pr_err("cannot register the nfnetlink subsystem: %d\n", err);
		nf_ct_helper_netns_unregister(&nfnl_cthelper_netns);
		synchronize_rcu();
		unregister_pernet_subsys(&nfnl_cthelper_net_ops);
	}
	return err;
}

/* No rule holds a helper: it would hold this module too. */
static void __exit nfnl_cthelper_exit(void)
{
	nfnetlink_subsys_unregister(&nfnl_cthelper_subsys);
	nf_ct_helper_netns_unregister(&nfnl_cthelper_netns);
	synchronize_rcu();	/* nfnl_cthelper_netns_find() */
	unregister_pernet_subsys(&nfnl_cthelper_net_ops);
	rcu_barrier();	/* nfnl_cthelper_free_rcu(), ..._filter_free_rcu() */
}

module_init(nfnl_cthelper_init);
module_exit(nfnl_cthelper_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nfnetlink_cthelper: userspace connection tracking helpers");
MODULE_ALIAS_NFNL_SUBSYS(NFNL_SUBSYS_CTHELPER);
