/*
 * maps_re.c - regexp: and pcre: tables (regexp_table(5), pcre_table(5);
 * see maps.h, maps_priv.h), both matched by PCRE2.
 *
 *	[!]/pattern/flags	result
 *	if [!]/pattern/flags
 *	endif
 *
 * The delimiter is any byte that is not a letter, digit, white space or
 * backslash; a backslash escapes it inside the pattern.  Rules are tried
 * in order; the first that matches gives its result, with $1, ${1}, $(1)
 * replaced by what the pattern's group matched ("" for a group that took
 * no part) and $$ by '$'.
 *
 * regexp: patterns are POSIX regular expressions (extended by default,
 * basic without the x flag), written over into PCRE2 syntax by
 * maps_re_posix: a backslash inside brackets is an ordinary byte there,
 * \< \> \` \' are GNU's word and string anchors, a backslash before a
 * letter or digit that means nothing in POSIX (\d) is an error, and in
 * basic syntax \( \) \{ \} \| \+ \? are the operators and ( ) { } | + ?
 * ordinary bytes.
 * Flags: i (case-insensitive, on), x (extended, on), m (multi-line, off;
 * when off, "." matches a newline and "$" only the end, as in POSIX).
 * One difference remains: PCRE2 takes the leftmost alternative that
 * matches, POSIX the longest, which can change what $n holds.
 *
 * pcre: flags i (on), s (dot matches newline, on), m, x, A, E, U as
 * Postfix; X (PCRE's EXTRA) does not exist in PCRE2 and is refused.
 *
 * Matching is bounded (a match limit and a heap limit); a key that hits
 * them is a temporary error, never a match.
 *
 * Interface: maps_regexp_load, maps_pcre_load, maps_re_lookup,
 * maps_re_free.
 * Errors (reported with the line; the table is refused): a pattern that
 * does not compile (with PCRE2's message and offset), no closing
 * delimiter, an unknown flag, a rule without result, a bad $
 * substitution, $n beyond the pattern's groups or in a negated rule,
 * text after if/endif, unbalanced if/endif.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maps.h"
#include "maps_priv.h"
#include "util.h"

#define MAPS_RE_RULE	0
#define MAPS_RE_IF	1
#define MAPS_RE_ENDIF	2

#define MAPS_RE_MATCH_LIMIT	1000000	/* backtracking steps per match */
#define MAPS_RE_HEAP_KIB	8192	/* heap per match */

struct maps_re_rule {
	int		 op;
	int		 negate;
	pcre2_code	*code;
	size_t		 end;		/* IF: index of its ENDIF */
	char		*result;
};

struct maps_re {
	struct maps_re_rule *rule;
	size_t		 n;
	size_t		 cap;
	int		 posix;		/* regexp: */
	uint32_t	 maxcap;	/* most groups of any pattern */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct maps_ifs	 ifs;		/* while it is read */
	const struct maps_src *src;
	struct maps_report *r;
};

/* maps_re_bracket - a POSIX bracket expression at p[i] ('['), in PCRE2 */
static int
maps_re_bracket(const char *p, size_t len, size_t *ip, struct buf *out)
{
	size_t	 i = *ip + 1;
	const char *end;
	int	 first = 1;

	buf_putc(out, '[');
	if (i < len && p[i] == '^')
		buf_putc(out, p[i++]);
	for (; i < len && (p[i] != ']' || first); first = 0) {
		if (p[i] == '[' && i + 1 < len && strchr(":=.", p[i + 1]) !=
		    NULL) {
			/* [:class:] and friends, up to their closing "X]" */
			end = p + i + 2;
			while (end + 1 < p + len && !(end[0] == p[i + 1] &&
			    end[1] == ']'))
				end++;
			if (end + 1 >= p + len)
				return -1;
			buf_append(out, p + i, (size_t)(end + 2 - (p + i)));
			i = (size_t)(end + 2 - p);
			continue;
		}
		if (p[i] == '\\' || p[i] == '[' || p[i] == ']')
			buf_putc(out, '\\');
		buf_putc(out, p[i++]);
	}
	if (i >= len)
		return -1;
	buf_putc(out, ']');
	*ip = i;
	return 0;
}

