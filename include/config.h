/* config.h - /etc/lifeline/lifeline.conf (SPEC section 3). */
#ifndef LL_CONFIG_H
#define LL_CONFIG_H

#include "ll.h"

#define LL_DEFAULT_CONFIG "/etc/lifeline/lifeline.conf"
#define CONFIG_MAX_HOSTS 4096 /* `host` lines */
#define CONFIG_MAX_HOME_NET (CONFIG_MAX_HOSTS + 256) /* $HOME_NET: host lines, interface addresses */

struct cfg_manager {
	char *name;      /* as written (address literal or host name) */
	bool is_literal; /* an address: addr is valid */
	ll_ip addr;
};

/* What the kernel was built with (`kernel-tcp-ao`, `kernel-mip6`): probed live, or said. */
enum cfg_kernel { CFG_KERNEL_AUTO, CFG_KERNEL_YES, CFG_KERNEL_NO };

struct config {
	struct cfg_manager *managers;
	uint32_t nmanagers;
	uint16_t heartbeat_port;     /* 4120 */
	uint16_t agent_port;         /* 4118 */
	uint32_t heartbeat_interval; /* seconds, 60 */
	uint32_t missed_heartbeats;  /* 2 */
	ll_ip *dns_servers;
	uint32_t ndns_servers;
	struct ip_range *hosts;      /* `host` addresses/CIDRs */
	uint32_t nhosts;
	uint16_t queue_lo, queue_hi; /* 0-0 */
	bool fail_open;              /* yes */
	bool sanity_accept;          /* sanity-failure accept (default drop) */
	bool offload;                /* yes */
	uint64_t max_flows;          /* 1000000 */
	uint64_t stream_depth;       /* 1 MiB */
	uint8_t kernel_tcp_ao;       /* enum cfg_kernel, auto */
	uint8_t kernel_mip6;         /* enum cfg_kernel, auto */
	char *state_dir;             /* /var/lib/lifeline */
	char *control_socket;        /* /run/lifeline/control.sock */
	char *event_log;             /* /var/log/lifeline/events.json */
	char *trusted_key;           /* NULL */
	char **tls_certs;
	uint32_t ntls_certs;
	char *path;                  /* the file read, NULL for defaults */
};

/* config_defaults() - every default of SPEC section 3. */
void config_defaults(struct config *c);
/*
 * config_load() - read @path into @c (defaults first). A missing file is not
 * an error when @missing_ok (all defaults hold). Every bad line is appended
 * to @errs as file:line:col; returns 0 or -EINVAL / -errno.
 */
int config_load(struct config *c, const char *path, bool missing_ok, struct ll_errlist *errs);
/*
 * config_load_string() - the same from @text, errors naming @name. For both:
 * @c need hold nothing (it is reset to defaults first); on error it holds
 * the defaults plus every valid line and must still be config_free()d. The
 * error records' file names stay valid after config_free().
 */
int config_load_string(struct config *c, const char *name, const char *text,
		       struct ll_errlist *errs);
/* config_free() - release what a load allocated; @c is left at the defaults. */
void config_free(struct config *c);

struct policy_opts;
/* config_policy_opts() - policy options from @c ($HOME_NET = hosts, stream depth). */
void config_policy_opts(const struct config *c, struct policy_opts *o, bool skip_unsupported);

#endif
