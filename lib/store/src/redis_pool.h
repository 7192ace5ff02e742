/*
 * redis_pool.h - what the project's Redis back ends share (the BSF's
 * session store here, gba-naf's key store in naf/daemon): the URI, a small
 * pool of hiredis connections and pipelines run on it.
 *
 *   HOST:PORT[/DB][?pool=N&timeout_ms=N&user=NAME&auth_file=PATH]
 *                                        (what follows "redis://")
 *
 * A hiredis context serves one thread at a time, so the pool keeps N
 * connections (default 4), each behind its own mutex; a caller takes a
 * free one or waits for one.  A connection that fails is dropped and the
 * pipeline sent once more on a fresh one, so every pipeline run here must
 * be safe to run twice; if that fails too, the caller gets
 * GBA_ERR_UNAVAILABLE.  Redis 7 or newer is required (EXPIREAT NX/GT);
 * open() checks the server's redis_version.
 *
 * Internal to the project: not part of any public header.
 */
#ifndef GBA_REDIS_POOL_H
#define GBA_REDIS_POOL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include <gba/error.h>

#define REDIS_CMD_ARGS_MAX 16

/* One command of a pipeline: arguments point at the caller's memory. */
struct redis_cmd {
	int argc;
	const char *argv[REDIS_CMD_ARGS_MAX];
	size_t len[REDIS_CMD_ARGS_MAX];
};

/* Append an argument (binary-safe, or a C string). */
void redis_cmd_arg(struct redis_cmd *c, const void *p, size_t len);
void redis_cmd_str(struct redis_cmd *c, const char *s);

struct redis_pool;

/*
 * Parse spec and check the server.  GBA_ERR_INVALID_ARG for a spec that is
 * not of the form above (or an auth_file that cannot be read),
 * GBA_ERR_UNAVAILABLE when no server answers, GBA_ERR_NOT_AUTHORIZED when
 * it refuses the password or wants one, GBA_ERR_UNSUPPORTED for a Redis
 * older than 7, GBA_ERR_NO_MEMORY.
 */
gba_err redis_pool_open(struct redis_pool **out, const char *spec);
void redis_pool_close(struct redis_pool *p);

/* Send n commands in one write and read their n replies into rep (the
 * caller frees them with redis_free_replies).  GBA_ERR_UNAVAILABLE (rep
 * freed) when the server is down, or answers one of them with an error
 * that means "not now" (LOADING after a restart, BUSY, MASTERDOWN,
 * TRYAGAIN). */
gba_err redis_pool_run(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
		       redisReply **rep);

void redis_free_replies(redisReply **rep, size_t n);

/* EXEC's answer: GBA_OK for an array with no error in it, else GBA_ERR_STORE. */
gba_err redis_exec_result(const redisReply *exec);

#endif /* GBA_REDIS_POOL_H */