/*
 * maps_re_escape - a POSIX "\c" outside brackets, in PCRE2; -1 for a
 * letter or digit that means nothing in POSIX (glibc's regcomp makes some
 * of them match nothing at all under REG_ICASE, so no meaning is safe)
 */
static int
maps_re_escape(int c, int ere, struct buf *out)
{
	if (!ere && strchr("(){}|+?", c) != NULL)
		buf_putc(out, c);		/* BRE operators */
	else if (c == '<')
		buf_puts(out, "\\b(?=\\w)");
	else if (c == '>')
		buf_puts(out, "\\b(?<=\\w)");
	else if (c == '`')
		buf_puts(out, "\\A");
	else if (c == '\'')
		buf_puts(out, "\\z");
	else if (strchr("wWsSbB123456789", c) != NULL) {
		buf_putc(out, '\\');
		buf_putc(out, c);
	} else if (isalnum(c))
		return -1;
	else {
		buf_putc(out, '\\');
		buf_putc(out, c);
	}
	return 0;
}

/*
 * maps_re_posix - a POSIX regular expression (ere: extended, else basic)
 * written in PCRE2 syntax; -1 with why in err
 */
static int
maps_re_posix(const char *p, size_t len, int ere, struct buf *out,
    char *err, size_t errlen)
{
	size_t	 i;
	int	 c, start = 1;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '[') {
			if (maps_re_bracket(p, len, &i, out) == -1) {
				snprintf(err, errlen, "unterminated [");
				return -1;
			}
		} else if (c == '\\') {
			if (++i == len) {
				snprintf(err, errlen, "trailing backslash");
				return -1;
			}
			if (maps_re_escape((unsigned char)p[i], ere, out) ==
			    -1) {
				snprintf(err, errlen, "\\%c means nothing in a "
				    "POSIX regular expression (a pcre: table "
				    "has it)", p[i]);
				return -1;
			}
			start = !ere && p[i] == '(';
			continue;
		} else if (!ere && (strchr("(){}|+?", c) != NULL ||
		    (c == '*' && start) || (c == '^' && !start) ||
		    (c == '$' && i + 1 < len && !(p[i + 1] == '\\' &&
		    i + 2 < len && p[i + 2] == ')')))) {
			buf_putc(out, '\\');
			buf_putc(out, c);
		} else
			buf_putc(out, c);
		start = !ere && c == '^' && start;
	}
	if (buf_putc(out, '\0') == -1) {
		snprintf(err, errlen, "pattern too long");
		return -1;
	}
	return 0;
}

/* maps_re_flags - the flags after a pattern into PCRE2 options */
static int
maps_re_flags(const char *f, int posix, uint32_t *opt, char *err,
    size_t errlen)
{
	static const struct {
		char		 c;
		uint32_t	 bit;
	} pcre[] = {
		{ 'i', PCRE2_CASELESS }, { 'm', PCRE2_MULTILINE },
		{ 's', PCRE2_DOTALL }, { 'x', PCRE2_EXTENDED },
		{ 'A', PCRE2_ANCHORED }, { 'E', PCRE2_DOLLAR_ENDONLY },
		{ 'U', PCRE2_UNGREEDY },
	};
	size_t	 i;
	int	 ere = 1;

	*opt = PCRE2_CASELESS | (posix ? 0 : PCRE2_DOTALL);
	for (; *f != '\0'; f++) {
		if (posix && *f == 'x') {
			ere = !ere;
			continue;
		}
		for (i = 0; i < NELEM(pcre); i++)
			if (pcre[i].c == *f && (!posix || *f == 'i' ||
			    *f == 'm'))
				break;
		if (i == NELEM(pcre)) {
			snprintf(err, errlen, "unknown flag '%c'%s", *f,
			    *f == 'X' && !posix ? " (PCRE2 has no EXTRA)" : "");
			return -1;
		}
		*opt ^= pcre[i].bit;
	}
	/* POSIX without REG_NEWLINE: '.' takes '\n', '$' is the end only */
	if (posix && !(*opt & PCRE2_MULTILINE))
		*opt |= PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
	return ere;
}

