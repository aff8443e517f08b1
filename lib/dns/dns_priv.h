/*
 * dns_priv.h - the resolver's state, shared by dns.c (synchronous MX and
 * address lookups for smtp), dns_async.c (lookups for an event loop) and
 * dns_query.c (synchronous lookups of any type for mailctl).
 * Not for use outside lib/.
 */
#ifndef YOUJU_DNS_PRIV_H
#define YOUJU_DNS_PRIV_H

#include <stddef.h>
#include <stdint.h>

struct ub_ctx;
struct ub_result;

struct dns {
	struct ub_ctx	*ctx;
	int		 families;	/* DNS_IPV4 | DNS_IPV6 */
};

#define DNS_NODATA	(-2)	/* dns_status: name exists, no such record */

/* one outstanding synchronous query (dns_run) */
struct dns_q {
	const char	*name;
	int		 type;
	int		 id;
	int		 done;
	int		 err;		/* UB_* from libunbound, 0 */
	int		 timedout;
	struct ub_result *res;
};

/* dns_run - n queries in parallel until all are answered or the deadline */
void	 dns_run(struct dns *, struct dns_q *, size_t, uint64_t);
/* dns_status - what one answered query says: DNS_* or DNS_NODATA */
int	 dns_status(const struct dns_q *, char *, size_t);
/* dns_q_free - the answers of n queries */
void	 dns_q_free(struct dns_q *, size_t);

#endif
