/* netlink_addr.c - the host's interface addresses over rtnetlink: one-shot dumps and change events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "engine.h"

struct addr_watch {
	struct mnl_socket *nl;
};

int addr_watch_open(struct addr_watch **out)
{
	struct addr_watch *w = calloc(1, sizeof(*w));
	int one = 1;

	if (!w)
		return -ENOMEM;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl)
		goto fail;
	if (mnl_socket_bind(w->nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK,
			    MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* a lost event only means "dump again"; never fail on ENOBUFS */
	setsockopt(mnl_socket_get_fd(w->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	*out = w;
	return 0;
fail:
	one = -errno;
	addr_watch_close(w);
	return one;
}

void addr_watch_close(struct addr_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
}

int addr_watch_fd(const struct addr_watch *w) { return mnl_socket_get_fd(w->nl); }

int addr_watch_read(struct addr_watch *w)
{
	char buf[8192];
	int mask = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0)
			return (errno == EAGAIN || mask) ? mask : -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR)
				mask |= 1;
			else if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
				mask |= 2;
		}
	}
}

struct dump_ctx {
	ll_ip *out;
	int n, max;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct dump_ctx *c = data;
	const struct nlattr *a;
	const void *addr = NULL;

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	/* IFA_LOCAL is our address on point-to-point links; IFA_ADDRESS the peer's there */
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			addr = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == IFA_ADDRESS && !addr)
			addr = mnl_attr_get_payload(a);
	}
	if (addr && c->n < c->max)
		c->out[c->n++] = ll_ip_from_bytes(addr, ifa->ifa_family == AF_INET ? 4 : 6);
	return MNL_CB_OK;
}

int addr_dump(ll_ip *out, int max)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct dump_ctx c = { out, 0, max };
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int ret, err = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, portid, addr_cb, &c);
	} while (ret > 0);
	if (ret < 0)
		err = -errno;
out:
	mnl_socket_close(nl);
	return err ? err : c.n;
}
