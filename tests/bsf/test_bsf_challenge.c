/*
 * test_bsf_challenge.c - the BSF's pending-challenge table and its nonce:
 * single use, IMPI binding, expiry, a full table, the sweep, several
 * threads at once; the limits per IMPI (cap, rate), per client address,
 * a flood for one IMPI; nonce layout, tag and refusal of foreign nonces.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gba/util.h>

#include "challenge.h"
#include "nonce.h"

#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"

static void fill(struct challenge *c, uint8_t seed, int64_t expiry_ms, const char *guss)
{
	memset(c, 0, sizeof(*c));
	memset(c->rand, seed, 16);
	memset(c->ha1, seed ^ 0x11, 16);
	memset(c->ck, seed ^ 0x22, 16);
	memset(c->ik, seed ^ 0x33, 16);
	c->expiry_ms = expiry_ms;
	if (guss) {
		c->guss_len = strlen(guss);
		c->guss = malloc(c->guss_len);
		assert_non_null(c->guss);
		memcpy(c->guss, guss, c->guss_len);
	}
}

/* Ask for a challenge for impi from client address ip (0: none) at now_ms. */
static enum challenge_grant_kind ask(struct challenge_table *t, const char *impi, uint32_t ip,
				     int64_t now_ms, struct challenge_grant *g)
{
	struct challenge_request rq = { impi, strlen(impi), { 0, { 0 } }, now_ms, 0 };

	if (ip) {
		rq.client.len = 4;
		memcpy(rq.client.b, &ip, 4);
	}
	challenge_reserve(t, &rq, g);
	return g->kind;
}

/* Reserve a slot; -1 when none is granted. */
static int reserve(struct challenge_table *t, const char *impi, uint32_t *slot)
{
	struct challenge_grant g;

	*slot = UINT32_MAX;
	if (ask(t, impi, 0, 0, &g) != CHALLENGE_FRESH)
		return -1;
	*slot = g.slot;
	return 0;
}

/* Reserve, publish; returns the slot. */
static uint32_t put(struct challenge_table *t, uint8_t seed, int64_t expiry_ms, const char *impi,
		    const char *guss)
{
	struct challenge c;
	uint32_t slot = 0;

	assert_int_equal(reserve(t, impi, &slot), 0);
	fill(&c, seed, expiry_ms, guss);
	challenge_publish(t, slot, &c);
	/* publish moved the secrets out of the caller's copy */
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(c.ck[i], 0);
	return slot;
}

static void test_single_use(void **state)
{
	struct challenge_table *t;
	struct challenge out;
	uint8_t rand[16];
	uint32_t slot;
	(void)state;

	assert_int_equal(challenge_table_create(&t, 16, 4), GBA_OK);
	slot = put(t, 7, 1000, IMPI, "<guss/>");
	assert_int_equal(challenge_pending(t), 1);
	memset(rand, 7, 16);
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 500, &out),
			 CHALLENGE_TAKEN);
	assert_int_equal(out.ha1[0], 7 ^ 0x11);
	assert_int_equal(out.ik[15], 7 ^ 0x33);
	assert_int_equal(out.guss_len, 7);
	assert_memory_equal(out.guss, "<guss/>", 7);
	challenge_clear(&out);
	assert_null(out.guss);
	assert_int_equal(challenge_pending(t), 0);
	/* A nonce is used once. */
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 500, &out),
			 CHALLENGE_ABSENT);
	challenge_table_destroy(t);
}

