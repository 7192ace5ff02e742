/*
 * context.c - the bootstrapping context file: "key = value" lines, mode
 * 0600, written to a temporary file and renamed so a crash never leaves
 * half a context.  Ks is there for GBA_ME only (GBA_U keeps it in the card).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gba/kdf.h>
#include <gba/util.h>

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

static int set_field(struct gba_client_context *ctx, const char *k, const char *v, unsigned *seen)
{
	size_t vl = strlen(v), n;
	char *end;

	if (!strcmp(k, "btid") && vl <= GBA_CLIENT_BTID_MAX) {
		memcpy(ctx->btid, v, vl + 1);
		*seen |= 1;
	} else if (!strcmp(k, "lifetime")) {
		long long t = strtoll(v, &end, 10);
		if (*end || end == v || t < 0)
			return -1;
		ctx->lifetime = (time_t)t;
		*seen |= 2;
	} else if (!strcmp(k, "rand")) {
		if (gba_hex_decode(ctx->rand, 16, &n, v, vl) || n != 16)
			return -1;
		*seen |= 4;
	} else if (!strcmp(k, "impi") && vl <= GBA_CLIENT_IMPI_MAX && vl > 0) {
		memcpy(ctx->impi, v, vl + 1);
		*seen |= 8;
	} else if (!strcmp(k, "type")) {
		if (!strcmp(v, "GBA_U"))
			ctx->type = GBA_CLIENT_GBA_U;
		else if (!strcmp(v, "GBA_ME"))
			ctx->type = GBA_CLIENT_GBA_ME;
		else
			return -1;
		*seen |= 16;
	} else if (!strcmp(k, "ks")) {
		if (gba_hex_decode(ctx->ks, 32, &n, v, vl) || n != 32)
			return -1;
		*seen |= 32;
	} else if (!strcmp(k, "app") && (!strcmp(v, "USIM") || !strcmp(v, "ISIM"))) {
		ctx->app = v[0] == 'I' ? GBA_CLIENT_APP_ISIM : GBA_CLIENT_APP_USIM;
	} else if (!strcmp(k, "bsf_url") && vl < sizeof(ctx->bsf_url)) {
		memcpy(ctx->bsf_url, v, vl + 1);
	} else {
		return -1;
	}
	return 0;
}

static int parse_context(char *buf, struct gba_client_context *ctx, unsigned *line_no)
{
	unsigned seen = 0;
	char *save = NULL;

	*line_no = 0;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *k, *v, *e;
		(*line_no)++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		k = line;
		v = eq + 1;
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (set_field(ctx, k, v, &seen))
			return -1;
	}
	/* Ks for GBA_ME, never for GBA_U: a file that says otherwise is not ours. */
	if ((seen & 31) != 31 || !!(seen & 32) != (ctx->type == GBA_CLIENT_GBA_ME))
		return -1;
	return 0;
}

gba_client_err gba_client_context_load(const char *path, struct gba_client_context *ctx,
				       char *msg, size_t msg_size)
{
	char buf[CONTEXT_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	unsigned line;
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
	buf[n] = '\0';
	bad = memchr(buf, '\0', (size_t)n) != NULL || parse_context(buf, ctx, &line);
	gba_wipe(buf, sizeof(buf));
	if (bad) {
		gba_wipe(ctx, sizeof(*ctx));
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "%s: not a valid context file", path);
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
