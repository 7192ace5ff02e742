/*
 * keystore_redis.c - gba-naf's key store on Redis (hiredis), store URI
 *   redis://HOST:PORT[/DB][?pool=N&timeout_ms=N]
 *   redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER[?db=N&wait=N&...]
 *
 * Several gba-naf processes behind one address point at one Redis and so
 * share enrolments, session keys and revocations: a node may enrol and
 * register a key through one of them and its target fetch the key through
 * another; a revocation through any of them holds for all.
 *
 * Layout (all keys under "naf:", so one Redis database may also hold the
 * BSF's sessions, whose keys start "s:", "g:" and "d"):
 *   naf:n:KMID    hash impi, node, kcv, exp, enr      an enrolment (no Km)
 *   naf:ni:IMPI   set of KmIDs                        enrolments of an IMPI
 *   naf:nn:NODE   set of KmIDs                        enrolments of a node id
 *   naf:k:KEYID   hash kmid, node, suid, target,      a session key; kc is
 *                 kc (32 raw octets), exp             the secret Kc
 *   naf:nk:NODE   set of key ids                      keys a node registered
 *   naf:r:WHO     string: Unix time of the revocation a revoked IMPI/node id
 * exp and enr are decimal Unix seconds.  Records carry a TTL (EXPIREAT) at
 * their expiry, so Redis forgets them itself and ks_purge has nothing to
 * do; the index sets live as long as their longest member (EXPIREAT NX,
 * then GT) and may name records that are gone, which every reader allows
 * for.  Revocations have no TTL: they last until reinstated.
 *
 * Atomicity.  An enrolment is one MULTI/EXEC.  Registering a key, fetching
 * one and revoking are Lua scripts (EVAL), which Redis runs as one step
 * with no other command in between, whichever process sent it:
 *   - revoke marks the IMPIs and node ids revoked, deletes every key in the
 *     nodes' naf:nk sets and their enrolments, all in one script;
 *   - register refuses (GBA_ERR_NOT_AUTHORIZED) when the node id or the
 *     IMPI of its enrolment is revoked, so a key can not slip in after a
 *     revocation that another process ran between the daemon's check and
 *     its write;
 *   - fetch checks the same revoked markers before it answers.
 * So a target can never retrieve a key of a revoked node through any NAF.
 * The scripts touch keys they derive from values (not all passed in KEYS),
 * which a single Redis (or a replicated primary) allows and Redis Cluster
 * does not: use one primary.
 *
 * Secrets: Kc is sent in the register command and read back in a reply.
 * The reply's copy is wiped here; hiredis's output buffer (and Redis's own
 * memory, its replicas and any RDB/AOF file) can not be wiped from here:
 * like lib/store's session store, run Redis on a trusted host, bound to
 * loopback or a private network, without persistence or with its files
 * protected like the SQLite store's 0600 file.
 *
 * The URI, the connection pool and the retry of a dropped connection are
 * lib/store's redis_pool.h, shared with the BSF's session store.  Every
 * command here may run twice: a register that did run the first time
 * answers "exists" and the daemon picks another key id.  With
 * redis-sentinel:// a write is followed by WAIT when wait=N is set, and
 * fewer replicas in time gives GBA_ERR_STORE_UNWRITABLE (503, no Km).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include <gba/util.h>

#include "keystore.h"
#include "keystore_backend.h"
#include "redis_pool.h"

#define PREFIX "naf:"
#define RKEY_MAX (sizeof(PREFIX) + 3 + KS_ID_MAX)
#define SCAN_COUNT "1000"

struct redis_ks {
	struct keystore base;
	struct redis_pool *pool;
};

/* A Redis key name: PREFIX kind ":" id. */
struct rkey {
	char s[RKEY_MAX];
	size_t len;
};

static struct redis_ks *from_base(struct keystore *ks)
{
	return (struct redis_ks *)ks;
}

static void cmd_key(struct redis_cmd *c, const struct rkey *k)
{
	redis_cmd_arg(c, k->s, k->len);
}