static void test_binding(void **state)
{
	struct challenge_table *t;
	struct challenge out;
	uint8_t rand[16];
	uint32_t slot;
	(void)state;

	assert_int_equal(challenge_table_create(&t, 16, 4), GBA_OK);
	slot = put(t, 9, 1000, IMPI, NULL);
	memset(rand, 9, 16);
	/* Someone else's IMPI: not found, and the owner's challenge stays. */
	assert_int_equal(challenge_take(t, slot, rand, "other@ims", 9, 0, &out), CHALLENGE_ABSENT);
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI) - 1, 0, &out),
			 CHALLENGE_ABSENT);
	/* A RAND that does not match the slot: a guessed slot number. */
	rand[3] ^= 1;
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 0, &out),
			 CHALLENGE_ABSENT);
	rand[3] ^= 1;
	/* Slots out of range. */
	assert_int_equal(challenge_take(t, challenge_table_capacity(t), rand, IMPI, strlen(IMPI),
					0, &out), CHALLENGE_ABSENT);
	assert_int_equal(challenge_take(t, UINT32_MAX, rand, IMPI, strlen(IMPI), 0, &out),
			 CHALLENGE_ABSENT);
	assert_int_equal(challenge_pending(t), 1);
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 0, &out),
			 CHALLENGE_TAKEN);
	challenge_clear(&out);
	challenge_table_destroy(t);
}

static void test_expiry(void **state)
{
	struct challenge_table *t;
	struct challenge out;
	uint8_t rand[16];
	uint32_t slot;
	(void)state;

	assert_int_equal(challenge_table_create(&t, 16, 1), GBA_OK);
	slot = put(t, 1, 1000, IMPI, "g");
	memset(rand, 1, 16);
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 1000, &out),
			 CHALLENGE_EXPIRED);
	assert_int_equal(challenge_pending(t), 0);
	assert_int_equal(challenge_take(t, slot, rand, IMPI, strlen(IMPI), 0, &out),
			 CHALLENGE_ABSENT);

	/* The sweep takes the expired ones, oldest first, and stops at a live one. */
	put(t, 2, 100, IMPI, "g");
	put(t, 3, 200, IMPI, NULL);
	put(t, 4, 300, IMPI, "g");
	assert_int_equal(challenge_sweep(t, 99), 0);
	assert_int_equal(challenge_sweep(t, 200), 2);
	assert_int_equal(challenge_pending(t), 1);
	assert_int_equal(challenge_sweep(t, 10000), 1);
	assert_int_equal(challenge_pending(t), 0);
	challenge_table_destroy(t);
}

static void test_full(void **state)
{
	struct challenge_table *t;
	struct challenge out;
	uint32_t slots[8], extra;
	uint8_t rand[16];
	(void)state;

	assert_int_equal(challenge_table_create(&t, 8, 4), GBA_OK);
	assert_int_equal(challenge_table_capacity(t), 8);
	for (int i = 0; i < 8; i++)
		slots[i] = put(t, (uint8_t)(i + 1), 1000, IMPI, i % 2 ? "guss" : NULL);
	/* Full: refused, not grown. */
	assert_int_equal(reserve(t, IMPI, &extra), -1);
	memset(rand, 3, 16);
	assert_int_equal(challenge_take(t, slots[2], rand, IMPI, strlen(IMPI), 0, &out),
			 CHALLENGE_TAKEN);
	challenge_clear(&out);
	assert_int_equal(reserve(t, IMPI, &extra), 0);
	assert_int_equal(reserve(t, "other@ims", &slots[2]), -1);
	/* A cancelled reservation frees its slot; a reserved slot is never found. */
	memset(rand, 0, 16);
	assert_int_equal(challenge_take(t, extra, rand, "", 0, 0, &out), CHALLENGE_ABSENT);
	challenge_cancel(t, extra, 0);
	assert_int_equal(reserve(t, IMPI, &extra), 0);
	challenge_cancel(t, extra, 0);
	/* Destroy with live entries and GUSS buffers: freed (ASan checks). */
	challenge_table_destroy(t);
}

