/*
 * redis_pool.h - what the project's Redis back ends share (the BSF's
 * session store here, gba-naf's key store in naf/daemon): the URI, a small
 * pool of hiredis connections and pipelines run on it.
 *
 *   HOST:PORT[/DB][?pool=N&timeout_ms=N&user=NAME&auth_file=PATH]
 *                                        (what follows "redis://")
 *   HOST:PORT[,HOST:PORT...]/MASTER[?db=N&wait=N&wait_ms=N&failover_ms=N
 *        &sentinel_user=NAME&sentinel_auth_file=PATH&...the options above]
 *                                        (what follows "redis-sentinel://")
 *
 * A hiredis context serves one thread at a time, so the pool keeps N
 * connections (default 4), each behind its own mutex; a caller takes a
 * free one or waits for one.  A connection that fails is dropped and the
 * pipeline sent once more on a fresh one, so every pipeline run here must
 * be safe to run twice; if that fails too, the caller gets
 * GBA_ERR_UNAVAILABLE.  Redis 7 or newer is required (EXPIREAT NX/GT);
 * open() checks the server's redis_version.
 *
 * With sentinels (redis_sentinel.h) the pool asks them for the primary,
 * checks with ROLE that it is one, and on a broken connection or a
 * READONLY/MASTERDOWN/LOADING answer asks again and resends, for up to
 * failover_ms (default 10000): a failover delays a call rather than fails
 * it.  A write (redis_pool_write) is followed by WAIT wait (wait_ms,
 * default 1000) when wait > 0: fewer replicas in time gives
 * GBA_ERR_STORE_UNWRITABLE, and the caller must not acknowledge the write
 * (it is on the primary, but a failover now could lose it).
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
gba_err redis_pool_open_sentinel(struct redis_pool **out, const char *spec);
void redis_pool_close(struct redis_pool *p);

/* Send n commands in one write and read their n replies into rep (the
 * caller frees them with redis_free_replies).  GBA_ERR_UNAVAILABLE (rep
 * freed) when the server is down, or answers one of them with an error
 * that means "not now" (LOADING after a restart, BUSY, MASTERDOWN,
 * TRYAGAIN). */
gba_err redis_pool_run(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
		       redisReply **rep);

/* The same for a pipeline that writes: WAITs for the replicas when asked
 * to (see above). */
gba_err redis_pool_write(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
			 redisReply **rep);

/*
 * After a read that found nothing: with sentinels, ask them whether the
 * primary has moved since we connected; 1 when it has (the caller reads
 * once more, from the new primary), 0 when not or without sentinels.  At
 * most one ask per 100 ms per pool (a flood of unknown B-TIDs must not
 * become a flood of sentinel queries); misses in between answer 0.
 */
int redis_pool_moved(struct redis_pool *p);

void redis_free_replies(redisReply **rep, size_t n);

/* EXEC's answer: GBA_OK for an array with no error in it, else GBA_ERR_STORE. */
gba_err redis_exec_result(const redisReply *exec);

#endif /* GBA_REDIS_POOL_H */
