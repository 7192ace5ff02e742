/*
 * context.c - the bootstrapping context file: "key = value" lines, mode
 * 0600, written to a temporary file and renamed so a crash never leaves
 * half a context.  Ks is there for GBA_ME only (GBA_U keeps it in the card).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include <gba_conf.h>

#include "internal.h"

#define CONTEXT_FILE_MAX 4096

static int put(char *buf, size_t size, size_t *off, const char *key, const char *val)
{
	int n = snprintf(buf + *off, size - *off, "%s = %s\n", key, val);

	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

static int format_context(char *buf, size_t size, size_t *len,
			  const struct gba_client_context *ctx)
{
	char hex[65], num[32];
	size_t off = 0;
	int bad = 0;

	off = (size_t)snprintf(buf, size, "# gba-client bootstrapping context: secret, keep 0600\n");
	snprintf(num, sizeof(num), "%lld", (long long)ctx->lifetime);
	gba_hex_encode(hex, sizeof(hex), ctx->rand, 16);
	bad |= put(buf, size, &off, "btid", ctx->btid);
	bad |= put(buf, size, &off, "lifetime", num);
	bad |= put(buf, size, &off, "rand", hex);
	bad |= put(buf, size, &off, "impi", ctx->impi);
	bad |= put(buf, size, &off, "type", ctx->type == GBA_CLIENT_GBA_U ? "GBA_U" : "GBA_ME");
	bad |= put(buf, size, &off, "app", ctx->app == GBA_CLIENT_APP_ISIM ? "ISIM" : "USIM");
	bad |= put(buf, size, &off, "bsf_url", ctx->bsf_url);
	if (ctx->type == GBA_CLIENT_GBA_ME) {
		gba_hex_encode(hex, sizeof(hex), ctx->ks, 32);
		bad |= put(buf, size, &off, "ks", hex);
	}
	gba_wipe(hex, sizeof(hex));
	*len = off;
	return bad;
}

gba_client_err gba_client_context_save(const char *path, const struct gba_client_context *ctx,
				       char *msg, size_t msg_size)
{
	char buf[CONTEXT_FILE_MAX], tmp[4096];
	size_t len;
	int fd, bad;

	if (!path || !ctx)
		return GBA_CLIENT_ERR_INVALID_ARG;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "context path too long");
	if (format_context(buf, sizeof(buf), &len, ctx)) {
		gba_wipe(buf, sizeof(buf));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "context too large");
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		gba_wipe(buf, sizeof(buf));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s: %s", tmp, strerror(errno));
	}
	bad = fchmod(fd, 0600) || write(fd, buf, len) != (ssize_t)len || fsync(fd);
	bad |= close(fd);
	gba_wipe(buf, sizeof(buf));
	if (bad || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "cannot write %s: %s", path,
				   strerror(e));
	}
	return GBA_CLIENT_OK;
}

/* lifetime: seconds since the epoch, as written by format_context. */
static int set_lifetime(void *obj, const struct gba_conf_key *k, const char *v, char *why,
			size_t why_size)
{
	unsigned long long t;

	(void)k;
	if (gba_conf_decimal(v, strlen(v), &t) || t > INT64_MAX)
		return snprintf(why, why_size, "not a time in seconds"), -1;
	((struct gba_client_context *)obj)->lifetime = (time_t)t;
	return 0;
}

_Static_assert(sizeof(enum gba_client_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum gba_client_app) == sizeof(int), "enum size");

static const struct gba_conf_name type_names[] = {
	{ "GBA_ME", GBA_CLIENT_GBA_ME },
	{ "GBA_U", GBA_CLIENT_GBA_U },
	{ NULL, 0 },
};

static const struct gba_conf_name app_names[] = {
	{ "USIM", GBA_CLIENT_APP_USIM },
	{ "ISIM", GBA_CLIENT_APP_ISIM },
	{ NULL, 0 },
};

#define OFF(f) offsetof(struct gba_client_context, f)
#define SZ(f) sizeof(((struct gba_client_context *)0)->f)
#define REQ GBA_CONF_REQUIRED