static void test_bad_create(void **state)
{
	struct challenge_table *t;
	(void)state;

	assert_int_equal(challenge_table_create(&t, 0, 4), GBA_ERR_INVALID_ARG);
	assert_int_equal(challenge_table_create(&t, 10, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(challenge_table_create(NULL, 10, 4), GBA_ERR_INVALID_ARG);
	/* More shards than slots: fewer shards, every slot usable. */
	assert_int_equal(challenge_table_create(&t, 3, 64), GBA_OK);
	assert_true(challenge_table_capacity(t) >= 3);
	challenge_table_destroy(t);
}

/* ---- Several threads ------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 20000

struct worker {
	struct challenge_table *t;
	unsigned id;
	unsigned taken, full;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char impi[32];
	size_t impi_len;

	impi_len = (size_t)snprintf(impi, sizeof(impi), "user%u@test", w->id);
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct challenge c, out = { 0 };
		uint8_t rand[16] = { 0 };
		uint32_t slot;

		if (reserve(w->t, impi, &slot)) {
			w->full++;
			continue;
		}
		memcpy(rand, &r, sizeof(r));
		memcpy(rand + 8, &w->id, sizeof(w->id));
		memset(&c, 0, sizeof(c));
		memcpy(c.rand, rand, 16);
		c.expiry_ms = 1000;
		challenge_publish(w->t, slot, &c); /* wipes c */
		if (challenge_take(w->t, slot, rand, impi, impi_len, 0, &out) == CHALLENGE_TAKEN) {
			w->taken++;
			challenge_clear(&out);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct challenge_table *t;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	(void)state;

	/* Fewer slots than threads: some reservations must fail, cleanly. */
	assert_int_equal(challenge_table_create(&t, 2, 16), GBA_OK);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ t, i, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	unsigned taken = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].taken + w[i].full, ROUNDS);
		taken += w[i].taken;
	}
	/* Which thread wins a slot is up to the scheduler: on a loaded box
	 * one thread may find the table full every time.  Together they must
	 * get some. */
	assert_true(taken > 0);
	assert_int_equal(challenge_pending(t), 0);
	challenge_table_destroy(t);
}

/* ---- Limits (issue 15) ----------------------------------------------------------- */

static struct challenge_table *limited(unsigned per_impi, unsigned rate, unsigned burst,
				       unsigned per_ip)
{
	const struct challenge_limits lim = { per_impi, rate, burst, per_ip };
	struct challenge_table *t;

	assert_int_equal(challenge_table_create(&t, 1024, 4), GBA_OK);
	assert_int_equal(challenge_table_set_limits(t, &lim), GBA_OK);
	return t;
}

/* Publish a granted slot with RAND = seed; returns the slot. */
static uint32_t publish(struct challenge_table *t, const struct challenge_grant *g, uint8_t seed)
{
	struct challenge c;

	assert_int_equal(g->kind, CHALLENGE_FRESH);
	fill(&c, seed, 100000, NULL);
	memset(c.autn, seed ^ 0x44, 16);
	challenge_publish(t, g->slot, &c);
	return g->slot;
}

static enum challenge_take_result take(struct challenge_table *t, uint32_t slot, uint8_t seed,
				       const char *impi)
{
	struct challenge out;
	uint8_t rand[16];
	enum challenge_take_result r;

	memset(rand, seed, 16);
	r = challenge_take(t, slot, rand, impi, strlen(impi), 0, &out);
	if (r == CHALLENGE_TAKEN)
		challenge_clear(&out);
	return r;
}

/* A new challenge for an IMPI at its cap replaces its oldest. */
static void test_per_impi_cap(void **state)
{
	struct challenge_table *t = limited(4, 0, 1, 0);
	struct challenge_grant g;
	uint32_t slot[6];
	(void)state;

	for (uint8_t i = 0; i < 6; i++) {
		ask(t, IMPI, 0, 0, &g);
		assert_int_equal(g.replaced, i >= 4);
		slot[i] = publish(t, &g, (uint8_t)(i + 1));
	}
	assert_int_equal(challenge_pending(t), 4);
	assert_int_equal(take(t, slot[0], 1, IMPI), CHALLENGE_ABSENT);
	assert_int_equal(take(t, slot[1], 2, IMPI), CHALLENGE_ABSENT);
	for (uint8_t i = 2; i < 6; i++)
		assert_int_equal(take(t, slot[i], (uint8_t)(i + 1), IMPI), CHALLENGE_TAKEN);
	/* Another IMPI is not touched by the first one's cap. */
	for (uint8_t i = 0; i < 4; i++)
		publish(t, (ask(t, IMPI, 0, 0, &g), &g), (uint8_t)(0x10 + i));
	ask(t, "other@ims", 0, 0, &g);
	assert_int_equal(g.replaced, 0);
	publish(t, &g, 0x20);
	assert_int_equal(challenge_pending(t), 5);
	challenge_table_destroy(t);
}

