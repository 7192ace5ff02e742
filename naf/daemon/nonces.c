/*
 * nonces.c - the single-use nonce table.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include <gba/util.h>

#include "nonces.h"

struct slot {
	uint8_t rand[12];
	int64_t expires_ms;   /* 0: empty */
};

struct nonces {
	pthread_mutex_t lock;
	unsigned n, next;
	int64_t lifetime_ms;
	struct slot *slot;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

gba_err nonces_new(struct nonces **out, unsigned slots, unsigned lifetime_s)
{
	if (!out || slots == 0 || lifetime_s == 0)
		return GBA_ERR_INVALID_ARG;
	struct nonces *t = calloc(1, sizeof(*t));
	if (!t || !(t->slot = calloc(slots, sizeof(*t->slot)))) {
		free(t);
		return GBA_ERR_NO_MEMORY;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->n = slots;
	t->lifetime_ms = (int64_t)lifetime_s * 1000;
	*out = t;
	return GBA_OK;
}

void nonces_free(struct nonces *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slot);
	free(t);
}

gba_err nonces_issue(struct nonces *t, char out[NONCE_HEX_LEN + 1])
{
	uint8_t raw[16];
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw + 4, 12))
		return GBA_ERR_UNAVAILABLE;
	pthread_mutex_lock(&t->lock);
	uint32_t i = t->next;
	t->next = (t->next + 1) % t->n;
	memcpy(t->slot[i].rand, raw + 4, 12);
	t->slot[i].expires_ms = now_ms() + t->lifetime_ms;
	pthread_mutex_unlock(&t->lock);
	raw[0] = (uint8_t)(i >> 24);
	raw[1] = (uint8_t)(i >> 16);
	raw[2] = (uint8_t)(i >> 8);
	raw[3] = (uint8_t)i;
	return gba_hex_encode(out, NONCE_HEX_LEN + 1, raw, sizeof(raw));
}

gba_err nonces_take(struct nonces *t, const char *nonce, size_t len)
{
	uint8_t raw[16];
	size_t got;
	if (len != NONCE_HEX_LEN || gba_hex_decode(raw, sizeof(raw), &got, nonce, len) ||
	    got != sizeof(raw))
		return GBA_ERR_NOT_FOUND;
	uint32_t i = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	if (i >= t->n)
		return GBA_ERR_NOT_FOUND;
	pthread_mutex_lock(&t->lock);
	struct slot *s = &t->slot[i];
	int ok = s->expires_ms > now_ms() && gba_ct_equal(s->rand, raw + 4, 12);
	if (ok)
		s->expires_ms = 0;
	pthread_mutex_unlock(&t->lock);
	return ok ? GBA_OK : GBA_ERR_NOT_FOUND;
}
