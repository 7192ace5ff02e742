/* redis_sentinel.c - see redis_sentinel.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_sentinel.h"

gba_err redis_parse_hostport(const char *s, size_t len, char host[REDIS_HOST_MAX], int *port)
{
	const char *end = s + len, *colon, *h = s, *h_end;
	char num[8], *num_end;
	unsigned long v;

	if (len && *s == '[') {
		h = s + 1;
		h_end = memchr(h, ']', (size_t)(end - h));
		if (!h_end || h_end + 1 >= end || h_end[1] != ':')
			return GBA_ERR_INVALID_ARG;
		colon = h_end + 1;
	} else {
		colon = memchr(s, ':', len);
		h_end = colon;
	}
	if (!colon || h_end == h || (size_t)(h_end - h) >= REDIS_HOST_MAX)
		return GBA_ERR_INVALID_ARG;
	len = (size_t)(end - colon - 1);
	if (len == 0 || len >= sizeof(num) || colon[1] < '0' || colon[1] > '9')
		return GBA_ERR_INVALID_ARG;
	memcpy(num, colon + 1, len);
	num[len] = '\0';
	v = strtoul(num, &num_end, 10);
	if (*num_end || v < 1 || v > 65535)
		return GBA_ERR_INVALID_ARG;
	memcpy(host, h, (size_t)(h_end - h));
	host[h_end - h] = '\0';
	*port = (int)v;
	return GBA_OK;
}

gba_err redis_sentinels_parse(struct redis_sentinels *s, const char *list, size_t len,
			      const char *name, size_t name_len)
{
	const char *end = list + len;

	if (name_len == 0 || name_len >= sizeof(s->master) || memchr(name, '\0', name_len))
		return GBA_ERR_INVALID_ARG;
	memcpy(s->master, name, name_len);
	s->master[name_len] = '\0';
	s->n = 0;
	while (list < end) {
		const char *comma = memchr(list, ',', (size_t)(end - list));
		size_t one = comma ? (size_t)(comma - list) : (size_t)(end - list);

		if (s->n == SENTINELS_MAX ||
		    redis_parse_hostport(list, one, s->host[s->n], &s->port[s->n]))
			return GBA_ERR_INVALID_ARG;
		s->n++;
		list += one;
		if (comma && ++list == end)
			return GBA_ERR_INVALID_ARG;   /* a trailing ',' */
	}
	return s->n ? GBA_OK : GBA_ERR_INVALID_ARG;
}

/*
 * The password goes out as a binary-safe argument and is never logged;
 * hiredis's copy of the command is freed but not wiped (hiredis 0.14 has
 * no allocator hooks).
 */
gba_err redis_authenticate(redisContext *c, const struct redis_auth *a)
{
	const char *argv[3] = { "AUTH" };
	size_t len[3] = { 4 };
	int argc = 1;
	redisReply *rep;
	gba_err err;

	if (!a->password_len)
		return GBA_OK;
	if (a->user[0]) {
		argv[argc] = a->user;
		len[argc++] = strlen(a->user);
	}
	argv[argc] = a->password;
	len[argc++] = a->password_len;
	rep = redisCommandArgv(c, argc, argv, len);
	if (!rep)
		return GBA_ERR_UNAVAILABLE;
	err = rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK") ? GBA_OK
									 : GBA_ERR_NOT_AUTHORIZED;
	freeReplyObject(rep);
	return err;
}

/* One sentinel's answer: GBA_OK with the address, or why not. */
static gba_err ask_one(const struct redis_sentinels *s, unsigned i, struct timeval tv,
		       char host[REDIS_HOST_MAX], int *port)
{
	redisContext *c = redisConnectWithTimeout(s->host[i], s->port[i], tv);
	redisReply *rep = NULL;
	gba_err err;

	if (!c)
		return GBA_ERR_NO_MEMORY;
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		redisFree(c);
		return GBA_ERR_UNAVAILABLE;
	}
	err = redis_authenticate(c, &s->auth);
	if (!err) {
		rep = redisCommand(c, "SENTINEL get-master-addr-by-name %s", s->master);
		err = GBA_ERR_UNAVAILABLE;
	}
	if (rep && rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOAUTH", 6))
		err = GBA_ERR_NOT_AUTHORIZED;
	else if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
		 rep->element[0]->type == REDIS_REPLY_STRING &&
		 rep->element[1]->type == REDIS_REPLY_STRING) {
		char addr[REDIS_HOST_MAX + 8];
		int n = snprintf(addr, sizeof(addr), "%s:%s", rep->element[0]->str,
				 rep->element[1]->str);
		if (n > 0 && (size_t)n < sizeof(addr) && strchr(rep->element[0]->str, ':'))
			n = snprintf(addr, sizeof(addr), "[%s]:%s", rep->element[0]->str,
				     rep->element[1]->str);   /* IPv6 */
		if (n > 0 && (size_t)n < sizeof(addr))
			err = redis_parse_hostport(addr, (size_t)n, host, port) ? GBA_ERR_STORE
										 : GBA_OK;
	}
	if (rep)
		freeReplyObject(rep);
	redisFree(c);
	return err;
}

gba_err redis_sentinel_master(const struct redis_sentinels *s, struct timeval tv,
			      char host[REDIS_HOST_MAX], int *port)
{
	gba_err err = GBA_ERR_UNAVAILABLE;

	for (unsigned i = 0; i < s->n; i++) {
		gba_err e = ask_one(s, i, tv, host, port);
		if (!e)
			return GBA_OK;
		if (e == GBA_ERR_NOT_AUTHORIZED)
			err = e;   /* say so, unless another sentinel answers */
	}
	return err;
}

int redis_is_primary(redisContext *c)
{
	redisReply *rep = redisCommand(c, "ROLE");
	int primary = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
		      rep->element[0]->type == REDIS_REPLY_STRING &&
		      !strcmp(rep->element[0]->str, "master");

	if (rep)
		freeReplyObject(rep);
	return primary;
}