/* GBA_ERR_INVALID_ARG when id is too long for a store id. */
static gba_err rkey(struct rkey *k, const char *kind, const char *id)
{
	int n = snprintf(k->s, sizeof(k->s), PREFIX "%s:%s", kind, id ? id : "");
	if (n < 0 || (size_t)n >= sizeof(k->s))
		return GBA_ERR_INVALID_ARG;
	k->len = (size_t)n;
	return GBA_OK;
}

/* ---- connections ------------------------------------------------------- */

/* A bulk string of at most max-1 octets with no NUL, into out. */
static int reply_text(const redisReply *rep, char *out, size_t max)
{
	if (rep->type != REDIS_REPLY_STRING || rep->len >= max || memchr(rep->str, '\0', rep->len))
		return -1;
	memcpy(out, rep->str, rep->len);
	out[rep->len] = '\0';
	return 0;
}

static int reply_int64(const redisReply *rep, int64_t *v)
{
	char num[24], *end;

	if (reply_text(rep, num, sizeof(num)) || !num[0])
		return -1;
	long long x = strtoll(num, &end, 10);
	if (*end)
		return -1;
	*v = (int64_t)x;
	return 0;
}

/* ---- scripts ----------------------------------------------------------- */

/*
 * KEYS: naf:k:ID, naf:nk:NODE, naf:r:NODE, naf:n:KMID
 * ARGV: key id, kmid, node, suid, target, kc, exp, exat
 * 1 stored, 0 the key id is taken, -1 the node or its IMPI is revoked.
 */
static const char PUT_KEY_LUA[] =
	"if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end\n"
	"local impi = redis.call('HGET', KEYS[4], 'impi')\n"
	"if impi and impi ~= '' and redis.call('EXISTS', '" PREFIX "r:' .. impi) == 1 then\n"
	"  return -1 end\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'kmid', ARGV[2], 'node', ARGV[3], 'suid', ARGV[4],\n"
	"  'target', ARGV[5], 'kc', ARGV[6], 'exp', ARGV[7])\n"
	"redis.call('EXPIREAT', KEYS[1], ARGV[8])\n"
	"redis.call('SADD', KEYS[2], ARGV[1])\n"
	"redis.call('EXPIREAT', KEYS[2], ARGV[8], 'NX')\n"
	"redis.call('EXPIREAT', KEYS[2], ARGV[8], 'GT')\n"
	"return 1\n";

/*
 * KEYS: naf:k:ID.  The key's fields, or nil when it is unknown or its node
 * (or the IMPI of the enrolment it was registered under) is revoked; such
 * a key is deleted.
 */
static const char GET_KEY_LUA[] =
	"local v = redis.call('HMGET', KEYS[1], 'kmid', 'node', 'suid', 'target', 'kc', 'exp')\n"
	"if not v[1] then return false end\n"
	"local impi = redis.call('HGET', '" PREFIX "n:' .. v[1], 'impi')\n"
	"if (v[2] and redis.call('EXISTS', '" PREFIX "r:' .. v[2]) == 1) or\n"
	"   (impi and impi ~= '' and redis.call('EXISTS', '" PREFIX "r:' .. impi) == 1) then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  return false\n"
	"end\n"
	"return v\n";

/*
 * ARGV: who (KmID, IMPI or node id), now.  Finds the enrolments who names,
 * marks their IMPIs and node ids revoked (who itself when none), deletes
 * the keys those node ids registered and every enrolment of those IMPIs and
 * node ids.  Answers {matched, deleted KmIDs...}.
 */
