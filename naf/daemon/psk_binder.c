/*
 * psk_binder.c - the TLS 1.3 PSK binder of a ClientHello, checked here
 * (RFC 8446 4.2.11.2, external PSK, SHA-256) so that a wrong key ends
 * with decrypt_error: GnuTLS 3.7 fails the handshake itself on a binder
 * that does not verify but sends no alert, and libmicrohttpd closes.
 */
#include <stdint.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <gba/util.h>

#include "psk_binder.h"

#define EXT_PRE_SHARED_KEY 41
#define HASH_LEN SHA256_DIGEST_SIZE

/* A bounded reader over one message. */
struct rd {
	const uint8_t *p;
	size_t len, at;
	int bad;
};

static size_t get(struct rd *r, size_t n)
{
	size_t v = 0;

	if (r->bad || r->len - r->at < n) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[r->at + i];
	r->at += n;
	return v;
}

static void skip(struct rd *r, size_t n)
{
	if (r->bad || r->len - r->at < n)
		r->bad = 1;
	else
		r->at += n;
}

/*
 * In the pre_shared_key extension at r (its data, size n): the binder of
 * the first identity with obfuscated_ticket_age 0 (the one GnuTLS asks a
 * key for), and where the binders list starts (what Truncate() keeps).
 */
static int psk_ext(struct rd *r, size_t n, uint8_t binder[HASH_LEN], size_t *binders_at)
{
	size_t end = r->at + n, idx = 0, want = SIZE_MAX;
	size_t ids_len = get(r, 2), ids_end = r->at + ids_len;

	for (size_t i = 0; !r->bad && r->at < ids_end; i++) {
		skip(r, get(r, 2));
		if (get(r, 4) == 0 && want == SIZE_MAX)
			want = i;
	}
	*binders_at = r->at;
	size_t binders_len = get(r, 2), binders_end = r->at + binders_len;
	for (; !r->bad && r->at < binders_end; idx++) {
		size_t len = get(r, 1);
		if (idx == want && len == HASH_LEN && !r->bad && r->len - r->at >= HASH_LEN)
			memcpy(binder, r->p + r->at, HASH_LEN);
		else if (idx == want)
			return -1;
		skip(r, len);
	}
	return r->bad || want >= idx || r->at != end ? -1 : 0;
}

int psk_binder_from_hello(const uint8_t *ch, size_t len, uint8_t hash[32], uint8_t binder[32])
{
	struct rd r = { ch, len, 0, 0 };
	size_t binders_at = 0;
	uint8_t head[4] = { 1, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	int found = 0;

	skip(&r, 2 + 32);
	skip(&r, get(&r, 1));     /* legacy_session_id */
	skip(&r, get(&r, 2));     /* cipher_suites */
	skip(&r, get(&r, 1));     /* legacy_compression_methods */
	size_t exts_len = get(&r, 2), exts_end = r.at + exts_len;
	while (!r.bad && !found && r.at < exts_end) {
		size_t type = get(&r, 2), n = get(&r, 2);
		if (type != EXT_PRE_SHARED_KEY) {
			skip(&r, n);
			continue;
		}
		/* pre_shared_key is the last extension (RFC 8446 4.2.11). */
		if (psk_ext(&r, n, binder, &binders_at) || r.at != len)
			return -1;
		found = 1;
	}
	if (r.bad || !found || len >= 1u << 24)
		return -1;
	/* Transcript-Hash(Truncate(ClientHello)): its header keeps the full length. */
	struct sha256_ctx h;
	sha256_init(&h);
	sha256_update(&h, sizeof(head), head);
	sha256_update(&h, binders_at, ch);
	sha256_digest(&h, HASH_LEN, hash);
	return 0;
}

/* HKDF-Expand-Label(secret, label, context, 32) for a hash-sized output: one block. */
static void expand_label(const uint8_t secret[HASH_LEN], const char *label,
			 const uint8_t *context, size_t context_len, uint8_t out[HASH_LEN])
{
	struct hmac_sha256_ctx m;
	uint8_t info[2 + 1 + 6 + 32 + 1 + HASH_LEN], *p = info;
	size_t label_len = strlen(label);

	*p++ = 0, *p++ = HASH_LEN;
	*p++ = (uint8_t)(6 + label_len);
	memcpy(p, "tls13 ", 6), p += 6;
	memcpy(p, label, label_len), p += label_len;
	*p++ = (uint8_t)context_len;
	if (context_len)
		memcpy(p, context, context_len), p += context_len;
	*p++ = 1;   /* HKDF-Expand's counter: the first and only block */
	hmac_sha256_set_key(&m, HASH_LEN, secret);
	hmac_sha256_update(&m, (size_t)(p - info), info);
	hmac_sha256_digest(&m, HASH_LEN, out);
	gba_wipe(&m, sizeof(m));
}

int psk_binder_verify(const uint8_t *psk, size_t psk_len, const uint8_t hash[32],
		      const uint8_t binder[32])
{
	static const uint8_t zeros[HASH_LEN];
	struct hmac_sha256_ctx m;
	struct sha256_ctx h;
	uint8_t early[HASH_LEN], empty[HASH_LEN], key[HASH_LEN], mine[HASH_LEN];
	int ok;

	/* Early Secret = HKDF-Extract(0, PSK); binder_key = Derive-Secret(., "ext binder", ""). */
	hmac_sha256_set_key(&m, sizeof(zeros), zeros);
	hmac_sha256_update(&m, psk_len, psk);
	hmac_sha256_digest(&m, HASH_LEN, early);
	sha256_init(&h);
	sha256_digest(&h, HASH_LEN, empty);
	expand_label(early, "ext binder", empty, HASH_LEN, key);
	/* finished_key = HKDF-Expand-Label(binder_key, "finished", "", 32) */
	expand_label(key, "finished", NULL, 0, early);
	hmac_sha256_set_key(&m, HASH_LEN, early);
	hmac_sha256_update(&m, HASH_LEN, hash);
	hmac_sha256_digest(&m, HASH_LEN, mine);
	ok = gba_ct_equal(mine, binder, HASH_LEN);
	gba_wipe(&m, sizeof(m));
	gba_wipe(early, sizeof(early));
	gba_wipe(key, sizeof(key));
	gba_wipe(mine, sizeof(mine));
	return ok;
}
