/*
 * fuzz_gsup.c - libFuzzer target for GSUP messages as the BSF reads them
 * (av.source = gsup): the octets libosmo-gsup-client hands to gsup_link.c
 * after the IPA layer, fed to gsup_link_receive() without sockets or the
 * link's thread, against requests the input sets up.
 *
 * gsup_link.c is compiled into this file: its request list is its own
 * (static), and the fuzzer has to put requests on it and read them back.
 *
 * An input is a set-up octet, then one octet per request, then messages:
 *
 *   octet 0       bits 0-2: number of requests (at most 6); bit 3: the
 *                 link was marked slow (a request timed out)
 *   per request   bits 0-1: its IMSI (one of four); bits 2-3: 0 or 1
 *                 sent and waiting, 2 still queued (not sent), 3 sent but
 *                 abandoned by its caller (the link frees it when answered)
 *   messages      a 2-octet length (big-endian) and that many octets,
 *                 up to MSG_MAX messages
 *
 * FUZZ_GSUP_SEEDS=DIR fuzz_gsup -runs=0 writes the seed corpus to DIR:
 * SendAuthInfo results and errors as osmo-hlr encodes them
 * (osmo_gsup_encode), for waiting, queued and unknown IMSIs.
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - a message finishes at most one request, and only the oldest one
 *    that was sent and is waiting with the message's IMSI; queued
 *    requests are never touched;
 *  - every message that finishes no request is counted in
 *    gba_bsf_gsup_dropped_total's counter, and one that does is not;
 *  - vectors are handed over only with a SendAuthInfo result, 1..5 of
 *    them, each equal to an auth tuple of the message that has RAND,
 *    AUTN, CK and IK of 16 octets and a RES of 4..16 (read here from the
 *    raw octets, not by libosmocore's decoder); a result with such a tuple
 *    (not all zero) is never refused;
 *  - errors map as documented: cause "IMSI unknown" -> GBA_ERR_NOT_FOUND,
 *    any other -> GBA_ERR_UNAVAILABLE, a result without a usable vector
 *    -> GBA_ERR_PARSE; no vector is handed over with an error;
 *  - answers are numbered in arrival order.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../bsf/gsup_link.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ_MAX 6
#define MSG_MAX 8
#define TUPLE_MAX 16

static const char *const imsis[4] = {
	"001010000000001", "001010000000002", "262420123456789", "90170000000001",
};

static void fail(int line, const char *what)
{
	fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, line, what);
	abort();
}

#define CHECK(c) do { if (!(c)) fail(__LINE__, #c); } while (0)

/* ---- the oracle: complete UMTS tuples, from the raw octets ----------------------- */

struct tuple {
	uint8_t rand[16], autn[16], ck[16], ik[16], res[16];
	size_t res_len;
};

/* One auth tuple IE's content: 1 when it has every UMTS part, well sized. */
static int read_tuple(const uint8_t *p, size_t n, struct tuple *t)
{
	unsigned have = 0;

	memset(t, 0, sizeof(*t));
	while (n >= 2) {
		uint8_t tag = p[0], len = p[1];
		uint8_t *dst = NULL;

		if ((size_t)len + 2 > n)
			return 0;
		switch (tag) {
		case OSMO_GSUP_RAND_IE: dst = t->rand; break;
		case OSMO_GSUP_AUTN_IE: dst = t->autn; break;
		case OSMO_GSUP_CK_IE: dst = t->ck; break;
		case OSMO_GSUP_IK_IE: dst = t->ik; break;
		case OSMO_GSUP_RES_IE:
			if (len >= 4 && len <= 16) {
				memcpy(t->res, p + 2, len);
				t->res_len = len;
				have |= 16;
			} else {
				have &= ~16u;
			}
			break;
		default:
			break;
		}
		if (dst) {
			unsigned bit = dst == t->rand ? 1 : dst == t->autn ? 2 : dst == t->ck ? 4 : 8;

			if (len == 16) {
				memcpy(dst, p + 2, 16);
				have |= bit;
			} else {
				have &= ~bit;
			}
		}
		p += 2 + len;
		n -= 2 + len;
	}
	return have == 31;
}