/* The context file's keys; "app" came later (USIM when absent). */
static const struct gba_conf_key context_keys[] = {
	{ .section = "", .key = "btid", .type = GBA_CONF_STR, .off = OFF(btid), .size = SZ(btid),
	  .min = 1, .flags = REQ },
	{ .section = "", .key = "lifetime", .type = GBA_CONF_FUNC, .set = set_lifetime,
	  .flags = REQ },
	{ .section = "", .key = "rand", .type = GBA_CONF_HEX, .off = OFF(rand), .size = SZ(rand),
	  .min = 16, .max = 16, .len_off = GBA_CONF_NO_LEN, .flags = REQ },
	{ .section = "", .key = "impi", .type = GBA_CONF_STR, .off = OFF(impi), .size = SZ(impi),
	  .min = 1, .flags = REQ },
	{ .section = "", .key = "type", .type = GBA_CONF_ENUM, .off = OFF(type),
	  .names = type_names, .flags = REQ },
	{ .section = "", .key = "app", .type = GBA_CONF_ENUM, .off = OFF(app), .names = app_names },
	{ .section = "", .key = "bsf_url", .type = GBA_CONF_STR, .off = OFF(bsf_url),
	  .size = SZ(bsf_url) },
	{ .section = "", .key = "ks", .type = GBA_CONF_HEX, .off = OFF(ks), .size = SZ(ks),
	  .min = 32, .max = 32, .len_off = GBA_CONF_NO_LEN, .flags = GBA_CONF_SECRET },
};

static const struct gba_conf_spec context_spec = {
	.keys = context_keys, .n_keys = sizeof(context_keys) / sizeof(context_keys[0]),
	.flags = GBA_CONF_WIPE,
};

/* The file's text into ctx; -1 with "PATH:LINE: key 'x': reason" in err. */
static int parse_context(char *buf, size_t len, const char *path,
			 struct gba_client_context *ctx, char *err, size_t err_size)
{
	unsigned char seen[GBA_CONF_SEEN_SIZE(sizeof(context_keys) / sizeof(context_keys[0]))] = {
		0 };

	if (gba_conf_parse(&context_spec, ctx, path, buf, len, seen, err, err_size))
		return -1;
	/* Ks for GBA_ME, never for GBA_U: a file that says otherwise is not ours. */
	if (gba_conf_was_set(&context_spec, seen, "", "ks") != (ctx->type == GBA_CLIENT_GBA_ME))
		return snprintf(err, err_size, "%s: key 'ks': %s", path,
				ctx->type == GBA_CLIENT_GBA_ME ? "required with type GBA_ME" :
								 "not with type GBA_U"), -1;
	return 0;
}

gba_client_err gba_client_context_load(const char *path, struct gba_client_context *ctx,
				       char *msg, size_t msg_size)
{
	char buf[CONTEXT_FILE_MAX + 1], err[GBA_CONF_ERR_MAX];
	struct stat st;
	ssize_t n;
	int fd, bad;

	if (!path || !ctx)
		return GBA_CLIENT_ERR_INVALID_ARG;
	memset(ctx, 0, sizeof(*ctx));
	ctx->app = GBA_CLIENT_APP_USIM;   /* files from before "app" existed */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_NOT_FOUND,
				   "no bootstrapping context in %s", path);
	if (fd < 0)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "%s: not a regular file of ours with mode 0600 (refused: it "
				   "holds keys)", path);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > CONTEXT_FILE_MAX)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s: unreadable or too large",
				   path);
	bad = parse_context(buf, (size_t)n, path, ctx, err, sizeof(err));
	gba_wipe(buf, sizeof(buf));
	if (bad) {
		gba_wipe(ctx, sizeof(*ctx));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "not a valid context file: %s", err);
	}
	return GBA_CLIENT_OK;
}

int gba_client_context_expired(const struct gba_client_context *ctx, time_t now, unsigned margin)
{
	return !ctx || ctx->lifetime <= now + (time_t)margin;
}

gba_client_err gba_client_naf_key(struct gba_client_card *card,
				  const struct gba_client_context *ctx,
				  const char *naf_fqdn, const uint8_t ua_id[5],
				  uint8_t out[32], char *msg, size_t msg_size)
{
	uint8_t naf_id[256 + GBA_UA_ID_LEN];
	size_t naf_id_len;

	if (!ctx || !naf_fqdn || !ua_id || !out)
		return GBA_CLIENT_ERR_INVALID_ARG;
	if (gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, naf_fqdn, strlen(naf_fqdn), ua_id))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
				   "bad NAF FQDN '%.100s'", naf_fqdn);
	if (ctx->type == GBA_CLIENT_GBA_U) {
		if (!card)
			return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG,
					   "GBA_U: Ks_ext_NAF comes from the card, and no card is open");
		return gba_client_usim_ks_ext_naf(card, naf_id, naf_id_len, ctx->impi, out, msg,
						  msg_size);
	}
	if (gba_ks_naf(ctx->ks, ctx->rand, ctx->impi, strlen(ctx->impi), naf_id, naf_id_len, out))
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_INVALID_ARG, "Ks_NAF derivation failed");
	return GBA_CLIENT_OK;
}
