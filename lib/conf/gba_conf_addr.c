/*
 * gba_conf_addr.c - the one parser of a listen address (ub.listen,
 * admin.listen, zn.http*_listen of gba-bsf; ua.*_listen, admin.listen of
 * gba-naf; gba-hss-sim's --listen and --metrics): numeric only, so that starting
 * never waits on a resolver and a typo never listens somewhere unexpected.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "gba_conf.h"

/* The address as messages quote it, cut (addresses are not secret). */
#define ADDR_SHOWN 64
#define Q "'%.*s%s'"
#define QARG(t) ADDR_SHOWN, (t), strlen(t) > ADDR_SHOWN ? "..." : ""
/* Longer than any numeric address: a host name is refused as not numeric, not as long. */
#define HOST_MAX 255

/* 1..65535, decimal digits only (no sign, no blank): 0, or -1. */
static int parse_port(const char *s, in_port_t *port)
{
	unsigned long long v = 0;

	if (gba_conf_decimal(s, strlen(s), &v) || v == 0 || v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

/*
 * The host ("[v6]" without its brackets) into host and where the port
 * starts into *port: 0, or -1 with why.
 */
static int split(const char *text, char host[HOST_MAX + 1], const char **port, char *err,
		 size_t err_size)
{
	const char *start = text, *end;

	if (text[0] == '[') {
		start = text + 1;
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			return gba_conf_fail(err, err_size, Q ": expected [IPv6 address]:port",
					     QARG(text));
		*port = end + 2;
	} else {
		end = strrchr(text, ':');
		if (!end || end == text)
			return gba_conf_fail(err, err_size, Q ": expected host:port", QARG(text));
		if (memchr(text, ':', (size_t)(end - text)))
			return gba_conf_fail(err, err_size, Q ": an IPv6 address goes in "
					     "brackets: [address]:port", QARG(text));
		*port = end + 1;
	}
	if ((size_t)(end - start) > HOST_MAX)
		return gba_conf_fail(err, err_size, Q ": address too long", QARG(text));
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return 0;
}

/* The numeric address host of family into ss ("*": any IPv4): 1, or 0 when not one. */
static int set_host(struct sockaddr_storage *ss, int family, const char *host, socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1;
	}
	*len = sizeof(*a4);
	if (!strcmp(host, "*")) {
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		return 1;
	}
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}

int gba_conf_listen_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			 char *err, size_t err_size)
{
	int family = text[0] == '[' ? AF_INET6 : AF_INET;
	char host[HOST_MAX + 1];
	const char *port_text = "";
	in_port_t port;

	memset(ss, 0, sizeof(*ss));
	if (split(text, host, &port_text, err, err_size))
		return -1;
	if (!set_host(ss, family, host, len))
		return gba_conf_fail(err, err_size, Q ": " Q " is not a numeric %s", QARG(text),
				     QARG(host), family == AF_INET6 ? "IPv6 address" :
				     "IPv4 address or *");
	if (parse_port(port_text, &port))
		return gba_conf_fail(err, err_size, Q ": the port must be 1..65535 in decimal "
				     "digits", QARG(text));
	if (family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = port;
	else
		((struct sockaddr_in *)ss)->sin_port = port;
	return 0;
}