/* The message's complete tuples (top-level IEs after the type octet). */
static size_t complete_tuples(const uint8_t *p, size_t n, struct tuple out[TUPLE_MAX])
{
	size_t count = 0;

	if (n < 1)
		return 0;
	p++;
	n--;
	while (n >= 2 && count < TUPLE_MAX) {
		uint8_t tag = p[0], len = p[1];

		if ((size_t)len + 2 > n)
			break;
		if (tag == OSMO_GSUP_AUTH_TUPLE_IE && read_tuple(p + 2, len, &out[count]))
			count++;
		p += 2 + len;
		n -= 2 + len;
	}
	return count;
}

static int av_is_tuple(const struct gba_av *a, const struct tuple *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++)
		if (!memcmp(a->rand, t[i].rand, 16) && !memcmp(a->autn, t[i].autn, 16) &&
		    !memcmp(a->ck, t[i].ck, 16) && !memcmp(a->ik, t[i].ik, 16) &&
		    a->xres_len == t[i].res_len && !memcmp(a->xres, t[i].res, t[i].res_len))
			return 1;
	return 0;
}

static int usable_tuple(const struct tuple *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++)
		if (!all_zero(t[i].rand, 16) && !all_zero(t[i].autn, 16) &&
		    !all_zero(t[i].ck, 16) && !all_zero(t[i].ik, 16))
			return 1;
	return 0;
}

/* ---- the link and its requests ----------------------------------------------------- */

static void no_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

struct tracked {
	struct gsup_req *r;     /* NULL once the link freed it (abandoned) */
	unsigned imsi;          /* index in imsis[] */
	int queued, abandoned;
};

static struct gsup_req *fuzz_req(struct gsup_link *l, uint8_t how, struct tracked *t)
{
	struct gsup_req *r = req_new(imsis[how & 3], NULL, NULL);
	unsigned kind = (how >> 2) & 3;

	if (!r)
		abort();
	t->r = r;
	t->imsi = how & 3;
	t->queued = kind == 2;
	t->abandoned = kind == 3;
	if (t->queued) {
		*l->queue_tail = r;
		l->queue_tail = &r->next;
		return r;
	}
	r->state = REQ_SENT;
	r->abandoned = t->abandoned;
	append_inflight(l, r);
	return r;
}

static int in_list(const struct gsup_req *list, const struct gsup_req *r)
{
	for (; list; list = list->next)
		if (list == r)
			return 1;
	return 0;
}

/* The properties for the one request msg finished (before: the in-flight list). */
static void check_finished(const struct tracked *t, const struct osmo_gsup_message *m,
			   const uint8_t *msg, size_t len, uint64_t answers_before)
{
	struct gsup_req *r = t->r;
	struct tuple tu[TUPLE_MAX];
	size_t nt = complete_tuples(msg, len, tu);

	CHECK(!t->queued);
	CHECK(!strcmp(r->imsi, m->imsi));
	CHECK(r->state == REQ_DONE);
	CHECK(r->order == answers_before + 1);
	if (m->message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR) {
		CHECK(r->err == (m->cause == GMM_CAUSE_IMSI_UNKNOWN ? GBA_ERR_NOT_FOUND :
				 GBA_ERR_UNAVAILABLE));
		CHECK(r->n == 0);
		return;
	}
	CHECK(m->message_type == OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT);
	if (r->err) {
		CHECK(r->err == GBA_ERR_PARSE);
		CHECK(r->n == 0);
		CHECK(!usable_tuple(tu, nt));
		return;
	}
	CHECK(r->n >= 1 && r->n <= GSUP_LINK_MAX_AV);
	for (size_t i = 0; i < r->n; i++) {
		CHECK(r->av[i].xres_len >= 4 && r->av[i].xres_len <= 16);
		CHECK(av_is_tuple(&r->av[i], tu, nt));
	}
}

