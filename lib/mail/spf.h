/*
 * spf.h - Sender Policy Framework records (RFC 7208): the parser, the
 * number of DNS lookups a record needs, and check_host() for one address.
 *
 * The lookups are the caller's (struct spf_dns): mailctl dns check does
 * them with lib/dns, the unit tests with tables, and the verification of
 * inbound mail will with its own resolver.  One function answers every
 * question as text: TXT records (each record's strings joined), A and
 * AAAA (printable addresses) and MX (host names).
 *
 * What is evaluated: all, include, a, mx, ip4, ip6, exists, redirect, with
 * their CIDR lengths and macros (RFC 7208 7: letters s l o d i p h v with
 * digit and 'r' transformers and delimiters; p is "unknown", h the
 * current domain; upper-case letters expand like lower-case ones, without
 * the URL escaping that matters only for explanations).  ptr counts as a lookup and never matches (RFC 7208
 * 5.5 says not to use it).  exp= is parsed and never fetched.  Limits
 * (RFC 7208 4.6.4): 10 mechanisms and modifiers that look up, 10 MX hosts
 * per mx, 2 lookups that find nothing ("void"); over any is PERMERROR.
 *
 * Bounds: a record at most SPF_RECORD_MAX bytes and SPF_TERMS_MAX terms;
 * a domain-spec expands to at most 253 bytes (labels cut from the left
 * as RFC 7208 7.3 says).
 *
 * Errors: spf_parse returns -1 with a reason; the evaluators return an
 * SPF_* result with a reason in why.
 */
#ifndef YOUJU_SPF_H
#define YOUJU_SPF_H

#include <stddef.h>

#define SPF_RECORD_MAX	4096
#define SPF_TERMS_MAX	64
#define SPF_LOOKUP_MAX	10
#define SPF_VOID_MAX	2

/* results (RFC 7208 2.6) */
#define SPF_NONE	0
#define SPF_NEUTRAL	1
#define SPF_PASS	2
#define SPF_FAIL	3
#define SPF_SOFTFAIL	4
#define SPF_TEMPERROR	5
#define SPF_PERMERROR	6

/* mechanisms */
#define SPF_M_ALL	1
#define SPF_M_INCLUDE	2
#define SPF_M_A		3
#define SPF_M_MX	4
#define SPF_M_PTR	5
#define SPF_M_IP4	6
#define SPF_M_IP6	7
#define SPF_M_EXISTS	8

/* question types, numbered as in DNS */
#define SPF_Q_A		1
#define SPF_Q_MX	15
#define SPF_Q_TXT	16
#define SPF_Q_AAAA	28

struct spf_term {
	int		 qual;		/* '+', '-', '~' or '?' */
	int		 mech;		/* SPF_M_* */
	char		*domain;	/* domain-spec as written; NULL: none */
	int		 cidr4;		/* 0..32, 32 when absent */
	int		 cidr6;		/* 0..128, 128 when absent */
	unsigned char	 net[16];	/* ip4 (4 bytes) / ip6 network */
	char		*text;		/* the term as written */
};

struct spf_record {
	struct spf_term	*t;
	size_t		 n;
	char		*redirect;	/* domain-spec, NULL when absent */
	char		*exp;
};

/*
 * struct spf_dns - the caller's resolver: lookup(arg, name, SPF_Q_*, &v,
 * &n) puts n answers as text into a malloc'ed array of malloc'ed strings
 * (freed by the evaluator) and returns 0; 1 when the name has none
 * (NXDOMAIN or no such records, n 0); -1 when the lookup failed
 * temporarily
 */
struct spf_dns {
	int		(*lookup)(void *, const char *, int, char ***,
			    size_t *);
	void		*arg;
};

/* spf_is_record - does the text start with "v=spf1" and a space or end */
int	 spf_is_record(const char *, size_t);
/* spf_parse - a record's text into terms; -1 with why */
int	 spf_parse(const char *, size_t, struct spf_record *, char *,
	    size_t);
void	 spf_record_free(struct spf_record *);
/* spf_result_name - "pass", "fail", ... */
const char *spf_result_name(int);

/*
 * spf_count - the DNS lookups evaluating domain's record can take at most
 * (every include and redirect followed, macros that need an address
 * counted without following): 0 with *count (a number over
 * SPF_LOOKUP_MAX stops the walk), or SPF_NONE (no record),
 * SPF_PERMERROR (malformed, two records, an include without a record),
 * SPF_TEMPERROR, with why
 */
int	 spf_count(const struct spf_dns *, const char *, int *, char *,
	    size_t);
/*
 * spf_check - check_host(): the result for an address (printable, v4 or
 * v6) sending mail from sender (used by macros) with domain's record;
 * *lookups the lookups it took; why says which term decided, or what
 * went wrong
 */
int	 spf_check(const struct spf_dns *, const char *, const char *,
	    const char *, int *, char *, size_t);

#endif
