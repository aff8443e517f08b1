/*
 * dns_priv.h - the resolver's state, shared by dns.c (synchronous MX and
 * address lookups for smtp) and dns_async.c (lookups for an event loop).
 * Not for use outside lib/.
 */
#ifndef YOUJU_DNS_PRIV_H
#define YOUJU_DNS_PRIV_H

struct ub_ctx;

struct dns {
	struct ub_ctx	*ctx;
	int		 families;	/* DNS_IPV4 | DNS_IPV6 */
};

#endif
