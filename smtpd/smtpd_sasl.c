/*
 * smtpd_sasl.c - SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN,
 * and the sender-ownership lookup behind reject_sender_login_mismatch.
 *
 * AUTH is offered only with smtpd_sasl_auth_enable = yes and, unless
 * smtpd_tls_auth_only = no, only after the TLS handshake.  The credentials
 * go to the auth broker (smtpd never sees a password hash); while it works
 * the session waits.  Replies:
 *	235 2.7.0 Authentication successful
 *	535 5.7.8 Error: authentication failed	(wrong user or password)
 *	454 4.7.0 Temporary authentication failure (broker away or slow)
 *	501 5.7.0 Authentication aborted	("*")
 *	501 5.5.2 Cannot decode response	(bad base64 or PLAIN message)
 *	504 5.5.4 Unsupported authentication mechanism
 *	503 5.5.1 (already authenticated, inside a mail transaction,
 *		   not offered)
 *	530 5.7.0 Must issue a STARTTLS command first (TLS required first)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "sasl.h"
#include "util.h"
#include "smtpd.h"

/* smtpd_sasl_forget - drop login and any exchange (STARTTLS, close) */
void
smtpd_sasl_forget(struct smtpd_sess *s)
{
	free(s->sasl_user);
	s->sasl_user = NULL;
	s->sasl_mech = NULL;
	if (s->sasl_login != NULL) {
		OPENSSL_cleanse(s->sasl_login, strlen(s->sasl_login));
		free(s->sasl_login);
	}
	s->sasl_login = NULL;
	s->sasl_step = SMTPD_SASL_NONE;
	s->sasl_try = NULL;
}

/* smtpd_sasl_fail - end an exchange with a reply */
static void
smtpd_sasl_fail(struct smtpd_sess *s, const char *reply)
{
	free(s->sasl_login);
	s->sasl_login = NULL;
	s->sasl_step = SMTPD_SASL_NONE;
	smtpd_reply(s, "%s", reply);
	s->errors++;
}

/* smtpd_sasl_check - send user and password to the broker */
static void
smtpd_sasl_check(struct smtpd_sess *s, const char *user, const char *pass,
    size_t passlen)
{
	struct ipc_out o;
	int	 r;

	s->sasl_step = SMTPD_SASL_NONE;
	ipc_out_init(&o);
	ipc_put_str(&o, s->client_addr);
	ipc_put_str(&o, s->sasl_try);
	ipc_put_str(&o, user);
	ipc_put_bytes(&o, pass, passlen);
	r = smtpd_auth_request(s, SMTPD_REQ_LOGIN, IPC_AUTH_LOGIN, &o);
	OPENSSL_cleanse(o.b.data, o.b.len);
	ipc_out_free(&o);
	if (r == -1)
		smtpd_sasl_done(s, IPC_LOGIN_TEMPFAIL, "");
}

/* smtpd_sasl_decode - base64 line into out; -1 replied already */
static int
smtpd_sasl_decode(struct smtpd_sess *s, const char *line, size_t len,
    struct buf *out, size_t max)
{
	if (len == 1 && line[0] == '*') {
		smtpd_sasl_fail(s, "501 5.7.0 Authentication aborted");
		return -1;
	}
	if (sasl_b64_decode(line, len, out, max) == -1) {
		smtpd_sasl_fail(s, "501 5.5.2 Cannot decode response");
		return -1;
	}
	return 0;
}

/* smtpd_sasl_plain - a PLAIN message (initial response or after 334) */
static void
smtpd_sasl_plain(struct smtpd_sess *s, const char *line, size_t len)
{
	struct buf msg;
	char	 user[SASL_USER_MAX + 1], pass[SASL_PASS_MAX + 1];

	buf_init(&msg, SASL_USER_MAX * 2 + SASL_PASS_MAX + 2);
	if (smtpd_sasl_decode(s, line, len, &msg, msg.max) == 0) {
		if (sasl_plain(msg.data != NULL ? msg.data :
		    (const unsigned char *)"", msg.len, user, sizeof(user),
		    pass, sizeof(pass)) == -1)
			smtpd_sasl_fail(s, "501 5.5.2 Cannot decode response");
		else
			smtpd_sasl_check(s, user, pass, strlen(pass));
		OPENSSL_cleanse(pass, sizeof(pass));
	}
	if (msg.data != NULL)
		OPENSSL_cleanse(msg.data, msg.len);
	buf_free(&msg);
}

/* smtpd_sasl_login - one step of LOGIN: the user name or the password */
static void
smtpd_sasl_login(struct smtpd_sess *s, const char *line, size_t len)
{
	struct buf v;
	size_t	 max = s->sasl_step == SMTPD_SASL_LOGIN_USER ? SASL_USER_MAX :
	    SASL_PASS_MAX;

	buf_init(&v, max);
	if (smtpd_sasl_decode(s, line, len, &v, max) == -1) {
		buf_free(&v);
		return;
	}
	if (v.len == 0 || memchr(buf_cstr(&v), '\0', v.len) != NULL) {
		smtpd_sasl_fail(s, "501 5.5.2 Cannot decode response");
	} else if (s->sasl_step == SMTPD_SASL_LOGIN_USER) {
		s->sasl_login = buf_detach(&v);
		s->sasl_step = SMTPD_SASL_LOGIN_PASS;
		smtpd_reply(s, "334 UGFzc3dvcmQ6");	/* "Password:" */
	} else {
		smtpd_sasl_check(s, s->sasl_login, buf_cstr(&v), v.len);
		OPENSSL_cleanse(s->sasl_login, strlen(s->sasl_login));
		free(s->sasl_login);
		s->sasl_login = NULL;
	}
	if (v.data != NULL)
		OPENSSL_cleanse(v.data, v.len);
	buf_free(&v);
}