static const char REVOKE_LUA[] =
	"local P, who, now = '" PREFIX "', ARGV[1], ARGV[2]\n"
	"local cand = {}\n"
	"if redis.call('EXISTS', P .. 'n:' .. who) == 1 then cand[#cand + 1] = who end\n"
	"for _, m in ipairs(redis.call('SMEMBERS', P .. 'ni:' .. who)) do cand[#cand + 1] = m end\n"
	"for _, m in ipairs(redis.call('SMEMBERS', P .. 'nn:' .. who)) do cand[#cand + 1] = m end\n"
	"local impis, nodes, matched = {}, {}, 0\n"
	"for _, k in ipairs(cand) do\n"
	"  local r = redis.call('HMGET', P .. 'n:' .. k, 'impi', 'node')\n"
	"  if r[1] and (k == who or r[1] == who or r[2] == who) then\n"
	"    matched = matched + 1\n"
	"    if r[1] ~= '' then impis[r[1]] = true end\n"
	"    if r[2] and r[2] ~= '' then nodes[r[2]] = true end\n"
	"  end\n"
	"end\n"
	"if matched == 0 and who ~= '' then nodes[who] = true end\n"
	"local gone, seen = {matched}, {}\n"
	"local function drop_nodes(set)\n"
	"  for _, k in ipairs(redis.call('SMEMBERS', set)) do\n"
	"    if not seen[k] then\n"
	"      seen[k] = true\n"
	"      if redis.call('DEL', P .. 'n:' .. k) == 1 then gone[#gone + 1] = k end\n"
	"    end\n"
	"  end\n"
	"  redis.call('DEL', set)\n"
	"end\n"
	"for i in pairs(impis) do\n"
	"  redis.call('SET', P .. 'r:' .. i, now, 'NX')\n"
	"  drop_nodes(P .. 'ni:' .. i)\n"
	"end\n"
	"for n in pairs(nodes) do\n"
	"  redis.call('SET', P .. 'r:' .. n, now, 'NX')\n"
	"  for _, id in ipairs(redis.call('SMEMBERS', P .. 'nk:' .. n)) do\n"
	"    redis.call('DEL', P .. 'k:' .. id)\n"
	"  end\n"
	"  redis.call('DEL', P .. 'nk:' .. n)\n"
	"  drop_nodes(P .. 'nn:' .. n)\n"
	"end\n"
	"return gone\n";

/* ---- the operations ---------------------------------------------------- */

static gba_err rd_put_node(struct keystore *base, const struct ks_node *n)
{
	struct redis_ks *r = from_base(base);
	struct rkey kn, ki, kk;
	char exp[24], enr[24], exat[24];
	struct redis_cmd cmd[12] = { 0 };     /* 11 commands: MULTI ... EXEC */
	redisReply *rep[12] = { 0 };
	size_t c = 0;

	if (rkey(&kn, "n", n->kmid) || rkey(&ki, "ni", n->impi) || rkey(&kk, "nn", n->node_id))
		return GBA_ERR_INVALID_ARG;
	snprintf(exp, sizeof(exp), "%lld", (long long)n->expires);
	snprintf(enr, sizeof(enr), "%lld", (long long)n->enrolled);
	/* EXAT must be positive; 1 (1970) makes an expired record vanish at once. */
	snprintf(exat, sizeof(exat), "%lld", (long long)(n->expires > 0 ? n->expires : 1));
	redis_cmd_str(&cmd[c++], "MULTI");
	redis_cmd_str(&cmd[c], "DEL");
	cmd_key(&cmd[c++], &kn);
	redis_cmd_str(&cmd[c], "HSET");
	cmd_key(&cmd[c], &kn);
	redis_cmd_str(&cmd[c], "impi");
	redis_cmd_str(&cmd[c], n->impi);
	redis_cmd_str(&cmd[c], "node");
	redis_cmd_str(&cmd[c], n->node_id);
	redis_cmd_str(&cmd[c], "kcv");
	redis_cmd_arg(&cmd[c], n->km_kcv, strnlen(n->km_kcv, sizeof(n->km_kcv)));
	redis_cmd_str(&cmd[c], "exp");
	redis_cmd_str(&cmd[c], exp);
	redis_cmd_str(&cmd[c], "enr");
	redis_cmd_str(&cmd[c++], enr);
	redis_cmd_str(&cmd[c], "EXPIREAT");
	cmd_key(&cmd[c], &kn);
	redis_cmd_str(&cmd[c++], exat);
	const struct rkey *idx[2] = { &ki, &kk };
	for (int i = 0; i < 2; i++) {
		redis_cmd_str(&cmd[c], "SADD");
		cmd_key(&cmd[c], idx[i]);
		redis_cmd_str(&cmd[c++], n->kmid);
		/* A new set has no TTL: NX gives it this one, GT keeps the longest. */
		redis_cmd_str(&cmd[c], "EXPIREAT");
		cmd_key(&cmd[c], idx[i]);
		redis_cmd_str(&cmd[c], exat);
		redis_cmd_str(&cmd[c++], "NX");
		redis_cmd_str(&cmd[c], "EXPIREAT");
		cmd_key(&cmd[c], idx[i]);
		redis_cmd_str(&cmd[c], exat);
		redis_cmd_str(&cmd[c++], "GT");
	}
	redis_cmd_str(&cmd[c++], "EXEC");
	gba_err err = redis_pool_write(r->pool, cmd, c, rep);
	if (err)
		return err;
	err = redis_exec_result(rep[c - 1]);
	redis_free_replies(rep, c);
	return err;
}

