/*
 * dkim.h - DomainKeys Identified Mail (RFC 6376) with rsa-sha256 and
 * ed25519-sha256 (RFC 8463): tag lists, canonicalization, the header to
 * sign, signing and verification primitives, key records.
 *
 * Signing is split so that private keys stay in the broker: the party
 * with the message (smtpd, qmgr) canonicalizes and hashes the body and
 * the headers and builds the DKIM-Signature header without its b= value
 * (dkim_sign_begin); the SHA-256 digest of the signed data
 * (dkim_sign_digest) goes to the key holder, which signs it
 * (dkim_sign_raw); the party with the message adds the signature
 * (dkim_sign_finish).  For both algorithms the signature is made over
 * that digest: RSASSA-PKCS1-v1_5 with SHA-256 (the digest is the hash),
 * and for Ed25519 PureEdDSA over the 32 digest bytes (RFC 8463 3).
 *
 * Bounds: a tag list at most DKIM_TAGS_MAX bytes and DKIM_NTAGS_MAX tags;
 * a header block at most DKIM_HDR_MAX bytes and DKIM_NHDR_MAX fields;
 * signatures on at most DKIM_H_MAX header names.  Anything over them is
 * refused, never truncated.
 *
 * Errors: -1 with a short reason in err (tag lists, records, signatures)
 * or errno (keys).
 */
#ifndef YOUJU_DKIM_H
#define YOUJU_DKIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

#define DKIM_RSA_SHA256		1
#define DKIM_ED25519_SHA256	2

#define DKIM_TAGS_MAX		8192	/* bytes of a tag list */
#define DKIM_NTAGS_MAX		64
#define DKIM_HDR_MAX		(256 * 1024)	/* a message's header block */
#define DKIM_NHDR_MAX		1000
#define DKIM_H_MAX		64	/* names in h= */
#define DKIM_SIG_MAX		1024	/* bytes of a raw signature */
#define DKIM_DIGEST		32	/* SHA-256 */

/* ---- tag lists (RFC 6376 3.2) ---- */
struct dkim_tag {
	char	*name;
	char	*value;		/* white space around it removed */
};

struct dkim_tags {
	struct dkim_tag	*v;
	size_t		 n;
};

/* dkim_tags_parse - "a=b; c=d": names unique, ALPHA *(ALPHA/DIGIT/_) */
int	 dkim_tags_parse(const char *, size_t, struct dkim_tags *, char *,
	    size_t);
/* dkim_tags_get - the value of a tag, or NULL */
const char *dkim_tags_get(const struct dkim_tags *, const char *);
void	 dkim_tags_free(struct dkim_tags *);

/* ---- a message's header block ---- */
struct dkim_hdrs {
	char	**f;		/* whole fields, folding kept, no final CRLF */
	size_t	 n;
	size_t	 bytes;
	int	 over;		/* more than the bounds: not signable */
};

void	 dkim_hdrs_init(struct dkim_hdrs *);
/*
 * dkim_hdrs_line - one line of the header block (without CR LF; the empty
 * line ends it): 0 more to come, 1 the block ended, -1 over the bounds
 * or a line that is not a header field
 */
int	 dkim_hdrs_line(struct dkim_hdrs *, const char *, size_t);
void	 dkim_hdrs_free(struct dkim_hdrs *);
/* dkim_hdrs_count - how many fields have this name (case-insensitive) */
size_t	 dkim_hdrs_count(const struct dkim_hdrs *, const char *);
/* dkim_hdrs_nth_from_bottom - the k-th (0 = last) field of a name */
const char *dkim_hdrs_nth_from_bottom(const struct dkim_hdrs *,
	    const char *, size_t);

/*
 * dkim_from_domain - the domain of a From field that holds exactly one
 * mailbox (display name, comments and quoting allowed), lower case, into
 * out: 0, or -1 with why (none, several, a group, no domain, bad syntax)
 */
int	 dkim_from_domain(const char *, char *, size_t, const char **);

/* ---- canonicalization (RFC 6376 3.4) ---- */
/* dkim_canon_header - one field into out, ending in CR LF */
int	 dkim_canon_header(const char *, size_t, int, struct buf *);

struct dkim_body {
	void		*md;		/* EVP_MD_CTX */
	int		 relaxed;
	uint64_t	 empty;		/* empty lines held back */
	uint64_t	 len;		/* canonical bytes so far */
	int64_t		 limit;		/* l=, -1: none */
	int		 any;		/* something was hashed */
};

void	 dkim_body_init(struct dkim_body *, int, int64_t);
/* dkim_body_line - one body line, without its CR LF */
void	 dkim_body_line(struct dkim_body *, const char *, size_t);
/* dkim_body_final - the body hash; frees the state */
void	 dkim_body_final(struct dkim_body *, unsigned char[DKIM_DIGEST]);
void	 dkim_body_free(struct dkim_body *);