/*
 * 10 vectors/s with a burst of 3: the fourth first request gets the
 * newest pending challenge again; with nothing pending, 503 until a
 * vector may be drawn.  Answering (even wrongly, which takes the
 * challenge) does not reset the rate; a failed fetch refunds it; a
 * resynchronisation is not limited.
 */
static void test_impi_rate(void **state)
{
	struct challenge_table *t = limited(8, 10, 3, 0);
	struct challenge_grant g;
	uint32_t slot[3];
	(void)state;

	for (uint8_t i = 0; i < 3; i++)
		slot[i] = publish(t, (ask(t, IMPI, 0, 1000, &g), &g), (uint8_t)(i + 1));
	assert_int_equal(ask(t, IMPI, 0, 1000, &g), CHALLENGE_RESEND);
	assert_int_equal(g.slot, slot[2]);
	assert_int_equal(g.rand[0], 3);
	assert_int_equal(g.autn[0], 3 ^ 0x44);
	assert_int_equal(g.expiry_ms, 100000);
	assert_int_equal(challenge_pending(t), 3);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(take(t, slot[i], (uint8_t)(i + 1), IMPI), CHALLENGE_TAKEN);
	assert_int_equal(ask(t, IMPI, 0, 1000, &g), CHALLENGE_RATE_LIMITED);
	assert_int_equal(g.retry_ms, 100);
	/* Other IMPIs are not held back. */
	publish(t, (ask(t, "other@ims", 0, 1000, &g), &g), 9);
	/* A resync after a valid AUTS gets its vector. */
	{
		struct challenge_request rq = { IMPI, strlen(IMPI), { 0, { 0 } }, 1000, 1 };

		challenge_reserve(t, &rq, &g);
		assert_int_equal(g.kind, CHALLENGE_FRESH);
		challenge_cancel(t, g.slot, 1000);
	}
	/* 100 ms later one vector may be drawn; a failed fetch gives it back. */
	assert_int_equal(ask(t, IMPI, 0, 1100, &g), CHALLENGE_FRESH);
	challenge_cancel(t, g.slot, 1100);
	assert_int_equal(ask(t, IMPI, 0, 1100, &g), CHALLENGE_FRESH);
	publish(t, &g, 4);
	assert_int_equal(ask(t, IMPI, 0, 1100, &g), CHALLENGE_RESEND);
	assert_int_equal(g.rand[0], 4);
	/* Not one about to expire (100000 ms): it would only come back stale. */
	assert_int_equal(ask(t, IMPI, 0, 98500, &g), CHALLENGE_FRESH);
	challenge_cancel(t, g.slot, 98500);
	for (int i = 0; i < 3; i++)
		ask(t, IMPI, 0, 98500, &g);
	assert_int_equal(ask(t, IMPI, 0, 98500, &g), CHALLENGE_RATE_LIMITED);
	challenge_table_destroy(t);
}

