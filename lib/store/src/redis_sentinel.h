/*
 * redis_sentinel.h - finding the primary of a Redis Sentinel deployment
 * for redis_pool.c: the sentinels' addresses and the master's name from a
 * redis-sentinel:// URI, SENTINEL get-master-addr-by-name, and the ROLE
 * check that a node we reached is the primary (a sentinel's answer may be
 * a moment old, a demoted primary keeps answering as a replica).
 *
 * Internal to lib/store.
 */
#ifndef GBA_REDIS_SENTINEL_H
#define GBA_REDIS_SENTINEL_H

#include <stddef.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include <gba/error.h>

#define SENTINELS_MAX 8
#define REDIS_HOST_MAX 256
#define REDIS_NAME_MAX 128
#define REDIS_PASSWORD_MAX 512       /* octets of an auth_file's password */

/* Credentials for AUTH [user] password; password_len 0: no AUTH. */
struct redis_auth {
	char user[REDIS_NAME_MAX];
	char password[REDIS_PASSWORD_MAX + 1];
	size_t password_len;
};

struct redis_sentinels {
	unsigned n;
	char host[SENTINELS_MAX][REDIS_HOST_MAX];
	int port[SENTINELS_MAX];
	char master[REDIS_NAME_MAX];
	struct redis_auth auth;        /* sentinel_user, sentinel_auth_file */
};

/* HOST:PORT (HOST may be [IPv6]) of len octets into host and port. */
gba_err redis_parse_hostport(const char *s, size_t len, char host[REDIS_HOST_MAX], int *port);

/* "HOST:PORT[,HOST:PORT...]" of len octets and the master's name. */
gba_err redis_sentinels_parse(struct redis_sentinels *s, const char *list, size_t len,
			      const char *name, size_t name_len);

/* AUTH on a fresh connection (nothing to do without a password). */
gba_err redis_authenticate(redisContext *c, const struct redis_auth *a);

/*
 * Ask the sentinels in turn for the master's address; the first that
 * answers wins.  GBA_ERR_UNAVAILABLE when none answers or none knows the
 * master, GBA_ERR_NOT_AUTHORIZED when they refuse our password.
 */
gba_err redis_sentinel_master(const struct redis_sentinels *s, struct timeval tv,
			      char host[REDIS_HOST_MAX], int *port);

/* ROLE: 1 when c is connected to a primary, 0 when not (or no answer). */
int redis_is_primary(redisContext *c);

#endif /* GBA_REDIS_SENTINEL_H */
