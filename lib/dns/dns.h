/*
 * dns.h - where mail for a domain goes: MX, then A/AAAA (RFC 5321 5.1),
 * with libunbound.
 *
 * dns_new() makes a resolver: with a server ("127.0.0.1:5353", from
 * dns_server_address) every query is forwarded there, including the
 * special-use test. zone and the loopback and documentation reverse zones
 * libunbound would otherwise answer itself; without one the system's
 * /etc/resolv.conf is used (libunbound reads it; /etc/hosts is never
 * used).  Lookups are synchronous with a deadline: the smtp client
 * that uses them handles one delivery at a time.
 *
 * dns_targets() fills up to DNS_MAX_TARGETS hosts in the order to try:
 *  - the MX records sorted by preference, equal preferences shuffled;
 *  - no MX records (NODATA): the domain itself, preference 0 (the implicit
 *    MX of RFC 5321 5.1);
 *  - a single MX "0 ." (null MX, RFC 7505): DNS_NULLMX, a permanent error;
 *  - NXDOMAIN: DNS_NOTFOUND, permanent;
 *  - SERVFAIL, timeout, a malformed answer: DNS_TEMPFAIL.
 * Each host's IPv4 and IPv6 addresses (CNAMEs followed by the resolver,
 * at most DNS_MAX_ADDRS) are filled in; a host without addresses is kept
 * with naddr 0 (the caller skips it and, if all are empty, defers).
 * Every name from an answer is checked (dns_valid_name) before use.
 * A domain literal "[1.2.3.4]" or "[IPv6:...]" needs no lookup: one target
 * whose host is the normalised literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"
 * -- never a name for TLS), naddr 1; a bad literal is DNS_NOTFOUND.
 * Refinements: the implicit MX with no A/AAAA either is DNS_NOTFOUND
 * (RFC 5321 5.1: the domain cannot receive mail); MX hosts that all lack
 * addresses give DNS_OK with naddr 0 everywhere (unless one of those
 * lookups failed temporarily: DNS_TEMPFAIL); at most DNS_MAX_RR MX records
 * are looked at (more: DNS_TEMPFAIL); an MX answer whose names are all
 * invalid is DNS_TEMPFAIL (like Postfix's "malformed name server reply").
 * IPv4 addresses come first, with up to half the slots kept for IPv6.
 *
 * The deadline (`timeout' seconds, at least 1) covers the whole call: the
 * MX query and then the A/AAAA queries of all hosts, run in parallel.
 * dns_new() must be called before chroot (it reads /etc/resolv.conf when
 * no server is given); the resolver runs in a thread of this process.
 */
#ifndef YOUJU_DNS_H
#define YOUJU_DNS_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>

#define DNS_MAX_TARGETS	10
#define DNS_MAX_ADDRS	8
#define DNS_NAME_MAX	255
#define DNS_MAX_RR	256	/* MX records looked at in one answer */

#define DNS_OK		0
#define DNS_TEMPFAIL	1
#define DNS_NOTFOUND	2
#define DNS_NULLMX	3

struct dns_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
};

struct dns_target {
	char		 host[DNS_NAME_MAX + 1];
	int		 pref;
	struct dns_addr	 addr[DNS_MAX_ADDRS];
	size_t		 naddr;
};

struct dns;

struct dns *dns_new(const char *, char *, size_t);
/*
 * dns_hosts - answer the names and addresses of a hosts(5) file (A,
 * AAAA and PTR) from it, as the C library does with "hosts: files dns";
 * the rest still goes to the DNS.  Before chroot; at most DNS_HOSTS_MAX
 * addresses get a PTR.  0, or -1 with why.
 */
#define DNS_HOSTS_MAX	10000
int	 dns_hosts(struct dns *, const char *, char *, size_t);
/*
 * dns_hosts_line - one hosts(5) line "ADDRESS NAME [ALIAS...] [# ...]":
 * 1 with the address's reverse name ("1.0.0.127.in-addr.arpa") in rev
 * and the first name (lower case) in name, 0 for a blank or comment
 * line or one whose address or first name is not valid
 */
int	 dns_hosts_line(const char *, char *, size_t, char *, size_t);
/*
 * dns_set_families - which address records to look up (inet_protocols):
 * DNS_IPV4, DNS_IPV6 or both (the default); 0 leaves it unchanged.
 * Domain literals are used as written.
 */
#define DNS_IPV4	0x01
#define DNS_IPV6	0x02
void	 dns_set_families(struct dns *, int);
void	 dns_free(struct dns *);
/* dns_targets - 0 with *n targets filled, or a DNS_* error with why */
int	 dns_targets(struct dns *, const char *, int, struct dns_target *,
	    size_t *, char *, size_t);
/* dns_host - addresses of one host name (relayhost without [ ]) */
int	 dns_host(struct dns *, const char *, int, struct dns_target *,
	    char *, size_t);
/* dns_valid_name - LDH labels, 1..63 each, total <= 253, no "." root */
int	 dns_valid_name(const char *);
/* dns_sort_mx - sort by preference, shuffle equal ones (exposed for tests) */
void	 dns_sort_mx(struct dns_target *, size_t);
/* dns_addr_text - printable address */
const char *dns_addr_text(const struct dns_addr *, char *, size_t);