static void test_per_ip(void **state)
{
	struct challenge_table *t = limited(4, 0, 1, 2);
	struct challenge_grant g;
	uint32_t s1;
	(void)state;

	s1 = publish(t, (ask(t, "a@ims", 0x0100007f, 0, &g), &g), 1);
	publish(t, (ask(t, "b@ims", 0x0100007f, 0, &g), &g), 2);
	assert_int_equal(ask(t, "c@ims", 0x0100007f, 0, &g), CHALLENGE_IP_LIMITED);
	publish(t, (ask(t, "c@ims", 0x0200007f, 0, &g), &g), 3);
	assert_int_equal(take(t, s1, 1, "a@ims"), CHALLENGE_TAKEN);
	publish(t, (ask(t, "c@ims", 0x0100007f, 0, &g), &g), 4);
	assert_int_equal(challenge_pending(t), 3);
	challenge_table_destroy(t);

	/* At its cap, an address may still replace its own challenge for an IMPI. */
	t = limited(1, 0, 1, 1);
	publish(t, (ask(t, "a@ims", 0x0100007f, 0, &g), &g), 1);
	assert_int_equal(ask(t, "a@ims", 0x0100007f, 0, &g), CHALLENGE_FRESH);
	assert_int_equal(g.replaced, 1);
	publish(t, &g, 2);
	assert_int_equal(ask(t, "b@ims", 0x0100007f, 0, &g), CHALLENGE_IP_LIMITED);
	assert_int_equal(challenge_pending(t), 1);
	challenge_table_destroy(t);
}

/*
 * The flood of issue 15: many first requests for one IMPI.  It holds at
 * most per_impi slots, draws at most burst + rate * time vectors, and
 * another IMPI is still served.
 */
static void test_flood(void **state)
{
	struct challenge_table *t = limited(4, 1, 8, 0);
	struct challenge_grant g;
	unsigned fresh = 0, resent = 0;
	(void)state;

	for (unsigned i = 0; i < 20000; i++) {
		int64_t now = 5000 + i / 10;   /* 2 s of requests */

		if (ask(t, IMPI, 0, now, &g) == CHALLENGE_FRESH) {
			publish(t, &g, (uint8_t)i);
			fresh++;
		} else {
			assert_int_equal(g.kind, CHALLENGE_RESEND);
			resent++;
		}
	}
	assert_true(fresh <= 8 + 2);
	assert_int_equal(fresh + resent, 20000);
	assert_int_equal(challenge_pending(t), 4);
	assert_int_equal(ask(t, "other@ims", 0, 7000, &g), CHALLENGE_FRESH);
	challenge_table_destroy(t);
}

/*
 * Records outlive their entries only while their rate refills, and a
 * shard reuses idle ones: many IMPIs one after another never run the
 * table out of records.
 */
static void test_many_impis(void **state)
{
	struct challenge_table *t = limited(4, 1, 2, 0);
	struct challenge_grant g;
	char impi[32];
	(void)state;

	for (unsigned i = 0; i < 50000; i++) {
		uint32_t slot;

		snprintf(impi, sizeof(impi), "user%u@ims", i);
		assert_int_equal(ask(t, impi, 0, 0, &g), CHALLENGE_FRESH);
		slot = publish(t, &g, (uint8_t)i);
		assert_int_equal(take(t, slot, (uint8_t)i, impi), CHALLENGE_TAKEN);
	}
	assert_int_equal(challenge_pending(t), 0);
	challenge_table_destroy(t);
}

/*
 * Threads sharing two IMPIs with every limit on: replacements, resends
 * and per-address counts under contention leave nothing behind.
 */
static void *work_limited(void *arg)
{
	struct worker *w = arg;
	const char *impi = w->id % 2 ? "odd@test" : "even@test";

	for (unsigned r = 0; r < ROUNDS / 4; r++) {
		struct challenge_grant g;
		struct challenge c, out;
		uint8_t rand[16] = { 0 };

		if (ask(w->t, impi, 0x0100007f + (w->id << 24), r / 50, &g) != CHALLENGE_FRESH) {
			w->full++;
			continue;
		}
		memcpy(rand, &r, sizeof(r));
		memcpy(rand + 8, &w->id, sizeof(w->id));
		memset(&c, 0, sizeof(c));
		memcpy(c.rand, rand, 16);
		c.expiry_ms = 1000000;
		challenge_publish(w->t, g.slot, &c);
		if (r % 3 && challenge_take(w->t, g.slot, rand, impi, strlen(impi), 0, &out) ==
			     CHALLENGE_TAKEN) {
			w->taken++;
			challenge_clear(&out);
		}
	}
	return NULL;
}

