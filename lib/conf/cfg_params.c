/*
 * cfg_params.c - the one table of every main.cf parameter youju knows.
 *
 * Interface: cfg_params[] (sorted by name in C locale order, so that
 * cfg_param_find() can bsearch it) and cfg_nparams.  Names, meanings and
 * defaults are Postfix's unless the doc string or main.cf(5) says otherwise;
 * CFG_F_YOUJU marks parameters Postfix does not have, CFG_F_ACCEPTED ones
 * that are read and checked but change nothing.
 *
 * Keep one entry per CP_ line with the name as the first argument on that
 * line: tests/static/check-man.sh extracts the names with sed and compares
 * them with the .It Cm entries of man/main.cf.5, and test_cfg checks the
 * order, the bounds and that every default passes its own type check.
 */
#include <stddef.h>

#include "cfg.h"

#ifndef YOUJU_LIBEXECDIR
#define YOUJU_LIBEXECDIR	"/usr/local/libexec/youju"
#endif
#ifndef YOUJU_SYSCONFDIR
#define YOUJU_SYSCONFDIR	"/usr/local/etc/youju"
#endif

#define CP_KB		1024LL
#define CP_GB		(1024LL * 1024 * 1024)
#define CP_TB		(1024LL * CP_GB)
#define CP_MIN		60LL
#define CP_HOUR		3600LL
#define CP_DAY		86400LL

#define CP_STR(n, d, f, txt) \
	{ .name = (n), .type = CFG_STR, .def = (d), .flags = (f), .doc = (txt) }
#define CP_ENUM(n, d, ch, f, txt) \
	{ .name = (n), .type = CFG_STR, .def = (d), .flags = (f), \
	  .doc = (txt), .choices = (ch) }
#define CP_LIST(n, d, f, txt) \
	{ .name = (n), .type = CFG_LIST, .def = (d), .flags = (f), \
	  .doc = (txt) }
#define CP_LISTC(n, d, ch, f, txt) \
	{ .name = (n), .type = CFG_LIST, .def = (d), .flags = (f), \
	  .doc = (txt), .choices = (ch) }
#define CP_BOOL(n, d, f, txt) \
	{ .name = (n), .type = CFG_BOOL, .def = (d), .flags = (f), \
	  .doc = (txt) }
#define CP_INT(n, d, lo, hi, f, txt) \
	{ .name = (n), .type = CFG_INT, .def = (d), .min = (lo), .max = (hi), \
	  .flags = (f), .doc = (txt) }
#define CP_SIZE(n, d, lo, hi, f, txt) \
	{ .name = (n), .type = CFG_SIZE, .def = (d), .min = (lo), .max = (hi), \
	  .flags = (f), .doc = (txt) }
#define CP_TIME(n, d, u, lo, hi, f, txt) \
	{ .name = (n), .type = CFG_TIME, .def = (d), .unit = (u), .min = (lo), \
	  .max = (hi), .flags = (f), .doc = (txt) }

#define Y	CFG_F_YOUJU
#define A	CFG_F_ACCEPTED
#define P	CFG_F_ABSPATH
#define N	CFG_F_NONEMPTY
#define R	CFG_F_RESTR
#define RAW	CFG_F_RAW

