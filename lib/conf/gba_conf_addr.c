/*
 * gba_conf_addr.c - the one parser of a listen address (ub.listen,
 * admin.listen, zn.*listen of gba-bsf; ua.listen, admin.listen of gba-naf;
 * gba-hss-sim's --listen and --metrics): numeric only, so that starting
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
/* Longer than any numeric address, so that a host name is told it is one. */
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

/* "[v6]:port" into a sockaddr_in6. */
static int parse_v6(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
		    size_t err_size)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char host[HOST_MAX + 1];
	const char *close = strchr(text, ']');
	size_t n;

	if (!close || close[1] != ':')
		return gba_conf_fail(err, err_size, Q ": expected [IPv6 address]:port",
				     QARG(text));
	n = (size_t)(close - text - 1);
	if (n >= sizeof(host))
		return gba_conf_fail(err, err_size, Q ": address too long", QARG(text));
	memcpy(host, text + 1, n);
	host[n] = '\0';
	a6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
		return gba_conf_fail(err, err_size, Q ": " Q " is not a numeric IPv6 address",
				     QARG(text), QARG(host));
	if (parse_port(close + 2, &a6->sin6_port))
		return gba_conf_fail(err, err_size, Q ": the port must be 1..65535 in decimal "
				     "digits", QARG(text));
	*len = sizeof(*a6);
	return 0;
}

/* "a.b.c.d:port" or "*:port" into a sockaddr_in. */
static int parse_v4(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
		    size_t err_size)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char host[HOST_MAX + 1];
	const char *colon = strrchr(text, ':');
	size_t n;

	if (!colon || colon == text)
		return gba_conf_fail(err, err_size, Q ": expected host:port", QARG(text));
	n = (size_t)(colon - text);
	if (memchr(text, ':', n))
		return gba_conf_fail(err, err_size, Q ": an IPv6 address goes in brackets: "
				     "[address]:port", QARG(text));
	if (n >= sizeof(host))
		return gba_conf_fail(err, err_size, Q ": address too long", QARG(text));
	memcpy(host, text, n);
	host[n] = '\0';
	a4->sin_family = AF_INET;
	if (!strcmp(host, "*"))
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return gba_conf_fail(err, err_size, Q ": " Q " is not a numeric IPv4 address or *",
				     QARG(text), QARG(host));
	if (parse_port(colon + 1, &a4->sin_port))
		return gba_conf_fail(err, err_size, Q ": the port must be 1..65535 in decimal "
				     "digits", QARG(text));
	*len = sizeof(*a4);
	return 0;
}

int gba_conf_listen_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			 char *err, size_t err_size)
{
	memset(ss, 0, sizeof(*ss));
	return text[0] == '[' ? parse_v6(text, ss, len, err, err_size)
			      : parse_v4(text, ss, len, err, err_size);
}