static void test_threads_limited(void **state)
{
	struct challenge_table *t = limited(2, 1000, 50, 3);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	unsigned taken = 0;
	size_t pending;
	(void)state;

	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ t, i, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, work_limited, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		taken += w[i].taken;
	}
	assert_true(taken > 0);
	/* Each IMPI holds at most its cap; the sweep finds exactly those. */
	pending = challenge_pending(t);
	assert_true(pending <= 4);
	assert_int_equal(challenge_sweep(t, INT64_C(1) << 40), pending);
	assert_int_equal(challenge_pending(t), 0);
	challenge_table_destroy(t);
}

/* ---- Nonces ----------------------------------------------------------------------- */

static void test_nonce(void **state)
{
	struct nonce_key k, other;
	struct nonce_fields f, g;
	char text[NONCE_TEXT_LEN + 1];
	(void)state;

	assert_int_equal(nonce_key_init(&k), GBA_OK);
	assert_int_equal(nonce_key_init(&other), GBA_OK);
	memset(&f, 0, sizeof(f));
	memset(f.rand, 0xa5, 16);
	memset(f.autn, 0x5a, 16);
	f.slot = 0x01020304;
	f.expiry_ms = INT64_C(1795428069123);
	nonce_encode(&k, &f, IMPI, strlen(IMPI), text);
	assert_int_equal(strlen(text), NONCE_TEXT_LEN);

	assert_int_equal(nonce_decode(text, strlen(text), &g), GBA_OK);
	assert_memory_equal(g.rand, f.rand, 16);
	assert_memory_equal(g.autn, f.autn, 16);
	assert_int_equal(g.slot, f.slot);
	assert_int_equal(g.expiry_ms, f.expiry_ms);
	assert_true(nonce_tag_valid(&k, &g, IMPI, strlen(IMPI)));
	/* Bound to the IMPI and to this process's key. */
	assert_false(nonce_tag_valid(&k, &g, "x@y", 3));
	assert_false(nonce_tag_valid(&other, &g, IMPI, strlen(IMPI)));
	/* Any changed field breaks the tag. */
	g.expiry_ms++;
	assert_false(nonce_tag_valid(&k, &g, IMPI, strlen(IMPI)));
	g.expiry_ms--;
	g.slot ^= 1;
	assert_false(nonce_tag_valid(&k, &g, IMPI, strlen(IMPI)));
	nonce_key_wipe(&k);
	nonce_key_wipe(&other);
}

static void test_nonce_bad(void **state)
{
	struct nonce_fields f;
	char text[NONCE_TEXT_LEN + 8];
	(void)state;

	/* Wrong lengths: empty, a UE's 32-octet RAND||AUTN, one character more. */
	assert_int_equal(nonce_decode("", 0, &f), GBA_ERR_BAD_LENGTH);
	assert_int_equal(nonce_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 44, &f),
			 GBA_ERR_BAD_LENGTH);
	memset(text, 'A', sizeof(text));
	assert_int_equal(nonce_decode(text, NONCE_TEXT_LEN + 1, &f), GBA_ERR_BAD_LENGTH);
	/* Right length, not base64. */
	text[10] = '*';
	assert_int_equal(nonce_decode(text, NONCE_TEXT_LEN, &f), GBA_ERR_BAD_BASE64);
	/* 64 characters that decode to fewer octets (padding). */
	memset(text, 'A', NONCE_TEXT_LEN);
	text[NONCE_TEXT_LEN - 1] = '=';
	text[NONCE_TEXT_LEN - 2] = '=';
	assert_int_equal(nonce_decode(text, NONCE_TEXT_LEN, &f), GBA_ERR_BAD_LENGTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_use),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bad_create),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_per_impi_cap),
		cmocka_unit_test(test_impi_rate),
		cmocka_unit_test(test_per_ip),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_many_impis),
		cmocka_unit_test(test_threads_limited),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_nonce_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
