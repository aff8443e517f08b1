/*
 * dkim.c - DKIM (RFC 6376, RFC 8463): see dkim.h.
 *
 * Interface: tag lists (dkim_tags_*), the header block (dkim_hdrs_*),
 * canonicalization (dkim_canon_header, dkim_body_*), signing in three
 * steps (dkim_sign_begin/digest/finish with dkim_sign_raw at the key
 * holder), keys and key records (dkim_key_*, dkim_record_parse), and the
 * verification of one signature of a message (dkim_verify).
 *
 * Crypto is OpenSSL's EVP: SHA-256, RSASSA-PKCS1-v1_5 over the digest,
 * Ed25519 (PureEdDSA) over the digest.  Every length is checked before a
 * copy; a field or tag list over the bounds of dkim.h is refused.
 *
 * Longer than 800 lines on purpose: the signer and the verifier share the
 * canonicalization, the tag parser and the header selection; split, those
 * would need an internal header that both halves depend on anyway.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "log.h"
#include "sasl.h"
#include "util.h"

#define DKIM_FOLD	72	/* header line length we fold at */

const char *const dkim_sign_names[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "list-id", "list-help", "list-unsubscribe",
	"list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
	"list-archive", NULL
};

/* dkim_err - a reason into err; always -1 */
static int
dkim_err(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		util_strlcpy(err, why, errlen);
	return -1;
}

/* dkim_crypto_fatal - OpenSSL cannot hash: our own broken invariant */
static void __attribute__((noreturn))
dkim_crypto_fatal(const char *what)
{
	log_fatal("OpenSSL cannot compute %s", what);
}

/* dkim_wsp - SP or TAB */
static int
dkim_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* dkim_fws - white space that folding may leave: SP, TAB, CR, LF */
static int
dkim_fws(int c)
{
	return dkim_wsp(c) || c == '\r' || c == '\n';
}

/* ---- tag lists --------------------------------------------------------- */

/* dkim_tag_name_ok - ALPHA *(ALPHA / DIGIT / "_") */
static int
dkim_tag_name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 32 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* dkim_tag_value_ok - VALCHAR (%x21-3A / %x3C-7E) and folding white space */
static int
dkim_tag_value_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!dkim_fws(c) && (c < 0x21 || c > 0x7e || c == ';'))
			return 0;
	}
	return 1;
}

