/*
 * maps_cidr.c - cidr: tables (cidr_table(5); see maps.h, maps_priv.h).
 *
 *	[!]network/prefix	result
 *	[!]address		result
 *	if [!]network/prefix
 *	endif
 *
 * An address may be written in brackets ("[10.0.0.0]/8" or
 * "[10.0.0.0/8]").  Rules are tried in order, the first that matches
 * gives the result; a rule never matches a key of the other address
 * family, negated or not (as Postfix).  A key that is no IPv4 or IPv6
 * address matches nothing.
 *
 * Interface: maps_cidr_load, maps_cidr_lookup, maps_cidr_free.
 * Errors (reported with the line; the table is refused): a bad address,
 * a prefix out of range or not in digits, host bits set ("perhaps you
 * meant ..."), a rule without result, text after if/endif, an endif
 * without if, an if without endif.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maps.h"
#include "maps_priv.h"
#include "util.h"

#define MAPS_CIDR_RULE	0
#define MAPS_CIDR_IF	1
#define MAPS_CIDR_ENDIF	2

struct maps_cidr_rule {
	int		 op;
	int		 family;
	int		 negate;
	unsigned char	 net[16];
	unsigned	 plen;
	size_t		 end;		/* IF: index of its ENDIF */
	char		*result;
};

struct maps_cidr {
	struct maps_cidr_rule *rule;
	size_t		 n;
	size_t		 cap;
	struct maps_ifs	 ifs;		/* while it is read */
	const struct maps_src *src;
	struct maps_report *r;
};

/* maps_cidr_bits - is a's first plen bits equal to net's */
static int
maps_cidr_bits(const unsigned char *a, const unsigned char *net,
    unsigned plen)
{
	unsigned char mask;

	if (memcmp(a, net, plen / 8) != 0)
		return 0;
	if (plen % 8 == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - plen % 8));
	return (a[plen / 8] & mask) == (net[plen / 8] & mask);
}

/*
 * maps_cidr_pattern - "[!]addr[/len]" (brackets allowed) into rule;
 * -1 with why in err
 */
static int
maps_cidr_pattern(char *p, struct maps_cidr_rule *rule, char *err,
    size_t errlen)
{
	char	*slash, *close, text[INET6_ADDRSTRLEN], *e;
	unsigned bits, i;
	unsigned char host[16];

	for (; *p == '!'; p++)
		rule->negate = !rule->negate;
	if (*p == '[') {
		if ((close = strchr(++p, ']')) == NULL) {
			snprintf(err, errlen, "missing ']' after \"[%.60s\"", p);
			return -1;
		}
		*close = '\0';
		if (close[1] != '\0' && close[1] != '/') {
			snprintf(err, errlen, "text after \"[%.60s]\"", p);
			return -1;
		}
		slash = close[1] == '/' ? close + 1 : strchr(p, '/');
	} else
		slash = strchr(p, '/');
	if (slash != NULL)
		*slash++ = '\0';
	rule->family = strchr(p, ':') != NULL ? AF_INET6 : AF_INET;
	bits = rule->family == AF_INET6 ? 128 : 32;
	if (*p == '\0' || inet_pton(rule->family, p, rule->net) != 1) {
		snprintf(err, errlen, "bad address \"%.60s\"", p);
		return -1;
	}
	rule->plen = bits;
	if (slash != NULL) {
		for (e = slash; isdigit((unsigned char)*e); e++)
			;
		if (e == slash || *e != '\0' || e - slash > 3 ||
		    (rule->plen = (unsigned)atoi(slash)) > bits) {
			snprintf(err, errlen, "bad prefix length \"/%.10s\" "
			    "(0 to %u)", slash, bits);
			return -1;
		}
	}
	memcpy(host, rule->net, sizeof(host));
	for (i = rule->plen; i < bits; i++)
		host[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	if (memcmp(host, rule->net, bits / 8) != 0) {
		inet_ntop(rule->family, host, text, sizeof(text));
		snprintf(err, errlen, "host bits set in \"%.60s/%u\": perhaps "
		    "you mean \"%s/%u\"", p, rule->plen, text, rule->plen);
		return -1;
	}
	return 0;
}

/* maps_cidr_push - a new rule slot */
static struct maps_cidr_rule *
maps_cidr_push(struct maps_cidr *c)
{
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 32 : c->cap * 2;
		c->rule = xreallocarray(c->rule, c->cap, sizeof(*c->rule));
	}
	memset(&c->rule[c->n], 0, sizeof(c->rule[0]));
	return &c->rule[c->n];
}

