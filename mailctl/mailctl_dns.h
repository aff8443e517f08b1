/*
 * mailctl_dns.h - the DNS records of a domain, shared by mailctl dns
 * (mailctl_dns.c builds and prints them, mailctl_dns_check.c compares
 * them with live DNS) and mailctl dkim (a key's record in DNS).
 */
#ifndef YOUJU_MAILCTL_DNS_H
#define YOUJU_MAILCTL_DNS_H

#include <stdio.h>

#include "mailctl_dkim.h"

struct cfg;

#define MAILCTL_RR_MX		1
#define MAILCTL_RR_ADDR		2	/* A / AAAA of myhostname */
#define MAILCTL_RR_SPF		3
#define MAILCTL_RR_DKIM		4
#define MAILCTL_RR_DMARC	5
#define MAILCTL_RR_TLSRPT	6
#define MAILCTL_RR_STS		7
#define MAILCTL_RR_POLICY	8	/* the MTA-STS policy file */
#define MAILCTL_RR_TLSA		9
#define MAILCTL_RR_PTR		10

struct mailctl_rr {
	int		 kind;		/* MAILCTL_RR_* */
	char		*name;		/* no final dot (POLICY: the URL) */
	const char	*type;		/* "MX", "TXT", ... ("FILE": POLICY) */
	char		*value;		/* TXT: unsplit; names without a dot */
	char		*note;
	int		 required;	/* dns check fails without it */
	const struct mailctl_dkim_key *key;	/* DKIM */
	char		*addr;		/* PTR, ADDR: the address */
};

struct mailctl_rrs {
	const struct cfg *cfg;
	char		 domain[256];
	const char	*host;		/* myhostname */
	const char	*signer;	/* the key domain, NULL: no keys */
	int		 receives;	/* domain is in mydestination */
	const char	*relay_include;	/* SPF include: for relayhost */
	char		*addr4;		/* smtp_bind_address or NULL */
	char		*addr6;
	struct mailctl_dkim_keys keys;
	struct mailctl_rr *v;
	size_t		 n;
};

/* mailctl_dns_build - every record for domain; -1 with a message */
int	 mailctl_dns_build(const struct cfg *, const char *,
	    struct mailctl_rrs *);
void	 mailctl_dns_free(struct mailctl_rrs *);
/* mailctl_dns_zone_txt - "NAME. IN TXT ..." with 255-byte strings */
void	 mailctl_dns_zone_txt(FILE *, const char *, const char *);
/* mailctl_dns_check - live DNS against the records, the lines to fp:
 * the exit status */
int	 mailctl_dns_check(struct mailctl_rrs *, FILE *);

#define MAILCTL_DNS_OK		0
#define MAILCTL_DNS_MISSING	1
#define MAILCTL_DNS_WRONG	2
#define MAILCTL_DNS_ERROR	3	/* the lookup failed */

struct dns;
/* mailctl_dns_resolver - dns_server_address, else resolv.conf; NULL */
struct dns *mailctl_dns_resolver(const struct cfg *);
/* mailctl_dns_cut - printable text of DNS data, cut at max bytes; out */
const char *mailctl_dns_cut(const char *, size_t, char *, size_t);
/*
 * mailctl_dns_dkim - the published record of a key against the key:
 * MAILCTL_DNS_* with what was found in detail
 */
int	 mailctl_dns_dkim(struct dns *, const struct mailctl_dkim_key *,
	    char *, size_t);

#endif
