/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _NFNL_CTHELPER_H_
#define _NFNL_CTHELPER_H_

/* Userspace connection tracking helpers (NFNL_SUBSYS_CTHELPER). */

#define NFCT_HELPER_STATUS_DISABLED	0
#define NFCT_HELPER_STATUS_ENABLED	1

enum nfnl_cthelper_msg_types {
	NFNL_MSG_CTHELPER_NEW,
	NFNL_MSG_CTHELPER_GET,
	NFNL_MSG_CTHELPER_DEL,
	NFNL_MSG_CTHELPER_MAX
};

enum nfnl_cthelper_type {
	NFCTH_UNSPEC,
	NFCTH_NAME,		/* NUL-terminated string, at most 15 chars */
	NFCTH_TUPLE,		/* nested: enum nfnl_cthelper_tuple_type */
	NFCTH_QUEUE_NUM,	/* __be32, 0..65535 */
	NFCTH_POLICY,		/* nested: enum nfnl_cthelper_policy_type */
	NFCTH_PRIV_DATA_LEN,	/* __be32, at most 32 */
	NFCTH_STATUS,		/* __be32: NFCT_HELPER_STATUS_* */
	NFCTH_FLAGS,		/* __be32: NFCTH_F_* */
	NFCTH_STATS,		/* nested: enum nfnl_cthelper_stats_type */
	NFCTH_FILTER,		/* struct sock_filter[], see below */
	__NFCTH_MAX
};

#define NFCTH_MAX (__NFCTH_MAX - 1)

/* NFCTH_FLAGS.  A helper without NFCTH_F_FAIL_CLOSED is fail-open: when
 * nobody listens on its queue, its packets pass.  A fail-closed helper
 * drops them, and also those that find its queue full.
 */
#define NFCTH_F_FAIL_CLOSED	(1 << 0)
/* Queue only the TCP segments that carry payload: SYN, pure ACK and FIN
 * segments without data pass without a round trip to userspace.  Packets
 * of other protocols are all queued.  A fail-closed helper with nobody
 * listening drops them all the same.
 */
#define NFCTH_F_PAYLOAD_ONLY	(1 << 1)

/* NFCTH_FILTER: a classic BPF program (struct sock_filter in host byte
 * order, as for SO_ATTACH_FILTER and xt_bpf), at most 256 instructions,
 * that picks the packets the helper queues.  It runs on each packet the
 * helper would otherwise queue, from its network header: a non-zero
 * result queues the packet, zero lets it through without a round trip to
 * userspace (and it may overtake a packet of the same flow that waits in
 * the queue).  An empty NFCTH_FILTER in an update removes the filter.
 * Not applied to flows that NAT may have to adjust, as for
 * NFCTH_F_PAYLOAD_ONLY; a fail-closed helper with nobody listening passes
 * nothing.
 */

/* NFCTH_STATS, in GET and dump replies only: what became of the packets of
 * the helper's flows since it was registered.
 */
enum nfnl_cthelper_stats_type {
	NFCTH_STATS_UNSPEC,
	NFCTH_STATS_QUEUED,	/* __be64: handed to the queue */
	NFCTH_STATS_BYPASSED,	/* __be64: passed: no listener, or queue full */
	NFCTH_STATS_DROPPED,	/* __be64: dropped: fail-closed, queue full */
	NFCTH_STATS_VERDICTS,	/* __be64: verdicts received */
	NFCTH_STATS_EXPECTED,	/* __be64: expectations created by verdicts */
	NFCTH_STATS_PAD,
	NFCTH_STATS_FILTERED,	/* __be64: passed unqueued by NFCTH_FILTER */
	__NFCTH_STATS_MAX
};

#define NFCTH_STATS_MAX (__NFCTH_STATS_MAX - 1)

enum nfnl_cthelper_policy_type {
	NFCTH_POLICY_SET_UNSPEC,
	NFCTH_POLICY_SET_NUM,	/* __be32: number of classes, 1..4 */
	NFCTH_POLICY_SET,	/* nested: enum nfnl_cthelper_pol_type */
	NFCTH_POLICY_SET1	= NFCTH_POLICY_SET,
	NFCTH_POLICY_SET2,
	NFCTH_POLICY_SET3,
	NFCTH_POLICY_SET4,
	__NFCTH_POLICY_SET_MAX
};

#define NFCTH_POLICY_SET_MAX (__NFCTH_POLICY_SET_MAX - 1)

enum nfnl_cthelper_pol_type {
	NFCTH_POLICY_UNSPEC,
	NFCTH_POLICY_NAME,		/* NUL-terminated string */
	NFCTH_POLICY_EXPECT_MAX,	/* __be32, at most 255 */
	NFCTH_POLICY_EXPECT_TIMEOUT,	/* __be32, seconds */
	__NFCTH_POLICY_MAX
};

#define NFCTH_POLICY_MAX (__NFCTH_POLICY_MAX - 1)

enum nfnl_cthelper_tuple_type {
	NFCTH_TUPLE_UNSPEC,
	NFCTH_TUPLE_L3PROTONUM,		/* __be16: NFPROTO_IPV4/IPV6, 0: both */
	NFCTH_TUPLE_L4PROTONUM,		/* u8: IPPROTO_* */
	__NFCTH_TUPLE_MAX,
};

#define NFCTH_TUPLE_MAX (__NFCTH_TUPLE_MAX - 1)

#endif /* _NFNL_CTHELPER_H_ */
