/*
 * fuzz_addr.c - libFuzzer target for lib/mail/addr: addr_parse_path() and
 * addr_parse_mailbox() on attacker text (the MAIL FROM / RCPT TO argument).
 *
 * Input: byte 0 selects the flags (low 5 bits: every combination of
 * ADDR_F_NULL_OK, POSTMASTER_OK, LENIENT, SENDER, LOCAL_OK); the rest is
 * the text,
 * given to the parser as an exact-size NUL-terminated copy.
 *
 * Properties checked (abort when broken):
 *  - a result stays within the documented limits, the domain is lowercase
 *    and valid, the null path only with NULL_OK, a bare postmaster only
 *    with POSTMASTER_OK, any other local part without domain only with
 *    LOCAL_OK; a failure has an SMTP reply text;
 *  - round trip: addr_format() fits ADDR_BUFSZ, and parsing "<formatted>"
 *    (or the formatted mailbox) gives the same local part, domain, null
 *    and literal flags, and formats to the same text again;
 *  - addr_format() with a short buffer truncates like strlcpy;
 *  - addr_pattern_ok() refuses exactly what addr.h says, and a pattern
 *    that is a whole address matches itself; only "<>" matches the null
 *    address.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_addr_lower - no ASCII capitals (except the "IPv6:" tag) */
static int
fuzz_addr_lower(const struct addr *a)
{
	const char *s = a->domain;

	if (a->literal && strncmp(s, "[IPv6:", 6) == 0)
		s += 6;
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	return 1;
}

/* fuzz_addr_sane - invariants of any successfully parsed address */
static void
fuzz_addr_sane(const struct addr *a, int flags)
{
	FZ_CHECK(strlen(a->local) <= ADDR_LOCAL_MAX);
	FZ_CHECK(strlen(a->domain) <= ADDR_DOMAIN_MAX);
	FZ_CHECK(fuzz_addr_lower(a));
	if (a->null) {
		FZ_CHECK(flags & ADDR_F_NULL_OK);
		FZ_CHECK(a->local[0] == '\0' && a->domain[0] == '\0');
		return;
	}
	FZ_CHECK(a->local[0] != '\0');
	if (a->domain[0] == '\0') {
		FZ_CHECK(!a->literal);
		if (!(flags & ADDR_F_LOCAL_OK)) {
			FZ_CHECK(flags & ADDR_F_POSTMASTER_OK);
			FZ_CHECK(strcasecmp(a->local, "postmaster") == 0);
			FZ_CHECK(!a->quoted);
		}
	} else if (a->literal) {
		FZ_CHECK(a->domain[0] == '[');
		FZ_CHECK(a->domain[strlen(a->domain) - 1] == ']');
	} else
		FZ_CHECK(addr_valid_domain(a->domain));
	if (!a->quoted)
		FZ_CHECK(addr_valid_local(a->local));
}

/* fuzz_addr_same - the parts a round trip must keep */
static void
fuzz_addr_same(const struct addr *a, const struct addr *b)
{
	FZ_CHECK(strcmp(a->local, b->local) == 0);
	FZ_CHECK(strcmp(a->domain, b->domain) == 0);
	FZ_CHECK(a->null == b->null);
	FZ_CHECK(a->literal == b->literal);
	FZ_CHECK(addr_has_routing(a) == addr_has_routing(b));
}

/* fuzz_addr_truncate - addr_format() into short buffers, like strlcpy */
static void
fuzz_addr_truncate(const struct addr *a, const char *full, size_t n)
{
	const size_t sizes[] = { 0, 1, 2, n / 2, n, n + 1 };
	char	*small;
	size_t	 i, want;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* exact size, so ASan catches a write past it */
		small = fz_memdup("", sizes[i]);
		FZ_CHECK(addr_format(a, small, sizes[i]) == n);
		if (sizes[i] > 0) {
			want = n < sizes[i] ? n : sizes[i] - 1;
			FZ_CHECK(strlen(small) == want);
			FZ_CHECK(memcmp(small, full, want) == 0);
		}
		free(small);
	}
}

