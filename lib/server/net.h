/*
 * net.h - lists of networks as mynetworks writes them: "a.b.c.d[/n]",
 * "[ipv6]/n" or "ipv6/n", separated by commas or white space.  An IPv4
 * client also matches IPv4-mapped networks ([::ffff:127.0.0.0]/104).
 */
#ifndef YOUJU_NET_H
#define YOUJU_NET_H

#include <stddef.h>

struct net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	int		 bits;
};

/* net_parse - one entry; 0, or -1 when malformed */
int	 net_parse(const char *, struct net *);
/*
 * net_parse_list - a whole list into *nets (malloc'ed, free it) and *n;
 * 0, or -1 with the bad entry named in err (nothing allocated)
 */
int	 net_parse_list(const char *, struct net **, size_t *, char *, size_t);
/* net_match - is an address (text) in one of the networks */
int	 net_match(const struct net *, size_t, const char *);

#endif
