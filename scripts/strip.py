#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Remove the userspace conntrack helper support from a Linux 6.12 tree.

Each edit names the exact lines (anchors) it starts and ends at.  An
anchor that is missing or ambiguous aborts the whole run, so a Debian
source update that moved the code fails loudly instead of producing a
half-stripped tree.  Only anchors and the few lines we put in place of
a removed block appear here.
"""
import os
import sys

NETLINK_GLUE = '#ifdef CONFIG_NETFILTER_NETLINK_GLUE_CT'

# (file, op, anchor lines, end line or None, lines after end to drop too,
#  replacement lines)
EDITS = [
    # Kconfig and Makefile
    ('net/netfilter/Kconfig', 'cut', ['config NF_CT_NETLINK_HELPER'],
     "\t  If unsure, say `N'.", 1, []),
    ('net/netfilter/Kconfig', 'cut', ['config NETFILTER_NETLINK_GLUE_CT'],
     '\t  the enqueued via NFNETLINK.', 1, []),
    ('net/netfilter/Makefile', 'cut',
     ['obj-$(CONFIG_NF_CT_NETLINK_HELPER) += nfnetlink_cthelper.o'],
     None, 0, []),

    # nfnetlink subsystem number and name
    ('include/uapi/linux/netfilter/nfnetlink.h', 'cut',
     ['#define NFNL_SUBSYS_CTHELPER\t\t9'], None, 0, []),
    ('net/netfilter/nfnetlink.c', 'cut',
     ['\t[NFNL_SUBSYS_CTHELPER] = "nfnl_subsys_cthelper",'], None, 0, []),

    # the nfnl_ct_hook indirection and nf_ct_hook->update
    ('include/linux/netfilter.h', 'cut',
     ['struct nlattr;', '', 'struct nfnl_ct_hook {'],
     'extern const struct nfnl_ct_hook __rcu *nfnl_ct_hook;', 1, []),
    ('include/linux/netfilter.h', 'cut',
     ['\tint (*update)(struct net *net, struct sk_buff *skb);'],
     None, 0, []),
    ('net/netfilter/core.c', 'cut',
     ['/* This needs to be compiled in any case to avoid dependencies between the'],
     'EXPORT_SYMBOL_GPL(nfnl_ct_hook);', 1, []),

    # completion of packets reinjected from a userspace helper
    ('net/netfilter/nf_conntrack_core.c', 'cut',
     ['/* This packet is coming from userspace via nf_queue, complete the packet'],
     '\treturn nf_confirm_cthelper(skb, ct, ctinfo);', 2, []),
    ('net/netfilter/nf_conntrack_core.c', 'cut',
     ['\t.update\t\t= nf_conntrack_update,'], None, 0, []),

    # helper flags and queue number
    ('include/net/netfilter/nf_conntrack_helper.h', 'cut',
     ['enum nf_ct_helper_flags {'], '};', 1, []),
    ('include/net/netfilter/nf_conntrack_helper.h', 'cut',
     ['\t/* For user-space helpers: */', '\tunsigned int queue_num;'],
     None, 0, []),
    ('net/netfilter/nf_conntrack_helper.c', 'unwrap',
     ['\tif (!(me->flags & NF_CT_HELPER_F_USERSPACE)) {'], None, 0, []),

    # ctnetlink glue
    ('net/netfilter/nf_conntrack_netlink.c', 'cut',
     ['#if defined(CONFIG_NETFILTER_NETLINK_GLUE_CT) || defined(CONFIG_NF_CONNTRACK_EVENTS)'],
     None, 0, ['#ifdef CONFIG_NF_CONNTRACK_EVENTS']),
    ('net/netfilter/nf_conntrack_netlink.c', 'cut',
     [NETLINK_GLUE, 'static size_t'],
     '#endif /* CONFIG_NETFILTER_NETLINK_GLUE_CT */', 1, []),
    ('net/netfilter/nf_conntrack_netlink.c', 'cut',
     [NETLINK_GLUE,
      '\t/* setup interaction between nf_queue and nf_conntrack_netlink. */'],
     '#endif', 0, []),
    ('net/netfilter/nf_conntrack_netlink.c', 'cut',
     [NETLINK_GLUE, '\tRCU_INIT_POINTER(nfnl_ct_hook, NULL);'],
     '#endif', 0, []),

    # nfnetlink_queue: conntrack on reinject, NFQA_CT/NFQA_EXP, seq adjust
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tconst struct nf_ct_hook *ct_hook;', ''], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tif (verdict == NF_ACCEPT ||', '\t    verdict == NF_REPEAT ||'],
     '\t}', 1, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tstruct nf_conn *ct = NULL;', '\tenum ip_conntrack_info ctinfo = 0;',
      '\tconst struct nfnl_ct_hook *nfnl_ct;'], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tnfnl_ct = rcu_dereference(nfnl_ct_hook);', '',
      '#if IS_ENABLED(CONFIG_NF_CONNTRACK)'], '#endif', 1, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tif (ct && nfnl_ct->build(skb, ct, ctinfo, NFQA_CT, NFQA_CT_INFO) < 0)',
      '\t\tgoto nla_put_failure;', ''], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['static struct nf_conn *nfqnl_ct_parse(const struct nfnl_ct_hook *nfnl_ct,'],
     '#endif', 2, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tconst struct nfnl_ct_hook *nfnl_ct;'], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tenum ip_conntrack_info ctinfo;'], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\tstruct nf_conn *ct = NULL;'], None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\t/* rcu lock already held from nfnl->call_rcu. */'], '\t}', 1, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['', '\t\tif (ct && diff)',
      '\t\t\tnfnl_ct->seq_adjust(entry->skb, ct, ctinfo, diff);'],
     None, 0, []),
    ('net/netfilter/nfnetlink_queue.c', 'cut',
     ['\t\tif ((flags & mask & NFQA_CFG_F_CONNTRACK) &&'], '\t\t}', 0,
     ['\t\tif (flags & mask & NFQA_CFG_F_CONNTRACK)',
      '\t\t\treturn -EOPNOTSUPP;']),

    # nfnetlink_log: NFULA_CT
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['\t\t\tconst char *prefix, unsigned int plen,',
      '\t\t\tconst struct nfnl_ct_hook *nfnl_ct,',
      '\t\t\tstruct nf_conn *ct, enum ip_conntrack_info ctinfo)'],
     None, 0, ['\t\t\tconst char *prefix, unsigned int plen)']),
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['\tif (ct && nfnl_ct->build(inst->skb, ct, ctinfo,',
      '\t\t\t\t NFULA_CT, NFULA_CT_INFO) < 0)',
      '\t\tgoto nla_put_failure;', ''], None, 0, []),
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['\tconst struct nfnl_ct_hook *nfnl_ct = NULL;',
      '\tenum ip_conntrack_info ctinfo = 0;',
      '\tstruct nf_conn *ct = NULL;'], None, 0, []),
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['#if IS_ENABLED(CONFIG_NF_CONNTRACK)',
      '\tif (inst->flags & NFULNL_CFG_F_CONNTRACK) {'], '#endif', 0, []),
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['\t\t\t\thooknum, in, out, prefix, plen,',
      '\t\t\t\tnfnl_ct, ct, ctinfo);'],
     None, 0, ['\t\t\t\thooknum, in, out, prefix, plen);']),
    ('net/netfilter/nfnetlink_log.c', 'cut',
     ['\t\tif ((flags & NFULNL_CFG_F_CONNTRACK) &&'], '\t\t}', 0,
     ['\t\tif (flags & NFULNL_CFG_F_CONNTRACK) {',
      '\t\t\tret = -EOPNOTSUPP;',
      '\t\t\tgoto out_put;',
      '\t\t}']),
]

DELETED_FILES = [
    'net/netfilter/nfnetlink_cthelper.c',
    'include/uapi/linux/netfilter/nfnetlink_cthelper.h',
]


class AnchorError(Exception):
    pass


def find_seq(lines, seq, what):
    hits = [i for i in range(len(lines) - len(seq) + 1)
            if lines[i:i + len(seq)] == seq]
    if len(hits) != 1:
        raise AnchorError('%s: anchor %r found %d times (want 1)'
                          % (what, seq[0], len(hits)))
    return hits[0]


def apply_edit(tree, edit):
    path, op, anchor, end, extra, repl = edit
    full = os.path.join(tree, path)
    with open(full) as f:
        lines = f.read().split('\n')
    start = find_seq(lines, anchor, path)
    if op == 'unwrap':
        indent = anchor[0][:len(anchor[0]) - len(anchor[0].lstrip('\t'))]
        stop = start + 1
        while stop < len(lines) and lines[stop] != indent + '}':
            stop += 1
        if stop == len(lines):
            raise AnchorError('%s: no end for %r' % (path, anchor[0]))
        body = [l[1:] if l.startswith('\t\t') else l
                for l in lines[start + 1:stop]]
        lines[start:stop + 1] = body
    else:
        if end is None:
            stop = start + len(anchor) - 1
        else:
            stop = start + len(anchor)
            while stop < len(lines) and lines[stop] != end:
                stop += 1
            if stop == len(lines):
                raise AnchorError('%s: end %r not found after %r'
                                  % (path, end, anchor[0]))
        stop += extra
        lines[start:stop + 1] = repl
    with open(full, 'w') as f:
        f.write('\n'.join(lines))


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: strip.py TREE')
    tree = sys.argv[1]
    try:
        for path in DELETED_FILES:
            full = os.path.join(tree, path)
            if not os.path.exists(full):
                raise AnchorError('%s: expected file is missing' % path)
            os.unlink(full)
        for edit in EDITS:
            apply_edit(tree, edit)
    except (AnchorError, OSError) as e:
        sys.exit('strip: %s\nstrip: the Debian source moved; update '
                 'scripts/strip.py and BASE together' % e)


if __name__ == '__main__':
    main()