/* fuzz_addr_roundtrip_path - format, then parse "<formatted>" again */
static void
fuzz_addr_roundtrip_path(const struct addr *a, int flags)
{
	struct addr b;
	char	 text[ADDR_BUFSZ], path[ADDR_BUFSZ + 2], again[ADDR_BUFSZ];
	const char *rest = NULL, *why = NULL;
	size_t	 n;
	int	 f2;

	n = addr_format(a, text, sizeof(text));
	FZ_CHECK(n < sizeof(text));
	FZ_CHECK(strlen(text) == n);
	fuzz_addr_truncate(a, text, n);
	path[0] = '<';
	memcpy(path + 1, text, n);
	path[n + 1] = '>';
	path[n + 2] = '\0';
	f2 = flags & ADDR_F_SENDER;
	if (a->null)
		f2 |= ADDR_F_NULL_OK;
	if (a->domain[0] == '\0')
		f2 |= flags & (ADDR_F_POSTMASTER_OK | ADDR_F_LOCAL_OK);
	if (addr_parse_path(path, f2, &b, &rest, &why) != 0) {
		fprintf(stderr, "round trip: \"%s\" does not parse: %s\n",
		    path, why != NULL ? why : "(no reason)");
		abort();
	}
	FZ_CHECK(rest == path + n + 2);
	fuzz_addr_same(a, &b);
	FZ_CHECK(addr_format(&b, again, sizeof(again)) == n);
	FZ_CHECK(strcmp(again, text) == 0);
}

/* fuzz_addr_roundtrip_mailbox - format, then parse it as a mailbox */
static void
fuzz_addr_roundtrip_mailbox(const struct addr *a)
{
	struct addr b;
	char	 text[ADDR_BUFSZ];
	const char *why = NULL;
	size_t	 n;

	n = addr_format(a, text, sizeof(text));
	FZ_CHECK(n < sizeof(text));
	if (addr_parse_mailbox(text, &b, &why) != 0) {
		fprintf(stderr, "round trip: mailbox \"%s\" does not parse: "
		    "%s\n", text, why != NULL ? why : "(no reason)");
		abort();
	}
	fuzz_addr_same(a, &b);
}

/* fuzz_addr_why - a failure carries an SMTP reply text */
static void
fuzz_addr_why(const char *why)
{
	FZ_CHECK(why != NULL);
	FZ_CHECK(strncmp(why, "501 5.", 6) == 0 ||
	    strncmp(why, "553 5.", 6) == 0);
	FZ_CHECK(strpbrk(why, "\r\n") == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a;
	const char *rest, *why;
	char	*text;
	size_t	 len;
	int	 flags;

	if (size == 0)
		return 0;
	flags = data[0] & (ADDR_F_NULL_OK | ADDR_F_POSTMASTER_OK |
	    ADDR_F_LENIENT | ADDR_F_SENDER | ADDR_F_LOCAL_OK);
	len = size - 1;
	text = fz_cstr(data + 1, len);
	len = strlen(text);

	rest = NULL;
	why = NULL;
	if (addr_parse_path(text, flags, &a, &rest, &why) == 0) {
		FZ_CHECK(rest != NULL && rest > text && rest <= text + len);
		if (text[strspn(text, " \t")] == '<')
			FZ_CHECK(rest[-1] == '>');
		else	/* the LENIENT bare form ends at white space */
			FZ_CHECK((flags & ADDR_F_LENIENT) &&
			    (*rest == '\0' || *rest == ' ' || *rest == '\t'));
		fuzz_addr_sane(&a, flags);
		fuzz_addr_roundtrip_path(&a, flags);
	} else
		fuzz_addr_why(why);
	/* rest and why may be NULL */
	(void)addr_parse_path(text, flags, &a, NULL, NULL);

	why = NULL;
	if (addr_parse_mailbox(text, &a, &why) == 0) {
		FZ_CHECK(!a.null && a.domain[0] != '\0');
		fuzz_addr_sane(&a, 0);
		fuzz_addr_roundtrip_mailbox(&a);
		fuzz_addr_roundtrip_path(&a, 0);
	} else
		fuzz_addr_why(why);

	(void)addr_valid_domain(text);
	(void)addr_valid_local(text);
	/* as a queue-delete pattern: it matches itself when it is an
	 * address, the null pattern only the null address */
	if (addr_pattern_ok(text)) {
		if (strcmp(text, "<>") == 0)
			FZ_CHECK(addr_pattern_match(text, "") &&
			    !addr_pattern_match(text, "a@b"));
		else if (strchr(text, '@') != NULL && text[0] != '@' &&
		    text[len - 1] != '@')
			FZ_CHECK(addr_pattern_match(text, text));
		FZ_CHECK(!addr_pattern_match(text, "") ||
		    strcmp(text, "<>") == 0);
	} else
		FZ_CHECK(len == 0 || len > ADDR_TEXT_MAX || strcmp(text,
		    "@") == 0 || strpbrk(text, " <>\t\x7f") != NULL ||
		    text[strcspn(text, "\x01\x02\x03\x04\x05\x06\x07\x08"
		    "\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"
		    "\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f")] != '\0');
	free(text);
	return 0;
}