/*
 * Asynchronous lookups for an event loop (dns_async.c).  dns_async()
 * starts a query of type DNS_Q_*; its answer comes through cb(arg,
 * answer) from dns_process(), to be run when dns_fd() is readable; NULL
 * when the query cannot start.  dns_async_cancel() drops a query that has
 * not been answered (its callback is never called).  The answer: status
 * DNS_OK (n records as text), DNS_EMPTY (the name exists, no such
 * records), DNS_NOTFOUND (NXDOMAIN), DNS_NULLMX (MX "0 ."), DNS_TEMPFAIL;
 * A/AAAA records as address text, TXT as the first character-string with
 * anything not printable ASCII made '?', MX as valid host names, PTR
 * (DNS_Q_PTR, below) as the names that are valid host names (lower case)
 * and do not end in an all-digit label; other records are skipped.
 * dns_answer_fill() is that conversion (exposed for tests).
 * dns_rbl_name() makes the DNSBL query name of a client address under a
 * zone: 1.2.3.4 -> 4.3.2.1.zone, IPv6 by reversed nibbles; -1 for a bad
 * address or zone.
 */
#define DNS_EMPTY	4
#define DNS_Q_A		1
#define DNS_Q_MX	15
#define DNS_Q_TXT	16
#define DNS_Q_AAAA	28
#define DNS_ANS_MAX	8

struct dns_answer {
	int		 status;
	size_t		 n;
	char		 text[DNS_ANS_MAX][DNS_NAME_MAX + 1];
};

struct dns_aq;
struct dns_aq *dns_async(struct dns *, const char *, int,
	    void (*)(void *, const struct dns_answer *), void *);
void	 dns_async_cancel(struct dns_aq *);
int	 dns_fd(struct dns *);
int	 dns_process(struct dns *);
void	 dns_answer_fill(int, int, int, char *const *, const int *,
	    struct dns_answer *);
int	 dns_rbl_name(const char *, const char *, char *, size_t);
/*
 * dns_rbl_filter - does an IPv4 answer match a reject_rbl_client filter
 * "d.d.d.d" whose octets are numbers or Postfix's "[n;n..m;...]" lists:
 * 1 yes, 0 no, -1 a malformed filter (which matches nothing)
 */
int	 dns_rbl_filter(const char *, const char *);

/*
 * Exposed for tests and fuzzing (no lookups):
 * dns_parse_mx - one MX rdata (u16 preference, uncompressed wire name) ->
 *	preference and lowercased host text ("." for the root; a byte that
 *	is not letter, digit or '-' becomes '?'); 0, or -1 when malformed.
 * dns_mx_list - n MX rdata items (as libunbound returns them) -> sorted,
 *	de-duplicated targets without addresses: DNS_OK, DNS_NULLMX, or
 *	DNS_TEMPFAIL (malformed, too many, no valid host name).
 */
int	 dns_parse_mx(const unsigned char *, size_t, int *, char *, size_t);
int	 dns_mx_list(const char *, char *const *, const int *, size_t,
	    struct dns_target *, size_t *, char *, size_t);

/*
 * Synchronous lookups of any type, for mailctl dns check (dns_query.c).
 * dns_query - the records of one type for a name (letters, digits, '-'
 *	and '_' in labels, so "_dmarc.example.com" and
 *	"s._domainkey.example.com" are fine; one trailing dot dropped): DNS_OK
 *	with the rdata of up to DNS_MAX_RR records copied into rrs (as the
 *	wire has them; libunbound follows CNAMEs), DNS_EMPTY (the name
 *	exists, no such records), DNS_NOTFOUND (NXDOMAIN or a name that is
 *	not valid), DNS_TEMPFAIL (SERVFAIL, timeout, DNSSEC failure), with
 *	what happened in why.  Free rrs with dns_rrs_free in every case.
 * dns_txt_join - TXT rdata (one or more length-prefixed character-strings)
 *	appended to out as one text: 0, or -1 when the lengths do not add up
 *	to the rdata exactly or out's limit is reached.  The bytes are kept
 *	as they are: escape them before they are shown.
 * dns_txt_zone - a TXT value as zone-file text: quoted character-strings
 *	of at most 255 bytes each ('"' and '\' escaped with '\', bytes
 *	outside printable ASCII as \DDD), sep between them; 0 or -1 (out's
 *	limit)
 * dns_parse_name - rdata that is exactly one uncompressed name (PTR):
 *	lowercased text without the final dot, bytes outside letters,
 *	digits, '-' and '_' made '?'; 0, or -1 when malformed or the root
 * dns_reverse_name - "4.3.2.1.in-addr.arpa" / nibbles ".ip6.arpa" of a
 *	printable address; -1 when it is none
 */
#define DNS_Q_PTR	12
#define DNS_Q_TLSA	52

struct dns_rrs {
	size_t		  n;
	unsigned char	**rd;
	size_t		 *len;
};

int	 dns_query(struct dns *, const char *, int, int, struct dns_rrs *,
	    char *, size_t);
void	 dns_rrs_free(struct dns_rrs *);
struct buf;
int	 dns_txt_join(const unsigned char *, size_t, struct buf *);
int	 dns_txt_zone(const void *, size_t, const char *, struct buf *);
int	 dns_parse_name(const unsigned char *, size_t, char *, size_t);
int	 dns_reverse_name(const char *, char *, size_t);

#endif