static gba_err get_node_once(struct redis_ks *r, const char *kmid, struct ks_node *out)
{
	struct rkey kn;
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;

	if (rkey(&kn, "n", kmid))
		return GBA_ERR_NOT_FOUND;
	redis_cmd_str(&cmd, "HMGET");
	cmd_key(&cmd, &kn);
	redis_cmd_str(&cmd, "impi");
	redis_cmd_str(&cmd, "node");
	redis_cmd_str(&cmd, "kcv");
	redis_cmd_str(&cmd, "exp");
	redis_cmd_str(&cmd, "enr");
	gba_err err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 5)
		err = GBA_ERR_STORE;
	else if (rep->element[0]->type == REDIS_REPLY_NIL)
		err = GBA_ERR_NOT_FOUND;
	else if (reply_text(rep->element[0], out->impi, sizeof(out->impi)) ||
		 reply_text(rep->element[1], out->node_id, sizeof(out->node_id)) ||
		 reply_text(rep->element[2], out->km_kcv, sizeof(out->km_kcv)) ||
		 reply_int64(rep->element[3], &out->expires) ||
		 reply_int64(rep->element[4], &out->enrolled))
		err = GBA_ERR_STORE;
	else
		snprintf(out->kmid, sizeof(out->kmid), "%s", kmid);
	freeReplyObject(rep);
	return err;
}

/* A miss just after a failover is asked of the new primary (redis_pool_moved). */
static gba_err rd_get_node(struct keystore *base, const char *kmid, struct ks_node *out)
{
	struct redis_ks *r = from_base(base);
	gba_err err = get_node_once(r, kmid, out);

	if (err == GBA_ERR_NOT_FOUND && redis_pool_moved(r->pool))
		err = get_node_once(r, kmid, out);
	return err;
}

static gba_err rd_put_key(struct keystore *base, const struct ks_key *k)
{
	struct redis_ks *r = from_base(base);
	struct rkey kk, knk, kr, kn;
	char exp[24], exat[24];
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;

	if (rkey(&kk, "k", k->key_id) || rkey(&knk, "nk", k->node_id) ||
	    rkey(&kr, "r", k->node_id) || rkey(&kn, "n", k->kmid))
		return GBA_ERR_INVALID_ARG;
	snprintf(exp, sizeof(exp), "%lld", (long long)k->expires);
	snprintf(exat, sizeof(exat), "%lld", (long long)(k->expires > 0 ? k->expires : 1));
	redis_cmd_str(&cmd, "EVAL");
	redis_cmd_arg(&cmd, PUT_KEY_LUA, sizeof(PUT_KEY_LUA) - 1);
	redis_cmd_str(&cmd, "4");
	cmd_key(&cmd, &kk);
	cmd_key(&cmd, &knk);
	cmd_key(&cmd, &kr);
	cmd_key(&cmd, &kn);
	redis_cmd_str(&cmd, k->key_id);
	redis_cmd_str(&cmd, k->kmid);
	redis_cmd_str(&cmd, k->node_id);
	redis_cmd_str(&cmd, k->suid);
	redis_cmd_str(&cmd, k->target);
	/* hiredis copies Kc into its output buffer, which it frees unwiped. */
	const uint8_t *kc;
	size_t kc_len;
	ks_kc_stored(k, &kc, &kc_len);
	redis_cmd_arg(&cmd, kc, kc_len);
	redis_cmd_str(&cmd, exp);
	redis_cmd_str(&cmd, exat);
	gba_err err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_INTEGER)
		err = GBA_ERR_STORE;
	else if (rep->integer == 0)
		err = GBA_ERR_EXISTS;
	else if (rep->integer < 0)
		err = GBA_ERR_NOT_AUTHORIZED;   /* revoked meanwhile, by any NAF */
	freeReplyObject(rep);
	return err;
}