/* ---- a whole message, line by line (smtpd while DATA streams, qmgr) ---- */
struct dkim_msg {
	struct dkim_hdrs h;
	struct dkim_body b;	/* relaxed, the whole body */
	int		 in_body;
};

void	 dkim_msg_init(struct dkim_msg *);
/* dkim_msg_line - one line of the message, without its CR LF */
void	 dkim_msg_line(struct dkim_msg *, const char *, size_t);
/* dkim_msg_text - a whole message in memory, CR LF or LF line ends */
void	 dkim_msg_text(struct dkim_msg *, const char *, size_t);
void	 dkim_msg_free(struct dkim_msg *);

/* a key the broker holds: public facts only (it is in the DNS) */
struct dkim_keyref {
	char		 domain[256];
	char		 selector[64];
	int		 alg;		/* DKIM_* */
};

/*
 * dkim_choose - which domain signs a message with these headers: the From
 * domain or its closest parent that has keys.  1 with the domain in out;
 * 0 when no key fits (unsigned, nothing to say); -1 when the message
 * cannot be signed, with why (no From, several, malformed, too large).
 */
int	 dkim_choose(const struct dkim_hdrs *, const struct dkim_keyref *,
	    size_t, char *, size_t, const char **);
/* dkim_log_added - "QID: DKIM-Signature added: d=, s=, a=" */
void	 dkim_log_added(const char *, const struct dkim_keyref *);

/* ---- signing ---- */
struct dkim_signer {
	int		 alg;		/* DKIM_* */
	char		 domain[256];
	char		 selector[64];
	int64_t		 t;		/* signing time */
	struct buf	 hdr;		/* DKIM-Signature without b= value */
	struct buf	 data;		/* the signed header data */
};

/* the headers signed when present (RFC 6376 5.4.1's list and more) */
extern const char *const dkim_sign_names[];
/*
 * dkim_sign_begin - the DKIM-Signature header (no b= value yet) for a
 * message with these headers and body hash; From is listed once more than
 * it occurs, so a From added later breaks the signature
 */
int	 dkim_sign_begin(struct dkim_signer *, int, const char *,
	    const char *, int64_t, const struct dkim_hdrs *,
	    const unsigned char[DKIM_DIGEST]);
/* dkim_sign_digest - SHA-256 of what the signature covers */
void	 dkim_sign_digest(const struct dkim_signer *,
	    unsigned char[DKIM_DIGEST]);
/* dkim_sign_finish - the whole header field, CR LF included, into out */
int	 dkim_sign_finish(struct dkim_signer *, const unsigned char *, size_t,
	    struct buf *);
void	 dkim_signer_free(struct dkim_signer *);

/* ---- keys (EVP_PKEY behind void *) ---- */
/* dkim_key_load - a PEM private key (PKCS#8 or traditional RSA); alg */
void	*dkim_key_load(const char *, int *, int *, char *, size_t);
/* dkim_key_read - the same from an open file; err without a path */
void	*dkim_key_read(FILE *, int *, int *, char *, size_t);
/* dkim_key_from_seed - an Ed25519 private key from its 32-byte seed */
void	*dkim_key_from_seed(const unsigned char *);
/* dkim_key_generate - a new RSA key of bits, or Ed25519 (bits 0) */
void	*dkim_key_generate(int, int);
/* dkim_key_pem - the private key as PKCS#8 PEM into out */
int	 dkim_key_pem(void *, struct buf *);
void	 dkim_key_free(void *);
/* dkim_key_record - "v=DKIM1; k=...; p=..." of a key's public part */
int	 dkim_key_record(void *, struct buf *);
/* dkim_record_parse - a key record's public key; -1 with why */
void	*dkim_record_parse(const char *, size_t, int *, char *, size_t);
/* dkim_key_same - 1 when two keys (private or public) have one public part */
int	 dkim_key_same(void *, void *);
/* dkim_sign_raw - the signature of a digest (the broker's part) */
int	 dkim_sign_raw(void *, int, const unsigned char[DKIM_DIGEST],
	    unsigned char *, size_t *);
/* dkim_verify_raw - 1 valid, 0 not */
int	 dkim_verify_raw(void *, int, const unsigned char[DKIM_DIGEST],
	    const unsigned char *, size_t);

/* ---- verification of a whole message ---- */
#define DKIM_V_PASS	0
#define DKIM_V_FAIL	1	/* signature or body hash does not match */
#define DKIM_V_PERMERROR 2	/* malformed, unknown algorithm, no key */
#define DKIM_V_TEMPERROR 3	/* the key could not be fetched */

/*
 * dkim_verify - check the n-th DKIM-Signature of a message (CR LF line
 * ends); lookup(arg, selector, domain, buf) puts the key record's text
 * into buf and returns 0, or -1 (none: permerror) or -2 (temporary);
 * DKIM_V_* with the reason in err
 */
int	 dkim_verify(const char *, size_t, size_t,
	    int (*)(void *, const char *, const char *, struct buf *),
	    void *, char *, size_t);

#endif
