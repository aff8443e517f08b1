/*
 * smtpd_check_syntax.c - the restrictions that check the syntax of a
 * name: reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,
 * reject_non_fqdn_sender and reject_non_fqdn_recipient, with Postfix's
 * rules (valid_hostname, valid_hostaddr, valid_mailhost_addr: a trailing
 * dot is ignored, '_' is allowed, an all-numeric name is no host name,
 * an address literal must hold an address) and replies.
 *
 * Interface: the smtpd_r_* handlers of smtpd_check.h, bound to their
 * names in smtpd_check.c's table, and smtpd_ck_literal_ok.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "restr.h"
#include "util.h"
#include "smtpd.h"
#include "smtpd_check.h"

/*
 * smtpd_hostname_ok - Postfix's valid_hostname: labels of ASCII letters,
 * digits, '-' and '_' (Postfix allows it), 1-63 bytes each, no '-' at a
 * label's start or end, no empty label, at most 255 bytes, and not all
 * digits (a bare address is no host name)
 */
static int
smtpd_hostname_ok(const char *h, size_t len)
{
	size_t	 i, label = 0;
	int	 alpha = 0, ch;

	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)h[i];
		if (ch >= '0' && ch <= '9') {
			if (++label > 63)
				return 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
		    || ch == '_') {
			alpha = 1;
			if (++label > 63)
				return 0;
		} else if (ch == '.') {
			if (label == 0 || i + 1 == len)
				return 0;
			label = 0;
		} else if (ch == '-') {
			alpha = 1;
			if (label == 0 || i + 1 == len || h[i + 1] == '.' ||
			    ++label > 63)
				return 0;
		} else
			return 0;
	}
	return alpha;
}

/* smtpd_hostaddr_ok - a bare IPv4 or IPv6 address (Postfix: valid_hostaddr) */
static int
smtpd_hostaddr_ok(const char *h, size_t len)
{
	unsigned char a[16];
	char	 in[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(in))
		return 0;
	memcpy(in, h, len);
	in[len] = '\0';
	return inet_pton(AF_INET, in, a) == 1 ||
	    inet_pton(AF_INET6, in, a) == 1;
}

/* smtpd_ck_literal_ok - see smtpd_check.h */
int
smtpd_ck_literal_ok(const char *lit)
{
	unsigned char a[16];
	char	 in[INET6_ADDRSTRLEN + 8];
	size_t	 len = strlen(lit);

	if (len < 3 || lit[0] != '[' || lit[len - 1] != ']' ||
	    len - 2 >= sizeof(in))
		return 0;
	memcpy(in, lit + 1, len - 2);
	in[len - 2] = '\0';
	if (util_strncasecmp_ascii(in, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, in + 5, a) == 1;
	return inet_pton(AF_INET, in, a) == 1;
}

/*
 * smtpd_helo_literal - a HELO address literal must hold an address
 * (Postfix's reject_invalid_hostaddr, for both HELO syntax checks)
 */
static enum smtpd_verdict
smtpd_helo_literal(struct smtpd_ctx *c, const char *h)
{
	if (smtpd_ck_literal_ok(h))
		return SMTPD_V_DUNNO;
	return smtpd_refuse(c, 501, "5.5.2", "<%s>: Helo command rejected: "
	    "invalid ip address", log_str(h));
}

/* smtpd_helo_len - a name's length without one trailing dot */
static size_t
smtpd_helo_len(const char *h)
{
	size_t	 len = strlen(h);

	if (len > 1 && h[len - 1] == '.' && h[len - 2] != '.')
		len--;
	return len;
}

/*
 * smtpd_fqdn_ok - a domain is fully qualified (Postfix's
 * reject_non_fqdn_*): a valid host name, one trailing dot ignored, with
 * a dot in it
 */
static int
smtpd_fqdn_ok(const char *dom)
{
	size_t	 len = smtpd_helo_len(dom);

	return smtpd_hostname_ok(dom, len) && memchr(dom, '.', len) != NULL;
}

enum smtpd_verdict
smtpd_r_nonfqdn_rcpt(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (c->rcpt == NULL || (!c->bare && (c->rcpt->literal ||
	    smtpd_fqdn_ok(c->rcpt->domain))))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "504 5.5.2 <%s>: Recipient address "
	    "rejected: need fully-qualified address",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	return SMTPD_V_REJECT;
}

enum smtpd_verdict
smtpd_r_nonfqdn_sender(struct smtpd_ctx *c, const char *arg)
{
	const char *sender = c->s->sender, *at;

	if (sender == NULL || *sender == '\0')
		return SMTPD_V_DUNNO;
	at = strrchr(sender, '@');
	if (at != NULL && (at[1] == '[' || smtpd_fqdn_ok(at + 1)))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "504 5.5.2 <%s>: Sender address "
	    "rejected: need fully-qualified address", log_str(sender));
	return SMTPD_V_REJECT;
}

/*
 * smtpd_helo_syntax - reject_invalid_helo_hostname (fqdn 0: a host name
 * or a bare address) and reject_non_fqdn_helo_hostname (fqdn 1: a host
 * name with a dot); an address literal must hold an address for both
 */
static enum smtpd_verdict
smtpd_helo_syntax(struct smtpd_ctx *c, int fqdn)
{
	const char *h = c->s->helo;
	size_t	 len;

	if (h == NULL)
		return SMTPD_V_DUNNO;
	if (*h == '[')
		return smtpd_helo_literal(c, h);
	len = smtpd_helo_len(h);
	if (!fqdn && (smtpd_hostname_ok(h, len) || smtpd_hostaddr_ok(h, len)))
		return SMTPD_V_DUNNO;
	if (fqdn && smtpd_hostname_ok(h, len) && memchr(h, '.', len) != NULL)
		return SMTPD_V_DUNNO;
	return smtpd_refuse(c, fqdn ? 504 : 501, "5.5.2", "<%s>: Helo command "
	    "rejected: %s", log_str(h), fqdn ? "need fully-qualified hostname" :
	    "Invalid name");
}

enum smtpd_verdict
smtpd_r_invalid_helo(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_helo_syntax(c, 0);
}

enum smtpd_verdict
smtpd_r_nonfqdn_helo(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_helo_syntax(c, 1);
}

