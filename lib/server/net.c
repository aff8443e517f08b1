/*
 * net.c - network lists (mynetworks, smtpd_client_event_limit_exceptions);
 * see net.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "util.h"
#include "net.h"

/* net_parse - see net.h */
int
net_parse(const char *s, struct net *n)
{
	char	 tmp[128], *slash, *host = tmp;
	long long bits;
	size_t	 len;

	if (util_strlcpy(tmp, s, sizeof(tmp)) >= sizeof(tmp))
		return -1;
	if ((slash = strrchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	len = strlen(host);
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		host[len - 1] = '\0';
		host++;
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, host, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, host, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		if (util_parse_ll(slash, 0, n->bits, &bits) == -1)
			return -1;
		n->bits = (int)bits;
	}
	return 0;
}

/* net_parse_list - see net.h */
int
net_parse_list(const char *list, struct net **nets, size_t *nn, char *err,
    size_t errlen)
{
	char	**v;
	size_t	 n, i;

	v = cfg_split_list(list, &n);
	*nets = xcalloc(n + 1, sizeof(**nets));
	*nn = 0;
	for (i = 0; i < n; i++) {
		if (net_parse(v[i], &(*nets)[*nn]) == -1) {
			snprintf(err, errlen, "bad network \"%s\"", v[i]);
			cfg_list_free(v, n);
			free(*nets);
			*nets = NULL;
			*nn = 0;
			return -1;
		}
		(*nn)++;
	}
	cfg_list_free(v, n);
	return 0;
}

/* net_in - addr (family-sized bytes) inside net */
static int
net_in(const struct net *n, const unsigned char *a)
{
	int	 full = n->bits / 8, rest = n->bits % 8;

	if (memcmp(a, n->addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ n->addr[full]) & (0xff << (8 - rest))) == 0;
}

/* net_match - see net.h */
int
net_match(const struct net *nets, size_t nn, const char *addr)
{
	unsigned char a4[4], a6[16];
	int	 is4, is6;
	size_t	 i;

	is4 = inet_pton(AF_INET, addr, a4) == 1;
	is6 = !is4 && inet_pton(AF_INET6, addr, a6) == 1;
	if (is4) {
		/* also match ::ffff:a.b.c.d/n networks */
		memset(a6, 0, 10);
		a6[10] = a6[11] = 0xff;
		memcpy(a6 + 12, a4, 4);
	}
	for (i = 0; i < nn; i++) {
		const struct net *n = &nets[i];

		if (n->family == AF_INET && is4 && net_in(n, a4))
			return 1;
		if (n->family == AF_INET6 && (is4 || is6) && net_in(n, a6))
			return 1;
	}
	return 0;
}