/*
 * maps_re_ref - the group number of a "$..." at s (s[0] == '$'), its
 * length in *len; 0 for "$$", -1 with why in err
 */
static long
maps_re_ref(const char *s, size_t *len, char *err, size_t errlen)
{
	const char *p = s + 1, *q;
	char	 close = 0;
	long	 n = 0;

	if (*p == '$') {
		*len = 2;
		return 0;
	}
	if (*p == '{' || *p == '(')
		close = *p++ == '{' ? '}' : ')';
	for (q = p; isalnum((unsigned char)*q) || *q == '_'; q++)
		;
	if (q == p || (close != 0 && *q != close)) {
		snprintf(err, errlen, "%s after '$'", q == p ? "no group number"
		    : "no closing bracket");
		return -1;
	}
	for (; p < q; p++) {
		if (!isdigit((unsigned char)*p) || n > 9999) {
			snprintf(err, errlen, "\"$%.*s\" is not a group number",
			    (int)(q - s - 1), s + 1);
			return -1;
		}
		n = n * 10 + (*p - '0');
	}
	if (n == 0) {
		snprintf(err, errlen, "there is no group $0");
		return -1;
	}
	*len = (size_t)(q - s) + (close != 0);
	return n;
}

/* maps_re_result - check a result's substitutions against the pattern */
static int
maps_re_result(const char *res, uint32_t ncap, int negate, int *subst,
    char *err, size_t errlen)
{
	const char *p;
	size_t	 len;
	long	 n;

	*subst = 0;
	for (p = res; (p = strchr(p, '$')) != NULL; p += len) {
		if ((n = maps_re_ref(p, &len, err, errlen)) == -1)
			return -1;
		if (n == 0)
			continue;
		if (negate) {
			snprintf(err, errlen, "$%ld in the result of a negated "
			    "pattern (it matched nothing)", n);
			return -1;
		}
		if ((uint32_t)n > ncap) {
			snprintf(err, errlen, "$%ld, but the pattern has %u "
			    "group%s", n, ncap, ncap == 1 ? "" : "s");
			return -1;
		}
		*subst = 1;
	}
	return 0;
}

/*
 * maps_re_pattern - "[!]/pattern/flags" at *pp: compiled into rule,
 * *pp past it; -1 with why in err
 */
static int
maps_re_pattern(struct maps_re *re, char **pp, struct maps_re_rule *rule,
    char *err, size_t errlen)
{
	char	*p = *pp, *start, *flags, delim, msg[256];
	struct buf pat;
	uint32_t opt, ncap;
	PCRE2_SIZE off;
	int	 ere, code;

	for (; *p == '!' || maps_is_space((unsigned char)*p); p++)
		if (*p == '!')
			rule->negate = !rule->negate;
	delim = *p;
	if (delim == '\0' || isalnum((unsigned char)delim) || delim == '\\') {
		snprintf(err, errlen, "expected /pattern/");
		return -1;
	}
	for (start = ++p; *p != '\0' && *p != delim; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (*p == '\0') {
		snprintf(err, errlen, "no closing delimiter '%c'", delim);
		return -1;
	}
	*p++ = '\0';
	for (flags = p; *p != '\0' && !maps_is_space((unsigned char)*p); p++)
		;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	if ((ere = maps_re_flags(flags, re->posix, &opt, err, errlen)) == -1)
		return -1;
	buf_init(&pat, 4 * MAPS_LINE_MAX);
	if (re->posix) {
		if (maps_re_posix(start, strlen(start), ere, &pat, err,
		    errlen) == -1) {
			buf_free(&pat);
			return -1;
		}
	} else
		buf_puts(&pat, start);
	rule->code = pcre2_compile((PCRE2_SPTR)buf_cstr(&pat),
	    PCRE2_ZERO_TERMINATED, opt | PCRE2_NEVER_BACKSLASH_C, &code, &off,
	    NULL);
	buf_free(&pat);
	if (rule->code == NULL) {
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, errlen, "pattern does not compile: %s%s", msg,
		    re->posix ? "" : " (at offset ");
		if (!re->posix)
			snprintf(err + strlen(err), errlen - strlen(err), "%zu)",
			    (size_t)off);
		return -1;
	}
	if (pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &ncap) ==
	    0 && ncap > re->maxcap)
		re->maxcap = ncap;
	return 0;
}