/* maps_cidr_keyword - "if" / "endif" (any case) as a whole word */
static int
maps_cidr_keyword(const char *line, const char *kw)
{
	size_t	 n = strlen(kw);

	return util_strncasecmp_ascii(line, kw, n) == 0 &&
	    (line[n] == '\0' || maps_is_space((unsigned char)line[n]));
}

/* maps_cidr_endif - close the innermost if */
static void
maps_cidr_endif(struct maps_cidr *c, const char *rest, int lineno)
{
	struct maps_cidr_rule *rule;
	char	 err[64];
	long	 i;

	if ((i = maps_if_close(&c->ifs, rest, err, sizeof(err))) == -1) {
		maps_report_add(c->r, 1, c->src->where, lineno, "%s", err);
		return;
	}
	rule = maps_cidr_push(c);
	rule->op = MAPS_CIDR_ENDIF;
	c->rule[i].end = c->n++;
}

/* maps_cidr_line - one rule, if or endif */
static int
maps_cidr_line(void *arg, char *line, int lineno)
{
	struct maps_cidr *c = arg;
	struct maps_cidr_rule *rule;
	char	*pat = line, *rest, err[256];
	int	 op = MAPS_CIDR_RULE;

	if (maps_cidr_keyword(line, "endif")) {
		maps_cidr_endif(c, line + 5, lineno);
		return 0;
	}
	if (maps_cidr_keyword(line, "if")) {
		op = MAPS_CIDR_IF;
		for (pat = line + 2; maps_is_space((unsigned char)*pat); pat++)
			;
	}
	for (rest = pat; *rest != '\0' && !maps_is_space((unsigned char)*rest);
	    rest++)
		;
	if (*rest != '\0')
		*rest++ = '\0';
	while (maps_is_space((unsigned char)*rest))
		rest++;
	rule = maps_cidr_push(c);
	rule->op = op;
	if (*pat == '\0' || maps_cidr_pattern(pat, rule, err, sizeof(err)) ==
	    -1) {
		maps_report_add(c->r, 1, c->src->where, lineno, "%s",
		    *pat == '\0' ? "if without a pattern" : err);
		return 0;
	}
	if ((op == MAPS_CIDR_IF) != (*rest == '\0')) {
		maps_report_add(c->r, 1, c->src->where, lineno, "%s",
		    op == MAPS_CIDR_IF ? "text after the pattern of an if" :
		    "a pattern without a result");
		return 0;
	}
	if (op == MAPS_CIDR_IF) {
		if (maps_if_open(&c->ifs, c->n, err, sizeof(err)) == -1) {
			maps_report_add(c->r, 1, c->src->where, lineno, "%s",
			    err);
			return 0;
		}
	} else {
		rule->result = xstrdup(rest);
		maps_check_value(c->src, c->r, lineno, rest, 0);
	}
	c->n++;
	return 0;
}

/* maps_cidr_load - parse the rules */
void *
maps_cidr_load(const struct maps_src *src, struct maps_report *r)
{
	struct maps_cidr *c = xcalloc(1, sizeof(*c));
	int	 nerr = r != NULL ? r->nerr : 0;

	c->src = src;
	c->r = r;
	(void)maps_lines(src, r, maps_cidr_line, c);
	maps_if_end(&c->ifs, src, r);
	if (r != NULL && r->nerr > nerr) {
		maps_cidr_free(c);
		return NULL;
	}
	c->src = NULL;
	c->r = NULL;
	return c;
}

/* maps_cidr_lookup - the first rule that matches the address */
int
maps_cidr_lookup(void *st, const char *key, struct buf *val, char *err,
    size_t errlen)
{
	const struct maps_cidr *c = st;
	const struct maps_cidr_rule *rule;
	unsigned char a[16];
	size_t	 i;
	int	 family = strchr(key, ':') != NULL ? AF_INET6 : AF_INET, hit;

	if (inet_pton(family, key, a) != 1)
		return MAPS_NOTFOUND;
	for (i = 0; i < c->n; i++) {
		rule = &c->rule[i];
		if (rule->op == MAPS_CIDR_ENDIF)
			continue;
		hit = rule->family == family &&
		    maps_cidr_bits(a, rule->net, rule->plen) != rule->negate;
		if (rule->op == MAPS_CIDR_IF) {
			if (!hit)
				i = rule->end;
			continue;
		}
		if (!hit)
			continue;
		if (buf_puts(val, rule->result) == -1) {
			snprintf(err, errlen, "value longer than the caller "
			    "takes");
			return MAPS_TEMPFAIL;
		}
		return MAPS_FOUND;
	}
	return MAPS_NOTFOUND;
}

/* maps_cidr_free - release the rules */
void
maps_cidr_free(void *st)
{
	struct maps_cidr *c = st;
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->rule[i].result);
	free(c->rule);
	free(c);
}