static void feed(struct gsup_link *l, struct tracked *t, size_t nt, const uint8_t *msg,
		 size_t len)
{
	struct gsup_req *before[REQ_MAX];
	struct osmo_gsup_message m;
	uint64_t dropped = atomic_load(&l->metrics->gsup_dropped);
	uint64_t answers = l->answers;
	size_t nb = 0, gone = 0, which = 0;
	int decoded;

	for (struct gsup_req *r = l->inflight; r && nb < REQ_MAX; r = r->next)
		before[nb++] = r;
	memset(&m, 0, sizeof(m));
	decoded = osmo_gsup_decode(msg, len, &m) >= 0;

	gsup_link_receive(l, msg, len);

	for (size_t i = 0; i < nb; i++)
		if (!in_list(l->inflight, before[i])) {
			gone++;
			which = i;
		}
	CHECK(gone <= 1);
	for (struct gsup_req *r = l->queue; r; r = r->next)
		CHECK(r->state == REQ_QUEUED && r->n == 0);
	if (!gone) {
		CHECK(atomic_load(&l->metrics->gsup_dropped) == dropped + 1);
		CHECK(l->answers == answers);
		gba_wipe(&m, sizeof(m));
		return;
	}
	CHECK(atomic_load(&l->metrics->gsup_dropped) == dropped);
	CHECK(decoded);
	CHECK(!l->slow);
	/* The oldest waiting one of that IMSI, and none before it had it. */
	for (size_t i = 0; i < which; i++)
		CHECK(strcmp(before[i]->imsi, m.imsi));
	for (size_t i = 0; i < nt; i++) {
		if (t[i].r != before[which])
			continue;
		if (t[i].abandoned) {
			t[i].r = NULL;   /* freed by the link */
			CHECK(!strcmp(imsis[t[i].imsi], m.imsi));
		} else {
			check_finished(&t[i], &m, msg, len, answers);
		}
	}
	gba_wipe(&m, sizeof(m));
}

static void run(const uint8_t *data, size_t size)
{
	struct bsf_metrics metrics;
	struct gsup_link l;
	struct tracked t[REQ_MAX];
	size_t nt, pos;

	memset(&l, 0, sizeof(l));
	memset(t, 0, sizeof(t));
	metrics_init(&metrics);
	pthread_mutex_init(&l.lock, NULL);
	l.queue_tail = &l.queue;
	l.log = no_log;
	l.metrics = &metrics;
	snprintf(l.host, sizeof(l.host), "127.0.0.1");
	l.port = 4222;
	l.slow = !!(data[0] & 8);
	nt = data[0] & 7;
	if (nt > REQ_MAX)
		nt = REQ_MAX;
	if (size < 1 + nt)
		nt = size - 1;
	for (size_t i = 0; i < nt; i++)
		fuzz_req(&l, data[1 + i], &t[i]);

	pos = 1 + nt;
	for (unsigned k = 0; k < MSG_MAX && pos + 2 <= size; k++) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		uint8_t *msg;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		/* A copy of its own size, so ASan sees any read past the message. */
		msg = malloc(len ? len : 1);
		if (!msg)
			abort();
		memcpy(msg, data + pos, len);
		feed(&l, t, nt, msg, len);
		free(msg);
		pos += len;
	}

	/* What is left: the finished ones the callers would free, and the lists. */
	for (size_t i = 0; i < nt; i++)
		if (t[i].r && t[i].r->state == REQ_DONE)
			req_free(t[i].r);
	while (l.queue) {
		struct gsup_req *r = l.queue;

		l.queue = r->next;
		req_free(r);
	}
	while (l.inflight) {
		struct gsup_req *r = l.inflight;

		l.inflight = r->next;
		req_free(r);
	}
	pthread_mutex_destroy(&l.lock);
}

/* ---- seeds ------------------------------------------------------------------------- */

static void vector(struct osmo_auth_vector *v, unsigned i, unsigned res_len)
{
	memset(v, 0, sizeof(*v));
	v->auth_types = OSMO_AUTH_TYPE_GSM | OSMO_AUTH_TYPE_UMTS;
	for (unsigned j = 0; j < 16; j++) {
		v->rand[j] = (uint8_t)(0x10 * i + j + 1);
		v->autn[j] = (uint8_t)(0x20 + 3 * j + i);
		v->ck[j] = (uint8_t)(0x40 + 5 * j + i);
		v->ik[j] = (uint8_t)(0x60 + 7 * j + i);
		v->res[j] = (uint8_t)(0x80 + j + i);
	}
	v->res_len = res_len;
	memset(v->sres, 0x5a, sizeof(v->sres));
	memset(v->kc, 0xa5, sizeof(v->kc));
}