/* maps_re_push - a new rule slot */
static struct maps_re_rule *
maps_re_push(struct maps_re *re)
{
	if (re->n == re->cap) {
		re->cap = re->cap == 0 ? 32 : re->cap * 2;
		re->rule = xreallocarray(re->rule, re->cap, sizeof(*re->rule));
	}
	memset(&re->rule[re->n], 0, sizeof(re->rule[0]));
	return &re->rule[re->n];
}

/* maps_re_keyword - "if" / "endif" (any case) not followed by a letter */
static int
maps_re_keyword(const char *line, const char *kw)
{
	size_t	 n = strlen(kw);

	return util_strncasecmp_ascii(line, kw, n) == 0 &&
	    !isalnum((unsigned char)line[n]);
}

/* maps_re_endif - close the innermost if */
static void
maps_re_endif(struct maps_re *re, const char *rest, int lineno)
{
	struct maps_re_rule *rule;
	char	 err[64];
	long	 i;

	if ((i = maps_if_close(&re->ifs, rest, err, sizeof(err))) == -1) {
		maps_report_add(re->r, 1, re->src->where, lineno, "%s", err);
		return;
	}
	rule = maps_re_push(re);
	rule->op = MAPS_RE_ENDIF;
	re->rule[i].end = re->n++;
}

/* maps_re_close - the rule is complete: an if opens, a rule has a result */
static int
maps_re_close(struct maps_re *re, struct maps_re_rule *rule, char *rest,
    int lineno, char *err, size_t errlen)
{
	uint32_t ncap = 0;
	int	 subst;

	if (rule->op == MAPS_RE_IF) {
		if (*rest != '\0') {
			snprintf(err, errlen, "text after the pattern of an if");
			return -1;
		}
		return maps_if_open(&re->ifs, re->n, err, errlen);
	}
	if (*rest == '\0') {
		snprintf(err, errlen, "a pattern without a result");
		return -1;
	}
	(void)pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (maps_re_result(rest, ncap, rule->negate, &subst, err, errlen) ==
	    -1)
		return -1;
	rule->result = xstrdup(rest);
	maps_check_value(re->src, re->r, lineno, rest, subst);
	return 0;
}

/* maps_re_line - one rule, if or endif */
static int
maps_re_line(void *arg, char *line, int lineno)
{
	struct maps_re *re = arg;
	struct maps_re_rule *rule;
	char	*p = line, err[512];

	if (maps_re_keyword(line, "endif")) {
		maps_re_endif(re, line + 5, lineno);
		return 0;
	}
	rule = maps_re_push(re);
	if (maps_re_keyword(line, "if")) {
		rule->op = MAPS_RE_IF;
		p = line + 2;
	}
	if (maps_re_pattern(re, &p, rule, err, sizeof(err)) == 0) {
		while (maps_is_space((unsigned char)*p))
			p++;
		if (maps_re_close(re, rule, p, lineno, err, sizeof(err)) == 0) {
			re->n++;
			return 0;
		}
	}
	maps_report_add(re->r, 1, re->src->where, lineno, "%s", err);
	pcre2_code_free(rule->code);
	rule->code = NULL;
	return 0;
}

