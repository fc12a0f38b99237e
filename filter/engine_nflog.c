/*
 * engine_nflog.c - NFLOG copies of what the kernel lifeline accepts and the
 * queue never sees: DHCPv6 replies, so the engine still learns DNS servers
 * (DHCPv4 ones are read as their clients read them: engine_dhcp_tap.c),
 * and heartbeats, for the heartbeat watch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "engine_int.h"

struct nflog {
	struct mnl_socket *nl;
	uint16_t group;
	uint32_t seq;
};

int nflog_fd(const struct nflog *n) { return mnl_socket_get_fd(n->nl); }

static struct nlmsghdr *nflog_msg(char *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

/* Bind the group and ask for whole packets, acknowledged: a taken group is -EBUSY here. */
static int nflog_config(struct nflog *n)
{
	char buf[8192] = { 0 }; /* struct padding goes to the kernel as zeroes */
	struct nlmsghdr *nlh = nflog_msg(buf, n->group, ++n->seq);
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode;
	ssize_t r;

	memset(&mode, 0, sizeof(mode)); /* its trailing padding too */
	mode.copy_range = htonl(0xffff);
	mode.copy_mode = NFULNL_COPY_PACKET;

	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
	if (r < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)r, n->seq, mnl_socket_get_portid(n->nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

int nflog_open(struct nflog **out, uint16_t group)
{
	struct nflog *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	n->group = group;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	err = nflog_config(n);
	if (err)
		goto fail;
	*out = n;
	return 0;
fail:
	nflog_close(n);
	return err;
}

void nflog_close(struct nflog *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
}

static int nflog_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

struct learn_ctx {
	struct lifeline *l;
	struct hb_watch *hb;
	uint64_t now_us;
	int learned;
};

/* A heartbeat copy: the prefix names the chain, so the direction. */
static bool heartbeat_copy(struct learn_ctx *c, const struct nlattr *prefix, const struct pkt *p)
{
	const char *s = prefix ? mnl_attr_get_str(prefix) : "";
	bool out = strncmp(s, HOOKS_HB_PREFIX_OUT, strlen(HOOKS_HB_PREFIX_OUT)) == 0;

	if (!out && strncmp(s, HOOKS_HB_PREFIX_IN, strlen(HOOKS_HB_PREFIX_IN)) != 0)
		return false;
	/*
	 * Only a segment with data is an exchange: a reset is a refusal
	 * (nothing listens), and a bare handshake or ACK is a port probe
	 * (`lifelinectl doctor`, a scanner, a load balancer's health check),
	 * neither may make the manager online.
	 */
	if (p->proto == 6 && !(p->tcp_flags & TCPF_RST) && p->paylen > 0)
		hb_seen(c->hb, p->src, p->dst, out, c->now_us);
	return true;
}

static int nflog_pkt_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	struct learn_ctx *c = data;
	enum ll_reason why;
	struct pkt p;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nflog_attr_cb, tb);
	if (!tb[NFULA_PAYLOAD])
		return MNL_CB_OK;
	memset(&p, 0, sizeof(p));
	p.dir = PKT_DIR_IN;
	/* the interface a DHCP reply came in on: its lease replaces that interface's servers */
	if (tb[NFULA_IFINDEX_INDEV] && mnl_attr_get_payload_len(tb[NFULA_IFINDEX_INDEV]) >= 4)
		p.ifindex = (int)ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV]));
	if (pkt_parse(&p, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
		      mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &why) != 0)
		return MNL_CB_OK;
	/* a DHCP reply whose checksum is wrong: its client drops it (lifeline_learn()) */
	p.csum_bad = p.proto == 17 && !pkt_l4_csum_taken(&p);
	/* a DHCPv4 reply is learned as its client reads it, from a packet socket (engine_dhcp_tap.c) */
	if (!heartbeat_copy(c, tb[NFULA_PREFIX], &p) && p.family == 6 &&
	    lifeline_learn(c->l, &p, c->now_us) > 0)
		c->learned++;
	return MNL_CB_OK;
}

int nflog_read(struct nflog *n, struct lifeline *l, struct hb_watch *hb, uint64_t now_us)
{
	char buf[65536 + 4096];
	struct learn_ctx c = { l, hb, now_us, 0 };
	ssize_t r = recv(mnl_socket_get_fd(n->nl), buf, sizeof(buf), MSG_DONTWAIT);

	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	mnl_cb_run(buf, (size_t)r, 0, 0, nflog_pkt_cb, &c);
	return c.learned;
}