static void write_seed(const char *dir, const char *name, const uint8_t *setup, size_t nsetup,
		       const struct osmo_gsup_message *const *msgs, size_t nmsgs)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fwrite(setup, 1, nsetup, f);
	for (size_t i = 0; i < nmsgs; i++) {
		struct msgb *b = msgb_alloc(4096, "seed");
		uint8_t hdr[2];

		if (!b || osmo_gsup_encode(b, msgs[i]) < 0) {
			fprintf(stderr, "%s: osmo_gsup_encode failed\n", name);
			exit(1);
		}
		hdr[0] = (uint8_t)(msgb_length(b) >> 8);
		hdr[1] = (uint8_t)msgb_length(b);
		fwrite(hdr, 1, 2, f);
		fwrite(msgb_data(b), 1, msgb_length(b), f);
		msgb_free(b);
	}
	fclose(f);
}

static void sai_result(struct osmo_gsup_message *m, const char *imsi, unsigned n,
		       unsigned res_len)
{
	memset(m, 0, sizeof(*m));
	m->message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_RESULT;
	snprintf(m->imsi, sizeof(m->imsi), "%s", imsi);
	m->num_auth_vectors = n;
	for (unsigned i = 0; i < n; i++)
		vector(&m->auth_vectors[i], i, res_len);
}

static void sai_error(struct osmo_gsup_message *m, const char *imsi, enum gsm48_gmm_cause c)
{
	memset(m, 0, sizeof(*m));
	m->message_type = OSMO_GSUP_MSGT_SEND_AUTH_INFO_ERROR;
	snprintf(m->imsi, sizeof(m->imsi), "%s", imsi);
	m->cause = c;
}

static void write_seeds(const char *dir)
{
	static struct osmo_gsup_message a, b, c, d;
	const struct osmo_gsup_message *one[1] = { &a }, *two[2] = { &a, &b };
	const struct osmo_gsup_message *four[4] = { &a, &b, &c, &d };

	mkdir(dir, 0755);
	/* osmo-hlr's usual answer: 5 vectors, 8-octet RES, IMSI 0 waiting. */
	sai_result(&a, imsis[0], 5, 8);
	write_seed(dir, "result-5", (const uint8_t[]){ 1, 0x00 }, 2, one, 1);
	/* One vector, 4- and 16-octet RES; the second IMSI waits twice. */
	sai_result(&a, imsis[1], 1, 4);
	sai_result(&b, imsis[1], 1, 16);
	write_seed(dir, "result-two-same-imsi", (const uint8_t[]){ 2, 0x01, 0x01 }, 3, two, 2);
	/* GSM triplets only: no UMTS vector (GBA_ERR_PARSE). */
	sai_result(&a, imsis[2], 3, 8);
	for (unsigned i = 0; i < 3; i++)
		a.auth_vectors[i].auth_types = OSMO_AUTH_TYPE_GSM;
	write_seed(dir, "result-gsm-only", (const uint8_t[]){ 1, 0x02 }, 2, one, 1);
	/* Errors: IMSI unknown, and another cause, with the link slow. */
	sai_error(&a, imsis[0], GMM_CAUSE_IMSI_UNKNOWN);
	sai_error(&b, imsis[3], GMM_CAUSE_NET_FAIL);
	write_seed(dir, "errors", (const uint8_t[]){ 8 | 2, 0x00, 0x03 }, 3, two, 2);
	/* Answers for a queued, an abandoned and an unknown IMSI, then the waiting one. */
	sai_result(&a, imsis[0], 2, 8);
	sai_result(&b, imsis[1], 5, 8);
	sai_result(&c, imsis[2], 1, 8);
	sai_result(&d, imsis[3], 5, 8);
	write_seed(dir, "queued-abandoned-unknown",
		   (const uint8_t[]){ 3, 0x08, 0x0d, 0x03 }, 4, four, 4);
	/* An Update Location request: not ours to answer, dropped. */
	memset(&a, 0, sizeof(a));
	a.message_type = OSMO_GSUP_MSGT_UPDATE_LOCATION_REQUEST;
	snprintf(a.imsi, sizeof(a.imsi), "%s", imsis[0]);
	write_seed(dir, "unexpected-type", (const uint8_t[]){ 1, 0x00 }, 2, one, 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pthread_once(&osmo_logging_once, quiet_osmo_logging);   /* as gsup_link_open */
	if (getenv("FUZZ_GSUP_SEEDS")) {
		write_seeds(getenv("FUZZ_GSUP_SEEDS"));
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	run(data, size);
	return 0;
}