/* dkim_trim - the bounds of s[0..len) without folding white space */
static void
dkim_trim(const char **s, size_t *len)
{
	while (*len > 0 && dkim_fws((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && dkim_fws((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* dkim_tags_parse - see dkim.h */
int
dkim_tags_parse(const char *s, size_t len, struct dkim_tags *out, char *err,
    size_t errlen)
{
	const char *p = s, *end = s + len, *semi, *eq, *name, *val;
	size_t	 nlen, vlen, i;

	memset(out, 0, sizeof(*out));
	if (len > DKIM_TAGS_MAX || memchr(s, '\0', len) != NULL)
		return dkim_err(err, errlen, "tag list too long or with NUL");
	while (p < end) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		name = p;
		nlen = (size_t)(semi - p);
		dkim_trim(&name, &nlen);
		p = semi + (semi < end);
		if (nlen == 0) {
			if (semi == end || p == end)
				break;	/* an empty last one after ';' */
			goto bad;
		}
		if ((eq = memchr(name, '=', nlen)) == NULL)
			goto bad;
		val = eq + 1;
		vlen = nlen - (size_t)(val - name);
		nlen = (size_t)(eq - name);
		dkim_trim(&name, &nlen);
		dkim_trim(&val, &vlen);
		if (!dkim_tag_name_ok(name, nlen) ||
		    !dkim_tag_value_ok(val, vlen))
			goto bad;
		for (i = 0; i < out->n; i++)
			if (strlen(out->v[i].name) == nlen &&
			    memcmp(out->v[i].name, name, nlen) == 0) {
				dkim_tags_free(out);
				return dkim_err(err, errlen, "duplicate tag");
			}
		if (out->n >= DKIM_NTAGS_MAX) {
			dkim_tags_free(out);
			return dkim_err(err, errlen, "too many tags");
		}
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n].name = xstrndup(name, nlen);
		out->v[out->n].value = xstrndup(val, vlen);
		out->n++;
	}
	return 0;
bad:
	dkim_tags_free(out);
	return dkim_err(err, errlen, "malformed tag list");
}

/* dkim_tags_get - see dkim.h */
const char *
dkim_tags_get(const struct dkim_tags *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].value;
	return NULL;
}

/* dkim_tags_free - release a parsed list */
void
dkim_tags_free(struct dkim_tags *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].value);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the header block ----------------------------------------------- */

/* dkim_hdrs_init - no fields yet */
void
dkim_hdrs_init(struct dkim_hdrs *h)
{
	memset(h, 0, sizeof(*h));
}

/* dkim_field_name_len - length of a field name before ':' (printable), or 0 */
static size_t
dkim_field_name_len(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && s[i] != ':'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			break;
	/* "Name :" is obsolete syntax: white space before the colon */
	while (i < len && dkim_wsp((unsigned char)s[i]))
		i++;
	return i < len && s[i] == ':' && i > 0 ? i : 0;
}

/* dkim_hdrs_line - see dkim.h */
int
dkim_hdrs_line(struct dkim_hdrs *h, const char *s, size_t len)
{
	char	*f;
	size_t	 old;

	if (h->over)
		return -1;
	if (len == 0)
		return 1;
	if (h->bytes + len + 2 > DKIM_HDR_MAX || memchr(s, '\0', len) != NULL)
		goto over;
	h->bytes += len + 2;
	if (dkim_wsp((unsigned char)s[0])) {
		if (h->n == 0)
			goto over;
		old = strlen(h->f[h->n - 1]);
		f = xrealloc(h->f[h->n - 1], old + 2 + len + 1);
		memcpy(f + old, "\r\n", 2);
		memcpy(f + old + 2, s, len);
		f[old + 2 + len] = '\0';
		h->f[h->n - 1] = f;
		return 0;
	}
	if (dkim_field_name_len(s, len) == 0 || h->n >= DKIM_NHDR_MAX)
		goto over;
	h->f = xreallocarray(h->f, h->n + 1, sizeof(*h->f));
	h->f[h->n++] = xstrndup(s, len);
	return 0;
over:
	h->over = 1;
	return -1;
}

/* dkim_hdrs_free - release the fields */
void
dkim_hdrs_free(struct dkim_hdrs *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free(h->f[i]);
	free(h->f);
	memset(h, 0, sizeof(*h));
}

/* dkim_field_is - does field f have this name (case-insensitive) */
static int
dkim_field_is(const char *f, const char *name)
{
	size_t	 n = dkim_field_name_len(f, strlen(f)), k;

	/* the name without white space before the colon */
	for (k = n; k > 0 && dkim_wsp((unsigned char)f[k - 1]); k--)
		;
	return k == strlen(name) && util_strncasecmp_ascii(f, name, k) == 0;
}

/* dkim_hdrs_count - see dkim.h */
size_t
dkim_hdrs_count(const struct dkim_hdrs *h, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < h->n; i++)
		if (dkim_field_is(h->f[i], name))
			n++;
	return n;
}

/* dkim_hdrs_nth_from_bottom - see dkim.h */
const char *
dkim_hdrs_nth_from_bottom(const struct dkim_hdrs *h, const char *name,
    size_t k)
{
	size_t	 i;

	for (i = h->n; i > 0; i--)
		if (dkim_field_is(h->f[i - 1], name) && k-- == 0)
			return h->f[i - 1];
	return NULL;
}

/*
 * dkim_from_scan - the From value with comments removed and unfolded into
 * out; the offsets of the last angle-addr's contents; -1 when there is a
 * second mailbox (a comma or ';' outside quotes, angle brackets and
 * comments), a group (':'), or unbalanced quoting
 */
static int
dkim_from_scan(const char *v, struct buf *out, size_t *lt, size_t *gt)
{
	int	 depth = 0, quote = 0, angle = 0, nangle = 0;

	*lt = *gt = 0;
	for (; *v != '\0'; v++) {
		if (*v == '\r' || *v == '\n')
			continue;
		if (*v == '\\' && (quote || depth > 0) && v[1] != '\0') {
			if (depth == 0 && (buf_putc(out, v[0]) == -1 ||
			    buf_putc(out, v[1]) == -1))
				return -1;
			v++;
			continue;
		}
		if (quote) {
			quote = *v != '"';
		} else if (depth > 0) {
			depth += *v == '(' ? 1 : *v == ')' ? -1 : 0;
			continue;
		} else if (*v == '(') {
			depth = 1;
			continue;
		} else if (*v == '"') {
			quote = 1;
		} else if (*v == '<') {
			if (angle || nangle++ > 0)
				return -1;
			angle = 1;
			*lt = out->len + 1;
		} else if (*v == '>') {
			if (!angle)
				return -1;
			angle = 0;
			*gt = out->len;
		} else if (!angle && (*v == ',' || *v == ';' || *v == ':'))
			return -1;
		if (buf_putc(out, *v) == -1)
			return -1;
	}
	return quote || depth != 0 || angle ? -1 : 0;
}

/* dkim_from_domain - see dkim.h */
int
dkim_from_domain(const char *field, char *out, size_t len,
    const char **why)
{
	struct buf v;
	const char *s, *at, *e;
	size_t	 lt, gt, n;
	int	 r = -1;

	buf_init(&v, DKIM_HDR_MAX);
	*why = "malformed From (several mailboxes, a group, or quoting)";
	if ((s = strchr(field, ':')) == NULL ||
	    dkim_from_scan(s + 1, &v, &lt, &gt) == -1)
		goto out;
	*why = "From without an address";
	if (v.len == 0)
		goto out;
	s = (const char *)v.data;
	e = s + v.len;
	if (gt > lt) {
		e = s + gt;
		s += lt;
	}
	while (s < e && dkim_fws((unsigned char)*s))
		s++;
	while (e > s && dkim_fws((unsigned char)e[-1]))
		e--;
	*why = "From without an address";
	/* the domain: after the last '@' (a quoted local part may have one) */
	for (at = e; at > s && at[-1] != '@' && at[-1] != '"'; at--)
		;
	if (at == s || at[-1] != '@' || (n = (size_t)(e - at)) == 0)
		goto out;
	*why = "From domain is not a domain name";
	if (n >= len)
		goto out;
	memcpy(out, at, n);
	out[n] = '\0';
	if (!addr_valid_domain(out))
		goto out;
	util_lowercase(out);
	*why = NULL;
	r = 0;
out:
	buf_free(&v);
	return r;
}

/* ---- canonicalization ----------------------------------------------- */

/*
 * dkim_canon_header - "simple": the field as it is; "relaxed" (RFC 6376
 * 3.4.2): name in lower case, unfolded, runs of white space one SP, none
 * at the ends of the value or around the colon.  Then CR LF.
 */
int
dkim_canon_header(const char *f, size_t len, int relaxed, struct buf *out)
{
	size_t	 n, i, k;
	int	 sp = 0, r = 0;

	if (!relaxed) {
		r |= buf_append(out, f, len);
		return r | buf_append(out, "\r\n", 2);
	}
	if ((n = dkim_field_name_len(f, len)) == 0)
		return -1;
	for (k = n; k > 0 && dkim_wsp((unsigned char)f[k - 1]); k--)
		;
	for (i = 0; i < k; i++)
		r |= buf_putc(out, tolower((unsigned char)f[i]));
	r |= buf_putc(out, ':');
	for (i = n + 1; i < len && dkim_fws((unsigned char)f[i]); i++)
		;
	for (; i < len; i++) {
		if (f[i] == '\r' || f[i] == '\n')
			continue;		/* unfold */
		if (dkim_wsp((unsigned char)f[i])) {
			sp = 1;
			continue;
		}
		if (sp)
			r |= buf_putc(out, ' ');
		sp = 0;
		r |= buf_putc(out, f[i]);
	}
	return r | buf_append(out, "\r\n", 2);
}

/* dkim_body_hash - canonical bytes into the hash, up to the l= limit */
static void
dkim_body_hash(struct dkim_body *b, const void *p, size_t len)
{
	if (b->limit >= 0) {
		if (b->len >= (uint64_t)b->limit)
			return;
		if (len > (uint64_t)b->limit - b->len)
			len = (size_t)((uint64_t)b->limit - b->len);
	}
	if (len > 0)
		EVP_DigestUpdate(b->md, p, len);
	b->len += len;
}

/* dkim_body_init - simple (relaxed 0) or relaxed; limit: l=, -1 none */
void
dkim_body_init(struct dkim_body *b, int relaxed, int64_t limit)
{
	memset(b, 0, sizeof(*b));
	b->relaxed = relaxed;
	b->limit = limit;
	if ((b->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		dkim_crypto_fatal("SHA-256");
}

/* dkim_body_emit - held-back empty lines, then one line and CR LF */
static void
dkim_body_emit(struct dkim_body *b, const char *s, size_t len)
{
	for (; b->empty > 0; b->empty--)
		dkim_body_hash(b, "\r\n", 2);
	dkim_body_hash(b, s, len);
	dkim_body_hash(b, "\r\n", 2);
	b->any = 1;
}

/*
 * dkim_body_line - one line: empty lines are held back (trailing ones do
 * not count); relaxed: runs of white space are one SP, none at the end
 */
void
dkim_body_line(struct dkim_body *b, const char *s, size_t len)
{
	char	 tmp[1024];
	size_t	 i, o = 0;
	int	 sp = 0;

	if (b->relaxed)
		while (len > 0 && dkim_wsp((unsigned char)s[len - 1]))
			len--;
	if (len == 0) {
		b->empty++;
		return;
	}
	if (!b->relaxed) {
		dkim_body_emit(b, s, len);
		return;
	}
	for (; b->empty > 0; b->empty--)
		dkim_body_hash(b, "\r\n", 2);
	/* in pieces, so a long line needs no long buffer */
	for (i = 0; i < len; i++) {
		if (dkim_wsp((unsigned char)s[i])) {
			sp = 1;
			continue;
		}
		if (o + 2 > sizeof(tmp)) {
			dkim_body_hash(b, tmp, o);
			o = 0;
		}
		if (sp)
			tmp[o++] = ' ';
		sp = 0;
		tmp[o++] = s[i];
	}
	dkim_body_hash(b, tmp, o);
	dkim_body_hash(b, "\r\n", 2);
	b->any = 1;
}

/* dkim_body_final - see dkim.h */
void
dkim_body_final(struct dkim_body *b, unsigned char hash[DKIM_DIGEST])
{
	unsigned int n = DKIM_DIGEST;

	/* simple: an empty body is one CR LF; relaxed: nothing */
	if (!b->relaxed && !b->any)
		dkim_body_hash(b, "\r\n", 2);
	EVP_DigestFinal_ex(b->md, hash, &n);
	dkim_body_free(b);
}

/* dkim_body_free - drop the state without a result */
void
dkim_body_free(struct dkim_body *b)
{
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
}

/* ---- a whole message -------------------------------------------------- */

/* dkim_msg_init - empty state: headers kept, body hashed relaxed */
void
dkim_msg_init(struct dkim_msg *m)
{
	memset(m, 0, sizeof(*m));
	dkim_hdrs_init(&m->h);
	dkim_body_init(&m->b, 1, -1);
}

/* dkim_msg_line - see dkim.h */
void
dkim_msg_line(struct dkim_msg *m, const char *p, size_t len)
{
	if (m->in_body)
		dkim_body_line(&m->b, p, len);
	else if (dkim_hdrs_line(&m->h, p, len) != 0)
		m->in_body = 1;	/* the empty line, or not signable (over) */
}

/* dkim_msg_text - see dkim.h; a last line without its end counts too */
void
dkim_msg_text(struct dkim_msg *m, const char *p, size_t len)
{
	const char *nl;
	size_t	 n;

	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		dkim_msg_line(m, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		n += nl != NULL;
		p += n;
		len -= n;
	}
}

/* dkim_msg_free - the state, after or instead of dkim_body_final */
void
dkim_msg_free(struct dkim_msg *m)
{
	dkim_hdrs_free(&m->h);
	dkim_body_free(&m->b);
}

/* dkim_choose - see dkim.h */
int
dkim_choose(const struct dkim_hdrs *h, const struct dkim_keyref *keys,
    size_t nkeys, char *out, size_t len, const char **why)
{
	const char *d;
	char	 fdom[256];
	size_t	 i;

	*why = NULL;
	if (nkeys == 0)
		return 0;
	if (h->over) {
		*why = "the header block is too large";
		return -1;
	}
	if (dkim_hdrs_count(h, "from") != 1) {
		*why = dkim_hdrs_count(h, "from") == 0 ? "no From header" :
		    "more than one From header";
		return -1;
	}
	if (dkim_from_domain(dkim_hdrs_nth_from_bottom(h, "from", 0), fdom,
	    sizeof(fdom), why) == -1)
		return -1;
	for (d = fdom; d != NULL; d = strchr(d, '.') != NULL ?
	    strchr(d, '.') + 1 : NULL)
		for (i = 0; i < nkeys; i++)
			if (util_strcasecmp_ascii(keys[i].domain, d) == 0) {
				util_strlcpy(out, keys[i].domain, len);
				return 1;
			}
	return 0;
}

/* ---- signing ---------------------------------------------------------- */

/* dkim_alg_name - a= of an algorithm */
static const char *
dkim_alg_name(int alg)
{
	return alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* dkim_log_added - see dkim.h */
void
dkim_log_added(const char *qid, const struct dkim_keyref *k)
{
	log_info("%s: DKIM-Signature added: d=%s, s=%s, a=%s", qid,
	    k->domain, k->selector, dkim_alg_name(k->alg));
}

/* dkim_fold_put - append word, folding the line before it when too long */
static int
dkim_fold_put(struct buf *b, size_t *col, const char *word, size_t len)
{
	int	 r = 0;

	if (*col > 1 && *col + len > DKIM_FOLD) {
		r |= buf_append(b, "\r\n\t", 3);
		*col = 1;
	}
	r |= buf_append(b, word, len);
	*col += len;
	return r;
}

/* dkim_sign_hlist - the h= names: each present field, From once more */
static int
dkim_sign_hlist(const struct dkim_hdrs *h, const char ***names, size_t *n)
{
	size_t	 i, k, c;

	*names = xcalloc(DKIM_H_MAX, sizeof(**names));
	*n = 0;
	for (i = 0; dkim_sign_names[i] != NULL; i++) {
		c = dkim_hdrs_count(h, dkim_sign_names[i]);
		if (strcmp(dkim_sign_names[i], "from") == 0)
			c++;
		for (k = 0; k < c; k++) {
			if (*n >= DKIM_H_MAX)
				return -1;
			(*names)[(*n)++] = dkim_sign_names[i];
		}
	}
	return 0;
}

/*
 * dkim_select - the canonical fields an h= list covers, in its order: a
 * name listed k times takes its fields from the bottom up; one listed more
 * often than present adds nothing (RFC 6376 5.4.2)
 */
static int
dkim_select(const struct dkim_hdrs *h, const char **names, size_t n,
    int relaxed, struct buf *out)
{
	const char *f;
	size_t	 i, j, k;

	for (i = 0; i < n; i++) {
		for (k = 0, j = 0; j < i; j++)
			if (util_strcasecmp_ascii(names[j], names[i]) == 0)
				k++;
		if ((f = dkim_hdrs_nth_from_bottom(h, names[i], k)) != NULL &&
		    dkim_canon_header(f, strlen(f), relaxed, out) == -1)
			return -1;
	}
	return 0;
}

/* dkim_sign_begin - see dkim.h */
int
dkim_sign_begin(struct dkim_signer *s, int alg, const char *domain,
    const char *selector, int64_t t, const struct dkim_hdrs *h,
    const unsigned char bh[DKIM_DIGEST])
{
	const char **names = NULL;
	struct buf b64;
	char	 word[512];
	size_t	 n, i, col;
	int	 r = 0;

	memset(s, 0, sizeof(*s));
	buf_init(&s->hdr, 16384);
	buf_init(&s->data, DKIM_HDR_MAX + 16384);
	if (h->over || strlen(domain) >= sizeof(s->domain) ||
	    strlen(selector) >= sizeof(s->selector) ||
	    dkim_sign_hlist(h, &names, &n) == -1) {
		free(names);
		return -1;
	}
	s->alg = alg;
	util_strlcpy(s->domain, domain, sizeof(s->domain));
	util_strlcpy(s->selector, selector, sizeof(s->selector));
	s->t = t;
	buf_init(&b64, 128);
	r |= sasl_b64_encode(bh, DKIM_DIGEST, &b64);
	r |= buf_printf(&s->hdr, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;"
	    "\r\n\td=%s; s=%s; t=%lld;\r\n\th=", dkim_alg_name(alg), domain,
	    selector, (long long)t);
	col = 3;
	for (i = 0; i < n; i++) {
		snprintf(word, sizeof(word), "%s%s", names[i], i + 1 < n ?
		    ":" : ";");
		r |= dkim_fold_put(&s->hdr, &col, word, strlen(word));
	}
	r |= buf_printf(&s->hdr, "\r\n\tbh=%s;\r\n\tb=", buf_cstr(&b64));
	buf_free(&b64);
	r |= dkim_select(h, names, n, 1, &s->data);
	free(names);
	/* the signature field itself, b= empty, without its CR LF */
	r |= dkim_canon_header((const char *)s->hdr.data, s->hdr.len, 1,
	    &s->data);
	if (r != 0 || s->data.len < 2)
		return -1;
	s->data.len -= 2;
	return 0;
}

/* dkim_sign_digest - see dkim.h */
void
dkim_sign_digest(const struct dkim_signer *s, unsigned char d[DKIM_DIGEST])
{
	unsigned int n = DKIM_DIGEST;

	if (EVP_Digest(s->data.data, s->data.len, d, &n, EVP_sha256(), NULL)
	    != 1)
		dkim_crypto_fatal("SHA-256");
}

/* dkim_sign_finish - see dkim.h */
int
dkim_sign_finish(struct dkim_signer *s, const unsigned char *sig,
    size_t siglen, struct buf *out)
{
	struct buf b64;
	size_t	 i, chunk;
	int	 r = 0;

	buf_init(&b64, 4096);
	if (siglen == 0 || sasl_b64_encode(sig, siglen, &b64) == -1) {
		buf_free(&b64);
		return -1;
	}
	r |= buf_append(out, s->hdr.data, s->hdr.len);
	for (i = 0; i < b64.len; i += chunk) {
		chunk = b64.len - i < 64 ? b64.len - i : 64;
		if (i > 0)
			r |= buf_append(out, "\r\n\t", 3);
		r |= buf_append(out, b64.data + i, chunk);
	}
	r |= buf_append(out, "\r\n", 2);
	buf_free(&b64);
	return r;
}

/* dkim_signer_free - release a signer */
void
dkim_signer_free(struct dkim_signer *s)
{
	buf_free(&s->hdr);
	buf_free(&s->data);
}

/* ---- keys --------------------------------------------------------------- */

/* dkim_key_alg - DKIM_* of a key, its bits in *bits; 0 unknown */
static int
dkim_key_alg(EVP_PKEY *k, int *bits)
{
	switch (EVP_PKEY_base_id(k)) {
	case EVP_PKEY_RSA:
		*bits = EVP_PKEY_get_bits(k);
		return DKIM_RSA_SHA256;
	case EVP_PKEY_ED25519:
		*bits = 256;
		return DKIM_ED25519_SHA256;
	default:
		return 0;
	}
}

/* dkim_key_load - see dkim.h */
void *
dkim_key_load(const char *path, int *alg, int *bits, char *err,
    size_t errlen)
{
	char	 why[256];
	void	*k;
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	k = dkim_key_read(fp, alg, bits, why, sizeof(why));
	fclose(fp);
	if (k == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
	return k;
}

/* dkim_key_read - see dkim.h */
void *
dkim_key_read(FILE *fp, int *alg, int *bits, char *err, size_t errlen)
{
	EVP_PKEY *k;

	if ((k = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"")) == NULL) {
		snprintf(err, errlen, "not a PEM private key");
		return NULL;
	}
	if ((*alg = dkim_key_alg(k, bits)) == 0) {
		snprintf(err, errlen, "neither an RSA nor an Ed25519 key");
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* dkim_key_from_seed - see dkim.h */
void *
dkim_key_from_seed(const unsigned char *seed)
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

/* dkim_key_generate - see dkim.h */
void *
dkim_key_generate(int alg, int bits)
{
	EVP_PKEY_CTX *c;
	EVP_PKEY *k = NULL;

	c = EVP_PKEY_CTX_new_id(alg == DKIM_ED25519_SHA256 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_RSA, NULL);
	if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
	    (alg == DKIM_RSA_SHA256 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) != 1) ||
	    EVP_PKEY_keygen(c, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

/* dkim_key_pem - see dkim.h */
int
dkim_key_pem(void *key, struct buf *out)
{
	BIO	*b;
	char	*p;
	long	 n;
	int	 r = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL,
	    NULL) == 1 && (n = BIO_get_mem_data(b, &p)) > 0)
		r = buf_append(out, p, (size_t)n);
	BIO_free(b);
	return r;
}

/* dkim_key_free - release a key */
void
dkim_key_free(void *key)
{
	EVP_PKEY_free(key);
}

/* dkim_key_record - see dkim.h */
int
dkim_key_record(void *key, struct buf *out)
{
	unsigned char raw[32], *der = NULL;
	size_t	 rlen = sizeof(raw);
	int	 bits, n, r = -1;
	struct buf b64;

	buf_init(&b64, 8192);
	switch (dkim_key_alg(key, &bits)) {
	case DKIM_RSA_SHA256:
		if ((n = i2d_PUBKEY(key, &der)) <= 0)
			break;
		r = sasl_b64_encode(der, (size_t)n, &b64);
		OPENSSL_free(der);
		if (r == 0)
			r = buf_printf(out, "v=DKIM1; k=rsa; p=%s",
			    buf_cstr(&b64));
		break;
	case DKIM_ED25519_SHA256:
		if (EVP_PKEY_get_raw_public_key(key, raw, &rlen) != 1 ||
		    sasl_b64_encode(raw, rlen, &b64) == -1)
			break;
		r = buf_printf(out, "v=DKIM1; k=ed25519; p=%s",
		    buf_cstr(&b64));
		break;
	default:
		break;
	}
	buf_free(&b64);
	return r;
}

/* dkim_b64_nows - base64 with folding white space removed, decoded */
static int
dkim_b64_nows(const char *s, struct buf *out, size_t max)
{
	struct buf t;
	int	 r;

	buf_init(&t, DKIM_TAGS_MAX);
	for (; *s != '\0'; s++)
		if (!dkim_fws((unsigned char)*s) && buf_putc(&t, *s) == -1) {
			buf_free(&t);
			return -1;
		}
	r = sasl_b64_decode((const char *)t.data, t.len, out, max);
	buf_free(&t);
	return r;
}

/* dkim_record_parse - see dkim.h */
void *
dkim_record_parse(const char *s, size_t len, int *alg, char *err,
    size_t errlen)
{
	struct dkim_tags t;
	struct buf raw;
	const unsigned char *p;
	const char *v, *k, *pv;
	EVP_PKEY *key = NULL;

	if (dkim_tags_parse(s, len, &t, err, errlen) == -1)
		return NULL;
	v = dkim_tags_get(&t, "v");
	k = dkim_tags_get(&t, "k");
	pv = dkim_tags_get(&t, "p");
	buf_init(&raw, 8192);
	if (v != NULL && strcmp(v, "DKIM1") != 0)
		dkim_err(err, errlen, "key record: v= is not DKIM1");
	else if (pv == NULL)
		dkim_err(err, errlen, "key record without p=");
	else if (*pv == '\0')
		dkim_err(err, errlen, "key revoked (empty p=)");
	else if (dkim_b64_nows(pv, &raw, 8192) == -1 || raw.len == 0)
		dkim_err(err, errlen, "key record: p= is not base64");
	else if (k == NULL || strcmp(k, "rsa") == 0) {
		p = raw.data;
		if ((key = d2i_PUBKEY(NULL, &p, (long)raw.len)) == NULL ||
		    EVP_PKEY_base_id(key) != EVP_PKEY_RSA ||
		    p != raw.data + raw.len) {
			EVP_PKEY_free(key);
			key = NULL;
			dkim_err(err, errlen, "key record: bad RSA key");
		} else
			*alg = DKIM_RSA_SHA256;
	} else if (strcmp(k, "ed25519") == 0) {
		if (raw.len != 32 || (key = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, raw.data, 32)) == NULL)
			dkim_err(err, errlen, "key record: bad Ed25519 key");
		else
			*alg = DKIM_ED25519_SHA256;
	} else
		dkim_err(err, errlen, "key record: unknown k=");
	buf_free(&raw);
	dkim_tags_free(&t);
	return key;
}

/* dkim_key_same - see dkim.h */
int
dkim_key_same(void *a, void *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

/* dkim_sign_raw - see dkim.h */
int
dkim_sign_raw(void *key, int alg, const unsigned char d[DKIM_DIGEST],
    unsigned char *sig, size_t *siglen)
{
	EVP_PKEY_CTX *c = NULL;
	EVP_MD_CTX *m = NULL;
	int	 bits, ok = 0;

	if (dkim_key_alg(key, &bits) != alg)
		return -1;
	if (alg == DKIM_RSA_SHA256) {
		ok = (c = EVP_PKEY_CTX_new(key, NULL)) != NULL &&
		    EVP_PKEY_sign_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
		    EVP_PKEY_sign(c, sig, siglen, d, DKIM_DIGEST) == 1;
		EVP_PKEY_CTX_free(c);
	} else {
		ok = (m = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(m, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestSign(m, sig, siglen, d, DKIM_DIGEST) == 1;
		EVP_MD_CTX_free(m);
	}
	return ok ? 0 : -1;
}

/* dkim_verify_raw - see dkim.h */
int
dkim_verify_raw(void *key, int alg, const unsigned char d[DKIM_DIGEST],
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *c = NULL;
	EVP_MD_CTX *m = NULL;
	int	 bits, ok = 0;

	if (dkim_key_alg(key, &bits) != alg)
		return 0;
	if (alg == DKIM_RSA_SHA256) {
		ok = (c = EVP_PKEY_CTX_new(key, NULL)) != NULL &&
		    EVP_PKEY_verify_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
		    EVP_PKEY_verify(c, sig, siglen, d, DKIM_DIGEST) == 1;
		EVP_PKEY_CTX_free(c);
	} else {
		ok = (m = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestVerifyInit(m, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestVerify(m, sig, siglen, d, DKIM_DIGEST) == 1;
		EVP_MD_CTX_free(m);
	}
	return ok;
}

/* ---- verification ------------------------------------------------------- */

struct dkim_vmsg {
	struct dkim_hdrs h;
	const char	*body;
	size_t		 blen;
};

/* dkim_msg_split - header fields and body of a CR LF message */
static int
dkim_msg_split(const char *m, size_t len, struct dkim_vmsg *out)
{
	const char *p = m, *end = m + len, *nl;
	size_t	 l;
	int	 r;

	dkim_hdrs_init(&out->h);
	out->body = end;
	out->blen = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		r = dkim_hdrs_line(&out->h, p, l);
		p = nl + (nl < end);
		if (r == -1)
			return -1;
		if (r == 1) {
			out->body = p;
			out->blen = (size_t)(end - p);
			return 0;
		}
	}
	return 0;
}

/* dkim_body_of - the body hash of a message part, as c= and l= say */
static void
dkim_body_of(const char *s, size_t len, int relaxed, int64_t limit,
    unsigned char hash[DKIM_DIGEST])
{
	struct dkim_body b;
	const char *p = s, *end = s + len, *nl;
	size_t	 l;

	dkim_body_init(&b, relaxed, limit);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (nl < end && l > 0 && p[l - 1] == '\r')
			l--;
		dkim_body_line(&b, p, l);
		p = nl + (nl < end);
	}
	dkim_body_final(&b, hash);
}

/*
 * dkim_blank_b - the signature field with the value of its b= tag removed
 * (RFC 6376 3.7): everything else, white space included, stays
 */
static char *
dkim_blank_b(const char *f)
{
	const char *p = strchr(f, ':'), *q, *eq;
	char	*out;
	size_t	 n;

	if (p == NULL)
		return NULL;
	for (p++; *p != '\0'; p = q + (*q == ';')) {
		if ((q = strchr(p, ';')) == NULL)
			q = p + strlen(p);
		for (eq = p; eq < q && dkim_fws((unsigned char)*eq); eq++)
			;
		if (eq < q && *eq == 'b') {
			for (eq++; eq < q && dkim_fws((unsigned char)*eq);
			    eq++)
				;
			if (eq < q && *eq == '=') {
				n = (size_t)(eq + 1 - f);
				out = xmalloc(n + strlen(q) + 1);
				memcpy(out, f, n);
				memcpy(out + n, q, strlen(q) + 1);
				return out;
			}
		}
		if (*q == '\0')
			break;
	}
	return NULL;
}

/* dkim_canon_name - "simple" 0, "relaxed" 1, else -1 */
static int
dkim_canon_name(const char *s, size_t len)
{
	if (len == 6 && strncmp(s, "simple", 6) == 0)
		return 0;
	if (len == 7 && strncmp(s, "relaxed", 7) == 0)
		return 1;
	return -1;
}

/* dkim_parse_c - c= into header and body canonicalization (default simple) */
static int
dkim_parse_c(const char *c, int *hr, int *br)
{
	const char *sl;

	*hr = *br = 0;
	if (c == NULL)
		return 0;
	if ((sl = strchr(c, '/')) == NULL)
		sl = c + strlen(c);
	if ((*hr = dkim_canon_name(c, (size_t)(sl - c))) == -1)
		return -1;
	if (*sl == '\0')
		return 0;
	return (*br = dkim_canon_name(sl + 1, strlen(sl + 1))) == -1 ? -1 : 0;
}

/* dkim_hnames - h= into names (white space around the colons removed) */
static int
dkim_hnames(const char *h, char ***names, size_t *n)
{
	const char *p = h, *e;
	size_t	 l;

	*names = NULL;
	*n = 0;
	while (*p != '\0') {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		l = (size_t)(e - p);
		while (l > 0 && dkim_fws((unsigned char)*p)) {
			p++;
			l--;
		}
		while (l > 0 && dkim_fws((unsigned char)p[l - 1]))
			l--;
		if (l == 0 || *n >= DKIM_H_MAX)
			return -1;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrndup(p, l);
		p = *e == ':' ? e + 1 : e;
	}
	return *n > 0 ? 0 : -1;
}

struct dkim_vstate {
	struct dkim_tags t;
	struct buf	 key, sig, bh, data;
	char		**names;
	size_t		 nnames;
	void		*pkey;
	char		*blank;
};

/*
 * dkim_verify_sig - the checks of one parsed signature.  (Long: the
 * checks of RFC 6376 6.1.1-6.1.3 in their order, each with its own
 * PERMERROR/FAIL reason; split, the reasons would need a second table.)
 */
static int
dkim_verify_sig(struct dkim_vstate *v, const struct dkim_vmsg *m,
    const char *field, int (*lookup)(void *, const char *, const char *,
    struct buf *), void *arg, char *err, size_t errlen)
{
	const char *a, *b, *bh, *d, *s, *h, *l;
	unsigned char hash[DKIM_DIGEST];
	long long ll = -1;
	int	 alg, kalg, hr, br, r;
	size_t	 i;

	a = dkim_tags_get(&v->t, "a");
	b = dkim_tags_get(&v->t, "b");
	bh = dkim_tags_get(&v->t, "bh");
	d = dkim_tags_get(&v->t, "d");
	s = dkim_tags_get(&v->t, "s");
	h = dkim_tags_get(&v->t, "h");
	l = dkim_tags_get(&v->t, "l");
	if (a == NULL || b == NULL || bh == NULL || d == NULL || s == NULL ||
	    h == NULL || dkim_tags_get(&v->t, "v") == NULL ||
	    strcmp(dkim_tags_get(&v->t, "v"), "1") != 0) {
		dkim_err(err, errlen, "a required tag is missing");
		return DKIM_V_PERMERROR;
	}
	if (strcmp(a, "rsa-sha256") == 0)
		alg = DKIM_RSA_SHA256;
	else if (strcmp(a, "ed25519-sha256") == 0)
		alg = DKIM_ED25519_SHA256;
	else {
		dkim_err(err, errlen, "unknown algorithm");
		return DKIM_V_PERMERROR;
	}
	if (dkim_parse_c(dkim_tags_get(&v->t, "c"), &hr, &br) == -1 ||
	    dkim_hnames(h, &v->names, &v->nnames) == -1 ||
	    (l != NULL && util_parse_ll(l, 0, INT64_MAX / 2, &ll) == -1)) {
		dkim_err(err, errlen, "bad c=, h= or l=");
		return DKIM_V_PERMERROR;
	}
	for (i = 0; i < v->nnames; i++)
		if (util_strcasecmp_ascii(v->names[i], "from") == 0)
			break;
	if (i == v->nnames) {
		dkim_err(err, errlen, "h= does not include From");
		return DKIM_V_PERMERROR;
	}
	if ((r = lookup(arg, s, d, &v->key)) != 0) {
		dkim_err(err, errlen, r == -2 ? "key lookup failed" :
		    "no key record");
		return r == -2 ? DKIM_V_TEMPERROR : DKIM_V_PERMERROR;
	}
	if ((v->pkey = dkim_record_parse((const char *)v->key.data, v->key.len,
	    &kalg, err, errlen)) == NULL)
		return DKIM_V_PERMERROR;
	if (kalg != alg) {
		dkim_err(err, errlen, "key type does not match a=");
		return DKIM_V_PERMERROR;
	}
	if (dkim_b64_nows(bh, &v->bh, 64) == -1 || v->bh.len != DKIM_DIGEST ||
	    dkim_b64_nows(b, &v->sig, DKIM_SIG_MAX) == -1) {
		dkim_err(err, errlen, "bad base64 in b= or bh=");
		return DKIM_V_PERMERROR;
	}
	dkim_body_of(m->body, m->blen, br, ll, hash);
	if (memcmp(hash, v->bh.data, DKIM_DIGEST) != 0) {
		dkim_err(err, errlen, "body hash does not match");
		return DKIM_V_FAIL;
	}
	if (dkim_select(&m->h, (const char **)v->names, v->nnames, hr,
	    &v->data) == -1 || (v->blank = dkim_blank_b(field)) == NULL ||
	    dkim_canon_header(v->blank, strlen(v->blank), hr, &v->data) ==
	    -1 || v->data.len < 2) {
		dkim_err(err, errlen, "cannot canonicalize the headers");
		return DKIM_V_PERMERROR;
	}
	v->data.len -= 2;
	EVP_Digest(v->data.data, v->data.len, hash, NULL, EVP_sha256(), NULL);
	if (!dkim_verify_raw(v->pkey, alg, hash, v->sig.data, v->sig.len)) {
		dkim_err(err, errlen, "signature does not verify");
		return DKIM_V_FAIL;
	}
	return DKIM_V_PASS;
}

/* dkim_verify - see dkim.h */
int
dkim_verify(const char *msg, size_t len, size_t nth,
    int (*lookup)(void *, const char *, const char *, struct buf *),
    void *arg, char *err, size_t errlen)
{
	struct dkim_vmsg m;
	struct dkim_vstate v;
	const char *field, *val;
	size_t	 i, k = 0;
	int	 r = DKIM_V_PERMERROR;

	memset(&v, 0, sizeof(v));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	buf_init(&v.key, DKIM_TAGS_MAX);
	buf_init(&v.sig, DKIM_SIG_MAX);
	buf_init(&v.bh, 64);
	buf_init(&v.data, DKIM_HDR_MAX + 16384);
	if (dkim_msg_split(msg, len, &m) == -1) {
		dkim_err(err, errlen, "malformed header block");
		goto out;
	}
	for (i = 0, field = NULL; i < m.h.n && field == NULL; i++)
		if (dkim_field_is(m.h.f[i], "dkim-signature") && k++ == nth)
			field = m.h.f[i];
	if (field == NULL) {
		dkim_err(err, errlen, "no such DKIM-Signature");
		goto out;
	}
	val = strchr(field, ':') + 1;
	if (dkim_tags_parse(val, strlen(val), &v.t, err, errlen) == -1)
		goto out;
	r = dkim_verify_sig(&v, &m, field, lookup, arg, err, errlen);
out:
	dkim_tags_free(&v.t);
	util_strv_free(v.names, v.nnames);
	dkim_key_free(v.pkey);
	free(v.blank);
	buf_free(&v.key);
	buf_free(&v.sig);
	buf_free(&v.bh);
	buf_free(&v.data);
	dkim_hdrs_free(&m.h);
	return r;
}