/* smtpd_sasl_line - a client response inside an exchange */
void
smtpd_sasl_line(struct smtpd_sess *s, char *line, size_t len)
{
	if (s->sasl_step == SMTPD_SASL_PLAIN)
		smtpd_sasl_plain(s, line, len);
	else
		smtpd_sasl_login(s, line, len);
}

/* smtpd_auth_cmd - AUTH mechanism [initial-response] */
void
smtpd_auth_cmd(struct smtpd_sess *s, char *arg)
{
	struct smtpd *sd = s->sd;
	char	*ir;

	if (!sd->sasl_enable) {
		smtpd_reply(s, "503 5.5.1 Error: authentication not enabled");
		s->errors++;
		return;
	}
	if (sd->sasl_tls_only && s->tls != 2) {
		smtpd_reply(s, sd->tls_offer ? "530 5.7.0 Must issue a STARTTLS "
		    "command first" : "503 5.5.1 Error: authentication not "
		    "enabled");
		s->errors++;
		return;
	}
	if (s->helo == NULL || !s->esmtp) {
		smtpd_reply(s, "503 5.5.1 Error: send EHLO first");
		s->errors++;
		return;
	}
	if (s->sasl_user != NULL) {
		smtpd_reply(s, "503 5.5.1 Error: already authenticated");
		s->errors++;
		return;
	}
	if (s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		s->errors++;
		return;
	}
	if ((ir = strchr(arg, ' ')) != NULL) {
		*ir++ = '\0';
		while (*ir == ' ')
			ir++;
	}
	if (strcasecmp(arg, "PLAIN") == 0) {
		s->sasl_try = "PLAIN";
		s->sasl_step = SMTPD_SASL_PLAIN;
		if (ir == NULL || *ir == '\0')
			smtpd_reply(s, "334 ");
		else
			smtpd_sasl_plain(s, ir, strlen(ir));
	} else if (strcasecmp(arg, "LOGIN") == 0) {
		s->sasl_try = "LOGIN";
		s->sasl_step = SMTPD_SASL_LOGIN_USER;
		if (ir == NULL || *ir == '\0')
			smtpd_reply(s, "334 VXNlcm5hbWU6");	/* "Username:" */
		else
			smtpd_sasl_login(s, ir, strlen(ir));
	} else {
		smtpd_reply(s, "504 5.5.4 Unsupported authentication "
		    "mechanism");
		s->errors++;
	}
}

/* smtpd_sasl_done - the broker's verdict */
void
smtpd_sasl_done(struct smtpd_sess *s, int result, const char *canon)
{
	if (result == IPC_LOGIN_OK && canon != NULL && *canon != '\0') {
		s->sasl_user = xstrdup(canon);
		s->sasl_mech = s->sasl_try;
		log_info("%s[%s]: sasl_method=%s, sasl_username=%s",
		    s->client_name, s->client_addr, s->sasl_mech,
		    log_str(canon));
		smtpd_reply(s, "235 2.7.0 Authentication successful");
	} else if (result == IPC_LOGIN_FAIL) {
		log_warn("%s[%s]: SASL %s authentication failed",
		    s->client_name, s->client_addr, s->sasl_try);
		smtpd_reply(s, "535 5.7.8 Error: authentication failed");
		s->errors++;
	} else {
		log_warn("%s[%s]: SASL %s authentication: the auth "
		    "broker could not answer", s->client_name, s->client_addr,
		    s->sasl_try);
		smtpd_reply(s, "454 4.7.0 Temporary authentication failure");
	}
	s->sasl_try = NULL;
}

/* smtpd_owners_forget - drop the owner list of the last sender */
void
smtpd_owners_forget(struct smtpd_sess *s)
{
	if (s->owners != NULL)
		cfg_list_free(s->owners, s->nowners);
	s->owners = NULL;
	s->nowners = 0;
	s->owners_known = 0;
}

/* smtpd_sender_lookup - ask who owns s->sender; 0 = session waits */
int
smtpd_sender_lookup(struct smtpd_sess *s)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, s->sender);
	r = smtpd_auth_request(s, SMTPD_REQ_SENDER, IPC_AUTH_SENDER, &o);
	ipc_out_free(&o);
	return r;
}

/* smtpd_sender_done - owners known (or not): finish the MAIL command */
void
smtpd_sender_done(struct smtpd_sess *s, int status, char **owners,
    size_t n)
{
	size_t	 i;

	smtpd_owners_forget(s);
	if (status != IPC_LOOKUP_OK) {
		smtpd_reject(s, "MAIL", NULL, NULL, "451 4.3.0 <%s>: Temporary "
		    "lookup failure", log_str(s->sender));
		free(s->sender);
		s->sender = NULL;
		return;
	}
	s->owners = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		s->owners[i] = xstrdup(owners[i]);
	s->nowners = n;
	s->owners_known = 1;
	smtpd_mail_finish(s);
}