const struct cfg_param cfg_params[] = {
	CP_INT("access_map_defer_code", "450", 400, 499, 0,
	    "reply code of DEFER, DEFER_IF_PERMIT, DEFER_IF_REJECT in access "
	    "tables"),
	CP_INT("access_map_reject_code", "554", 500, 599, 0,
	    "reply code of REJECT in access tables"),
	CP_LIST("alias_database", "$alias_maps", A,
	    "accepted, no effect: youju reads the aliases text file itself"),
	CP_LIST("alias_maps", "$config_directory/aliases", 0,
	    "the aliases(5) file; a hash:, lmdb: or texthash: prefix is "
	    "ignored"),
	CP_TIME("anvil_rate_time_unit", "60s", 's', 1, CP_HOUR, 0,
	    "time unit of the per-client rate limits"),
	CP_BOOL("append_at_myorigin", "yes", 0,
	    "complete a recipient or alias target without a domain with "
	    "@$myorigin"),
	CP_BOOL("append_dot_mydomain", "no", A,
	    "accepted, no effect: youju never appends .$mydomain"),
	CP_BOOL("biff", "no", A,
	    "accepted, no effect: youju never notifies comsat"),
	CP_TIME("bounce_queue_lifetime", "5d", 'd', 0, 365 * CP_DAY, 0,
	    "how long a bounce message stays queued before it is discarded"),
	CP_TIME("command_time_limit", "1000s", 's', 1, CP_DAY, 0,
	    "time limit of a command that spawn(8) runs, unless "
	    "SERVICE_time_limit says otherwise"),
	CP_STR("compatibility_level", "3.6", A,
	    "accepted, no effect: youju has one set of defaults"),
	CP_STR("config_directory", YOUJU_SYSCONFDIR, P | N,
	    "directory of main.cf and master.cf; set from -c, not main.cf"),
	CP_STR("daemon_directory", YOUJU_LIBEXECDIR, P | N,
	    "directory where master finds the youju programs"),
	CP_INT("default_destination_concurrency_limit", "20", 1, 1000, 0,
	    "parallel deliveries to one destination"),
	CP_INT("default_destination_recipient_limit", "50", 1, 100000, 0,
	    "recipients per outbound delivery"),
	CP_INT("default_process_limit", "100", 1, 100000, 0,
	    "processes per service when master.cf says '-' for maxproc"),
	CP_STR("default_rbl_reply", "$rbl_code Service unavailable; "
	    "$rbl_class [$rbl_what] blocked using "
	    "$rbl_domain${rbl_reason?; $rbl_reason}", N | RAW,
	    "the reply of a DNS list match, with $rbl_code, $rbl_class, ..."),
	CP_INT("defer_code", "450", 400, 499, 0,
	    "reply code of the defer restriction"),
	CP_TIME("delay_warning_time", "0h", 'h', 0, 365 * CP_DAY, 0,
	    "send a delay notice after this time; 0 = never"),
	CP_BOOL("disable_vrfy_command", "no", 0,
	    "reject VRFY with 502"),
	CP_BOOL("dkim_signing", "yes", Y,
	    "DKIM-sign outbound mail with the keys in $config_directory/dkim"),
	CP_STR("dns_server_address", "", Y,
	    "DNS server (host or host:port) to forward to instead of "
	    "resolv.conf"),
	CP_INT("duplicate_filter_limit", "1000", 0, 100000, 0,
	    "recipients of a message compared for duplicates; 0 = none"),
	CP_INT("hash_queue_depth", "2", 1, 4, 0,
	    "levels of hashed subdirectories in the queue"),
	CP_LIST("hash_queue_names", "deferred, defer", A,
	    "accepted, no effect: youju hashes all of its queue"),
	CP_SIZE("header_size_limit", "102400", 1 * CP_KB, 64 * 1024 * CP_KB, 0,
	    "longest message header block in bytes"),
	CP_STR("home_mailbox", "Maildir/", CFG_F_MAILDIR,
	    "mailbox path relative to the home; must be a Maildir/"),
	CP_LIST("inet_interfaces", "all", 0,
	    "addresses that inet services listen on"),
	CP_LISTC("inet_protocols", "all", "all|ipv4|ipv6", 0,
	    "IP versions to use: all, ipv4, ipv6"),
	CP_INT("local_destination_concurrency_limit", "2", 1, 1000, 0,
	    "parallel local deliveries to one recipient"),
	CP_INT("local_destination_recipient_limit", "1", 1, 100000, 0,
	    "recipients per local delivery"),
	CP_LIST("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps",
	    A, "accepted, no effect: unknown local recipients are always "
	    "rejected"),
	CP_STR("mail_name", "youju", 0,
	    "the name of the mail system in the banner and bounces"),
	CP_STR("mail_owner", "youju", N,
	    "the unprivileged user the daemons run as"),
	CP_STR("mailbox_base", "/var/mail/vhosts", Y | P | N,
	    "parent of the homes of users-file entries without a home"),
	CP_STR("mailbox_owner", "$mail_owner", Y | N,
	    "owner of mailboxes of users-file entries without uid and gid"),
	CP_SIZE("mailbox_size_limit", "51200000", 0, CP_TB, 0,
	    "largest mailbox in bytes; 0 = no limit"),
	CP_STR("maillog_file", "", P,
	    "log to this file instead of syslog when set"),
	CP_INT("maps_rbl_reject_code", "554", 400, 599, 0,
	    "reply code when a reject_rbl_* or reject_rhsbl_* list matches"),
	CP_TIME("master_stop_timeout", "30s", 's', 0, CP_HOUR, Y,
	    "how long a stop waits for sessions before killing them"),
	CP_TIME("maximal_backoff_time", "4000s", 's', 1, 30 * CP_DAY, 0,
	    "longest time between delivery attempts of a deferred message"),
	CP_TIME("maximal_queue_lifetime", "5d", 'd', 0, 365 * CP_DAY, 0,
	    "how long a message is retried before it is bounced"),
	CP_SIZE("message_size_limit", "10240000", 0, CP_TB, 0,
	    "largest message in bytes; 0 = no limit"),
	CP_STR("metrics_listen", "", Y,
	    "loopback ADDRESS:PORT where anvil serves /metrics; empty = off"),
	CP_TIME("minimal_backoff_time", "300s", 's', 1, 30 * CP_DAY, 0,
	    "shortest time between delivery attempts of a deferred message"),
	CP_INT("multi_recipient_bounce_reject_code", "550", 400, 599, 0,
	    "reply code of reject_multi_recipient_bounce"),
	CP_LIST("mydestination", "$myhostname, localhost.$mydomain, localhost",
	    0, "domains delivered locally"),
	CP_STR("mydomain", "", CFG_F_COMPUTED | N,
	    "internet domain; default $myhostname minus its first label"),
	CP_STR("myhostname", "", CFG_F_COMPUTED | N,
	    "fully qualified host name; default from gethostname()"),
	CP_LIST("mynetworks", "127.0.0.0/8 [::1]/128", 0,
	    "trusted client networks (permit_mynetworks)"),
	CP_STR("myorigin", "$myhostname", N,
	    "domain appended to unqualified sender addresses"),
	CP_LIST("parent_domain_matches_subdomains",
	    "debug_peer_list, fast_flush_domains, mynetworks, "
	    "permit_mx_backup_networks, qmqpd_authorized_clients, "
	    "relay_domains, smtpd_access_maps", 0,
	    "with smtpd_access_maps: a domain key also matches its subdomains"),
	CP_INT("pickup_uid_message_rate_limit", "100", 0, 100000000, Y,
	    "messages a local user (uid) may submit per "
	    "anvil_rate_time_unit; 0 = no limit; root is exempt"),
	CP_INT("plaintext_reject_code", "450", 400, 599, 0,
	    "reply code of reject_plaintext_session"),
	CP_INT("qmgr_message_active_limit", "20000", 1, 10000000, 0,
	    "messages in the active queue at once"),
	CP_STR("queue_directory", "/var/spool/youju", P | N,
	    "root of the queue and of the daemons' chroot"),
	CP_TIME("queue_run_delay", "300s", 's', 1, CP_DAY, 0,
	    "how often the deferred queue is scanned"),
	CP_LIST("rbl_reply_maps", "", 0,
	    "tables with a reply template per DNS list domain"),
	CP_STR("readme_directory", "no", A,
	    "accepted, no effect"),
	CP_STR("recipient_delimiter", "", 0,
	    "characters that separate a user name from an extension"),
	CP_INT("reject_code", "554", 500, 599, 0,
	    "reply code of the reject restriction"),
	CP_STR("relayhost", "", 0,
	    "send all non-local mail through this host ([host]:port)"),
	CP_STR("smtp_bind_address", "", 0,
	    "outbound: IPv4 source address of SMTP connections"),
	CP_STR("smtp_bind_address6", "", 0,
	    "outbound: IPv6 source address of SMTP connections"),
	CP_TIME("smtp_connect_timeout", "30s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of the TCP connect"),
	CP_TIME("smtp_data_done_timeout", "600s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout waiting for the reply to the final dot"),
	CP_TIME("smtp_data_init_timeout", "120s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of the DATA command"),
	CP_TIME("smtp_data_xfer_timeout", "180s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of sending each part of the content"),
	CP_STR("smtp_helo_name", "$myhostname", N,
	    "outbound: the name sent in EHLO/HELO"),
	CP_TIME("smtp_helo_timeout", "300s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of the greeting and EHLO"),
	CP_TIME("smtp_mail_timeout", "300s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of MAIL FROM"),
	CP_TIME("smtp_quit_timeout", "300s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of QUIT"),
	CP_TIME("smtp_rcpt_timeout", "300s", 's', 1, CP_HOUR, 0,
	    "outbound: timeout of RCPT TO"),
	CP_BOOL("smtp_sasl_auth_enable", "no", 0,
	    "outbound: authenticate to the relayhost"),
	CP_LIST("smtp_sasl_password_maps", "", 0,
	    "outbound: file of host user:password lines"),
	CP_LIST("smtp_sasl_security_options", "noplaintext, noanonymous", A,
	    "accepted, no effect: credentials are only sent over TLS"),
	CP_INT("smtp_tcp_port", "25", 1, 65535, 0,
	    "outbound: TCP port to connect to (numeric in youju)"),
	CP_STR("smtp_tls_CAfile", "", P,
	    "outbound: file of trusted CA certificates"),
	CP_STR("smtp_tls_CApath", "", P,
	    "outbound: directory of trusted CA certificates"),
	CP_INT("smtp_tls_loglevel", "0", 0, 4, 0,
	    "outbound: amount of TLS logging"),
	CP_BOOL("smtp_tls_note_starttls_offer", "no", A,
	    "accepted, no effect"),
	CP_ENUM("smtp_tls_security_level", "may",
	    "|none|may|encrypt|verify|secure", 0,
	    "outbound TLS: none, may, encrypt, verify or secure"),
	CP_STR("smtp_tls_session_cache_database", "", A,
	    "accepted, no effect"),
	CP_BOOL("smtp_use_tls", "no", A,
	    "accepted, no effect: use smtp_tls_security_level"),
	CP_STR("smtpd_banner", "$myhostname ESMTP $mail_name", 0,
	    "text after the 220 code of the greeting"),
	CP_INT("smtpd_client_connection_count_limit", "50", 0, 1000000, 0,
	    "concurrent connections per client IP; 0 = no limit"),
	CP_INT("smtpd_client_connection_rate_limit", "0", 0, 100000000, 0,
	    "connections per client per anvil_rate_time_unit; 0 = no limit"),
	CP_LIST("smtpd_client_event_limit_exceptions", "$mynetworks", 0,
	    "clients the per-client limits do not apply to"),
	CP_INT("smtpd_client_message_rate_limit", "0", 0, 100000000, 0,
	    "messages per client per anvil_rate_time_unit; 0 = no limit"),
	CP_LIST("smtpd_client_restrictions", "", R,
	    "restrictions applied to the client address"),
	CP_LIST("smtpd_data_restrictions", "", R,
	    "restrictions applied at DATA"),
	CP_BOOL("smtpd_delay_reject", "yes", 0,
	    "apply client, helo and sender restrictions at RCPT TO"),
	CP_LIST("smtpd_end_of_data_restrictions", "", R,
	    "restrictions applied after the end of the message content"),
	CP_TIME("smtpd_error_sleep_time", "1s", 's', 0, 300, 0,
	    "pause before an error reply once the soft error limit is hit"),
	CP_ENUM("smtpd_forbid_bare_newline", "normalize",
	    "normalize|yes|reject|no", 0,
	    "bare LF in DATA: normalize (= yes), reject or no"),
	CP_ENUM("smtpd_greet_action", "enforce", "ignore|enforce|drop", Y,
	    "a client that talks before the banner: ignore, enforce or drop"),
	CP_TIME("smtpd_greet_wait", "0s", 's', 0, 60, Y,
	    "how long the banner is held back to catch pregreeting clients"),
	CP_INT("smtpd_hard_error_limit", "20", 1, 1000, 0,
	    "errors after which the session is closed"),
	CP_BOOL("smtpd_helo_required", "no", 0,
	    "require HELO or EHLO before MAIL FROM"),
	CP_LIST("smtpd_helo_restrictions", "", R,
	    "restrictions applied to the HELO name"),
	CP_INT("smtpd_junk_command_limit", "100", 1, 100000, 0,
	    "NOOP, RSET, VRFY, ... commands allowed per session"),
	CP_INT("smtpd_line_length_limit", "65536", 1000, 1048576, Y,
	    "longest text line accepted in DATA, in bytes"),
	CP_STR("smtpd_null_access_lookup_key", "<>", N,
	    "the key the null sender is looked up as in access tables"),
	CP_BOOL("smtpd_peername_lookup", "yes", 0,
	    "look up and forward-confirm the client's name (PTR, then A/AAAA)"),
	CP_STR("smtpd_policy_service_default_action",
	    "451 4.3.5 Server configuration problem", N,
	    "the access(5) action when a policy server cannot be asked"),
	CP_TIME("smtpd_policy_service_max_idle", "300s", 's', 1, CP_DAY, 0,
	    "an unused policy server connection is closed after this time"),
	CP_TIME("smtpd_policy_service_max_ttl", "1000s", 's', 1, CP_DAY, 0,
	    "a policy server connection is closed after this time in use"),
	CP_STR("smtpd_policy_service_policy_context", "", 0,
	    "the policy_context attribute sent to policy servers"),
	CP_INT("smtpd_policy_service_request_limit", "0", 0, 1000000, 0,
	    "requests per policy server connection (0: no limit)"),
	CP_TIME("smtpd_policy_service_retry_delay", "1s", 's', 1, CP_HOUR, 0,
	    "wait between attempts to ask a policy server"),
	CP_TIME("smtpd_policy_service_timeout", "100s", 's', 1, CP_HOUR, 0,
	    "time limit to connect to, write to and read from a policy "
	    "server"),
	CP_INT("smtpd_policy_service_try_limit", "2", 1, 100, 0,
	    "attempts to ask a policy server before the default action"),
	CP_INT("smtpd_recipient_limit", "1000", 1, 1000000, 0,
	    "recipients accepted per message"),
	CP_INT("smtpd_recipient_overshoot_limit", "1000", 1, 1000000, 0,
	    "excess recipients counted as errors"),
	CP_LIST("smtpd_recipient_restrictions", "", R,
	    "restrictions applied at RCPT TO, after smtpd_relay_restrictions"),
	CP_LIST("smtpd_relay_restrictions",
	    "permit_mynetworks, permit_sasl_authenticated, "
	    "reject_unauth_destination", R,
	    "relay control applied at RCPT TO"),
	CP_LIST("smtpd_restriction_classes", "", 0,
	    "names of restriction lists defined in main.cf"),
	CP_ENUM("smtpd_sasl_auth_backend", "file", "file|pam", Y,
	    "where the auth broker checks passwords: file or pam"),
	CP_BOOL("smtpd_sasl_auth_enable", "no", 0,
	    "offer SMTP AUTH"),
	CP_STR("smtpd_sasl_pam_service", "smtp", Y,
	    "PAM service name used by the pam backend"),
	CP_STR("smtpd_sasl_path", "private/auth", A,
	    "accepted: youju's own auth broker is always used"),
	CP_LIST("smtpd_sasl_security_options", "noanonymous", A,
	    "accepted, no effect: only PLAIN and LOGIN are offered"),
	CP_ENUM("smtpd_sasl_type", "dovecot", "dovecot", A,
	    "accepted: selects youju's own auth broker"),
	CP_LIST("smtpd_sender_login_maps", "", 0,
	    "which SASL logins may use which sender address"),
	CP_LIST("smtpd_sender_restrictions", "", R,
	    "restrictions applied at MAIL FROM"),
	CP_INT("smtpd_session_limit", "2000", 1, 1000000, Y,
	    "concurrent sessions per smtpd process"),
	CP_INT("smtpd_soft_error_limit", "10", 1, 1000, 0,
	    "errors after which each error reply is delayed"),
	CP_TIME("smtpd_timeout", "300s", 's', 1, CP_HOUR, 0,
	    "time allowed for a command or a line of the client"),
	CP_BOOL("smtpd_tls_auth_only", "yes", 0,
	    "offer AUTH only under TLS (youju default yes)"),
	CP_STR("smtpd_tls_cert_file", "", P,
	    "server certificate chain (PEM)"),
	CP_ENUM("smtpd_tls_ciphers", "medium", "export|low|medium|high|null", 0,
	    "cipher grade of opportunistic TLS"),
	CP_STR("smtpd_tls_key_file", "$smtpd_tls_cert_file", P,
	    "server private key (PEM)"),
	CP_INT("smtpd_tls_loglevel", "0", 0, 4, 0,
	    "amount of TLS logging"),
	CP_LIST("smtpd_tls_mandatory_protocols", ">=TLSv1.2", 0,
	    "TLS versions accepted when TLS is mandatory"),
	CP_LIST("smtpd_tls_protocols", ">=TLSv1.2", 0,
	    "TLS versions accepted with opportunistic TLS"),
	CP_ENUM("smtpd_tls_security_level", "", "|none|may|encrypt", 0,
	    "inbound TLS: none, may or encrypt"),
	CP_STR("smtpd_tls_session_cache_database", "", A,
	    "accepted, no effect"),
	CP_BOOL("smtpd_tls_wrappermode", "no", 0,
	    "implicit TLS on connect (port 465)"),
	CP_BOOL("smtpd_use_tls", "no", 0,
	    "offer STARTTLS (smtpd_tls_security_level = may)"),
	CP_BOOL("smtpd_vrfy_enable", "no", Y,
	    "answer VRFY truthfully; no = VRFY answers 252"),
	CP_ENUM("syslog_facility", "mail",
	    "mail|daemon|user|local0|local1|local2|local3|local4|local5|"
	    "local6|local7", 0,
	    "syslog facility of the log lines"),
	CP_STR("syslog_name", "youju", 0,
	    "program name prefix of the log lines"),
	CP_INT("unknown_address_reject_code", "450", 400, 599, 0,
	    "reply code of reject_unknown_sender_domain and "
	    "reject_unknown_recipient_domain for a domain without DNS records"),
	CP_INT("unknown_client_reject_code", "450", 400, 599, 0,
	    "reply code of reject_unknown_client_hostname and "
	    "reject_unknown_reverse_client_hostname (permanent DNS failure)"),
	CP_INT("unknown_hostname_reject_code", "450", 400, 599, 0,
	    "reply code of reject_unknown_helo_hostname"),
	CP_INT("unknown_local_recipient_reject_code", "550", 400, 599, 0,
	    "reply code for an unknown local address (reject_unlisted_sender)"),
	CP_STR("users_file", "$config_directory/users", Y | P,
	    "the youju-users(5) file (Dovecot passwd-file format)"),
};

const size_t cfg_nparams = sizeof(cfg_params) / sizeof(cfg_params[0]);