static gba_err del_key(struct redis_ks *r, const struct rkey *kk)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;

	redis_cmd_str(&cmd, "DEL");
	cmd_key(&cmd, kk);
	gba_err err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (!err)
		freeReplyObject(rep);
	return err;
}

static gba_err get_key_once(struct redis_ks *r, const char *key_id, int64_t now,
			   struct ks_key *out)
{
	struct rkey kk;
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;

	if (rkey(&kk, "k", key_id))
		return GBA_ERR_NOT_FOUND;
	redis_cmd_str(&cmd, "EVAL");
	redis_cmd_arg(&cmd, GET_KEY_LUA, sizeof(GET_KEY_LUA) - 1);
	redis_cmd_str(&cmd, "1");
	cmd_key(&cmd, &kk);
	gba_err err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_NIL) {
		err = GBA_ERR_NOT_FOUND;
	} else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) {
		err = GBA_ERR_STORE;
	} else {
		redisReply **e = rep->element;
		if (reply_text(e[0], out->kmid, sizeof(out->kmid)) ||
		    reply_text(e[1], out->node_id, sizeof(out->node_id)) ||
		    reply_text(e[2], out->suid, sizeof(out->suid)) ||
		    reply_text(e[3], out->target, sizeof(out->target)) ||
		    reply_int64(e[5], &out->expires) || e[4]->type != REDIS_REPLY_STRING ||
		    ks_kc_load(out, e[4]->str, e[4]->len))
			err = GBA_ERR_STORE;
		if (e[4]->type == REDIS_REPLY_STRING)
			gba_wipe(e[4]->str, e[4]->len);   /* it held Kc */
		if (!err)
			snprintf(out->key_id, sizeof(out->key_id), "%s", key_id);
	}
	freeReplyObject(rep);
	if (!err && out->expires <= now) {
		/* An expired key is gone for good (our clock may run ahead of Redis's). */
		gba_wipe(out->kc, sizeof(out->kc));
		del_key(r, &kk);
		err = GBA_ERR_NOT_FOUND;
	}
	return err;
}

static gba_err rd_get_key(struct keystore *base, const char *key_id, int64_t now,
			  struct ks_key *out)
{
	struct redis_ks *r = from_base(base);
	gba_err err = get_key_once(r, key_id, now, out);

	if (err == GBA_ERR_NOT_FOUND && redis_pool_moved(r->pool))
		err = get_key_once(r, key_id, now, out);
	return err;
}

static gba_err rd_revoke(struct keystore *base, const char *who, char (*kmids)[KS_ID_MAX + 1],
			 unsigned max_kmids, unsigned *n_kmids)
{
	struct redis_ks *r = from_base(base);
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	char now[24];

	*n_kmids = 0;
	if (strlen(who) > KS_ID_MAX)
		return GBA_ERR_INVALID_ARG;
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	redis_cmd_str(&cmd, "EVAL");
	redis_cmd_arg(&cmd, REVOKE_LUA, sizeof(REVOKE_LUA) - 1);
	redis_cmd_str(&cmd, "0");
	redis_cmd_str(&cmd, who);
	redis_cmd_str(&cmd, now);
	gba_err err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER) {
		err = GBA_ERR_STORE;
	} else {
		for (size_t i = 1; i < rep->elements && *n_kmids < max_kmids; i++)
			if (!reply_text(rep->element[i], kmids[*n_kmids], sizeof(kmids[0])))
				(*n_kmids)++;
	}
	freeReplyObject(rep);
	return err;
}