/* maps_re_load - either type: parse, compile, make the match data */
static void *
maps_re_load(const struct maps_src *src, struct maps_report *r, int posix)
{
	struct maps_re *re = xcalloc(1, sizeof(*re));
	int	 nerr = r != NULL ? r->nerr : 0;

	re->posix = posix;
	re->src = src;
	re->r = r;
	(void)maps_lines(src, r, maps_re_line, re);
	maps_if_end(&re->ifs, src, r);
	if (r != NULL && r->nerr > nerr) {
		maps_re_free(re);
		return NULL;
	}
	if ((re->md = pcre2_match_data_create(re->maxcap + 1, NULL)) == NULL ||
	    (re->mctx = pcre2_match_context_create(NULL)) == NULL)
		abort();	/* out of memory: as xmalloc */
	pcre2_set_match_limit(re->mctx, MAPS_RE_MATCH_LIMIT);
	pcre2_set_heap_limit(re->mctx, MAPS_RE_HEAP_KIB);
	re->src = NULL;
	re->r = NULL;
	return re;
}

/* maps_regexp_load - regexp: */
void *
maps_regexp_load(const struct maps_src *src, struct maps_report *r)
{
	return maps_re_load(src, r, 1);
}

/* maps_pcre_load - pcre: */
void *
maps_pcre_load(const struct maps_src *src, struct maps_report *r)
{
	return maps_re_load(src, r, 0);
}

/* maps_re_subst - a result with its $n replaced from the match */
static int
maps_re_subst(const struct maps_re *re, const char *res, const char *key,
    int rc, struct buf *val)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
	const char *p;
	size_t	 len;
	long	 n;
	char	 err[8];

	for (p = res; *p != '\0'; p += len) {
		if (*p != '$') {
			len = strcspn(p, "$");
			if (buf_append(val, p, len) == -1)
				return -1;
			continue;
		}
		/* checked at load: a valid reference */
		if ((n = maps_re_ref(p, &len, err, sizeof(err))) == 0) {
			if (buf_putc(val, '$') == -1)
				return -1;
		} else if (n < rc && ov[2 * n] != PCRE2_UNSET &&
		    buf_append(val, key + ov[2 * n], ov[2 * n + 1] -
		    ov[2 * n]) == -1)
			return -1;
	}
	return val->len > MAPS_VALUE_MAX ? -1 : 0;
}

/* maps_re_lookup - the first rule that matches the key */
int
maps_re_lookup(void *st, const char *key, struct buf *val, char *err,
    size_t errlen)
{
	struct maps_re *re = st;
	const struct maps_re_rule *rule;
	char	 msg[256];
	size_t	 i;
	int	 rc, hit;

	for (i = 0; i < re->n; i++) {
		rule = &re->rule[i];
		if (rule->op == MAPS_RE_ENDIF)
			continue;
		rc = pcre2_match(rule->code, (PCRE2_SPTR)key, strlen(key), 0,
		    0, re->md, re->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH &&
		    !(rc <= PCRE2_ERROR_UTF8_ERR1 &&
		    rc >= PCRE2_ERROR_UTF8_ERR21)) {
			pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg,
			    sizeof(msg));
			snprintf(err, errlen, "matching error: %s", msg);
			return MAPS_TEMPFAIL;
		}
		hit = (rc >= 0) != rule->negate;
		if (rule->op == MAPS_RE_IF) {
			if (!hit)
				i = rule->end;
			continue;
		}
		if (!hit)
			continue;
		if (maps_re_subst(re, rule->result, key, rc, val) == -1) {
			snprintf(err, errlen, "result longer than %d bytes",
			    MAPS_VALUE_MAX);
			return MAPS_TEMPFAIL;
		}
		return MAPS_FOUND;
	}
	return MAPS_NOTFOUND;
}

/* maps_re_free - release the rules and the match data */
void
maps_re_free(void *st)
{
	struct maps_re *re = st;
	size_t	 i;

	if (re == NULL)
		return;
	for (i = 0; i < re->n; i++) {
		pcre2_code_free(re->rule[i].code);
		free(re->rule[i].result);
	}
	free(re->rule);
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	free(re);
}