static gba_err rd_reinstate(struct keystore *base, const char *who)
{
	struct redis_ks *r = from_base(base);
	struct rkey kr;
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;

	if (rkey(&kr, "r", who))
		return GBA_ERR_NOT_FOUND;
	redis_cmd_str(&cmd, "DEL");
	cmd_key(&cmd, &kr);
	gba_err err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_INTEGER)
		err = GBA_ERR_STORE;
	else if (rep->integer == 0)
		err = GBA_ERR_NOT_FOUND;
	freeReplyObject(rep);
	return err;
}

static int rd_is_revoked(struct keystore *base, const char *impi, const char *node_id)
{
	struct redis_ks *r = from_base(base);
	struct rkey k[2];
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	const char *names[2] = { impi, node_id };

	redis_cmd_str(&cmd, "EXISTS");
	for (int i = 0; i < 2; i++) {
		if (!names[i] || !names[i][0])
			continue;
		if (rkey(&k[i], "r", names[i]))
			return 1;
		cmd_key(&cmd, &k[i]);
	}
	if (cmd.argc == 1)
		return 0;
	if (redis_pool_run(r->pool, &cmd, 1, &rep))
		return 1;   /* a failing store counts as revoked: refuse rather than issue */
	int revoked = rep->type != REDIS_REPLY_INTEGER || rep->integer > 0;
	freeReplyObject(rep);
	return revoked;
}

static gba_err rd_purge(struct keystore *base, int64_t now, unsigned *n)
{
	/* Redis drops each record when its TTL ends. */
	(void)base;
	(void)now;
	if (n)
		*n = 0;
	return GBA_OK;
}

/* Counts by one SCAN of naf:*: O(keys) work for Redis, for the admin port. */
static gba_err rd_counts(struct keystore *base, unsigned *nodes, unsigned *keys,
			 unsigned *revoked)
{
	struct redis_ks *r = from_base(base);
	char cursor[32] = "0";
	gba_err err = GBA_OK;

	*nodes = *keys = *revoked = 0;
	do {
		struct redis_cmd cmd = { 0 };
		redisReply *rep = NULL;
		redis_cmd_str(&cmd, "SCAN");
		redis_cmd_str(&cmd, cursor);
		redis_cmd_str(&cmd, "MATCH");
		redis_cmd_str(&cmd, PREFIX "*");
		redis_cmd_str(&cmd, "COUNT");
		redis_cmd_str(&cmd, SCAN_COUNT);
		err = redis_pool_run(r->pool, &cmd, 1, &rep);
		if (err)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    reply_text(rep->element[0], cursor, sizeof(cursor)) ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			err = GBA_ERR_STORE;
			break;
		}
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];
			if (k->type != REDIS_REPLY_STRING || k->len < sizeof(PREFIX) + 1)
				continue;
			const char *kind = k->str + sizeof(PREFIX) - 1;
			if (kind[1] != ':')
				continue;
			if (kind[0] == 'n')
				(*nodes)++;
			else if (kind[0] == 'k')
				(*keys)++;
			else if (kind[0] == 'r')
				(*revoked)++;
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return err;
}

static void rd_close(struct keystore *base)
{
	struct redis_ks *r = from_base(base);

	redis_pool_close(r->pool);
	free(r);
}

static const struct ks_ops redis_ops = {
	.put_node = rd_put_node,
	.get_node = rd_get_node,
	.put_key = rd_put_key,
	.get_key = rd_get_key,
	.revoke = rd_revoke,
	.reinstate = rd_reinstate,
	.is_revoked = rd_is_revoked,
	.purge = rd_purge,
	.counts = rd_counts,
	.close = rd_close,
};

/* ---- opening ----------------------------------------------------------- */

gba_err ks_redis_open(struct keystore **out, const char *spec, int sentinel)
{
	struct redis_ks *r = calloc(1, sizeof(*r));

	if (!r)
		return GBA_ERR_NO_MEMORY;
	gba_err err = sentinel ? redis_pool_open_sentinel(&r->pool, spec)
			       : redis_pool_open(&r->pool, spec);
	if (err) {
		free(r);
		return err;
	}
	r->base.ops = &redis_ops;
	*out = &r->base;
	return GBA_OK;
}
