/*
 * zn_load.c - load generator for a BSF's Zn interface over Diameter: many
 * Bootstrapping-Info-Requests in flight over a few connections, for a
 * fixed time, each answer parsed and checked.  A figure printer, not a test.
 *
 *   zn-load --bsf 127.0.0.1:PORT (--btid B-TID ... | --btid-file FILE)
 *           [--connections C] [--in-flight N] [--duration S] [--threads T]
 *           [--naf-domain D] [--timeout MS] [--gaa-service-id ID] [--gba-u-aware]
 *           [--server-pid PID ...] [--strict] [--kcv]
 *   zn-load --bsf 127.0.0.1:PORT --btid-file FILE --verify
 *
 * It speaks Diameter itself (diameter_raw.c) rather than through
 * freeDiameter, so that its own cost per BIR stays small next to the BSF's:
 * zn_bench measures libgba-naf and the BSF together, this measures the BSF.
 *
 * Connection i (1..C) is the NAF naf<i>.<D> (its Diameter identity, which
 * the BSF authorises: a NAF may ask for its own FQDN).  After CER/CEA each
 * connection keeps its share of the N BIRs in flight, pipelined: a BIA is
 * matched to its BIR by Hop-by-Hop and End-to-End id, checked, and the slot
 * sends the next BIR at once (a closed loop).  Every BIR names a NAF_Id of
 * its own, so the BSF derives a fresh Ks_NAF each time, as for fresh UEs;
 * the B-TIDs are used in turn.  DWRs from the BSF are answered; at the end
 * each connection waits for its last answers and says goodbye with DPR.
 *
 * A BIR counts as ok when its BIA has Result-Code 2001, a User-Name and an
 * ME-Key-Material of 32 octets; answers to BIRs still in flight when the
 * time is up are not counted.  That the key is the right one is what --kcv
 * shows: before the load, one BIR per B-TID for a NAF_Id the UE derives
 * with too, and the check value of each key (gba-test-ue --naf prints the
 * UE's).  Prints BIR/BIA per second, latency p50/p99/max, failures by
 * result code or kind, its own CPU per BIR and (--server-pid) the BSF's.
 * Exit 0 when at least one BIR was ok (with --strict: and none failed), 1
 * otherwise, 2 on a usage error.
 *
 * --verify sends only the --kcv BIRs, one per B-TID, and goes on after a
 * refusal: a line per B-TID with the key's check value or "-" and the
 * result code (bench/soak.py asks this way whether every B-TID a UE got
 * is still known).  Exit 0 when every BIR was answered, whatever the code.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gba/kcv.h>

#include "bench_util.h"
#include "diameter_raw.h"
#include "gba_cli.h"

/* ---- Diameter and Zn numbers (RFC 6733; TS 29.109; lib/diameter/src/dict.c) ---- */

#define CMD_CE 257
#define CMD_DW 280
#define CMD_DP 282
#define CMD_BI 310               /* Bootstrapping-Info-Request/Answer */
#define APP_ZN 16777220u
#define APP_RELAY 0xffffffffu
#define VENDOR_3GPP 10415u

#define AVP_USER_NAME 1
#define AVP_HOST_IP_ADDRESS 257
#define AVP_AUTH_APPLICATION_ID 258
#define AVP_VSAI 260             /* Vendor-Specific-Application-Id */
#define AVP_SESSION_ID 263
#define AVP_ORIGIN_HOST 264
#define AVP_SUPPORTED_VENDOR_ID 265
#define AVP_VENDOR_ID 266
#define AVP_RESULT_CODE 268
#define AVP_PRODUCT_NAME 269
#define AVP_DISCONNECT_CAUSE 273
#define AVP_AUTH_SESSION_STATE 277
#define AVP_ORIGIN_STATE_ID 278
#define AVP_ERROR_MESSAGE 281
#define AVP_DESTINATION_REALM 283
#define AVP_DESTINATION_HOST 293
#define AVP_ORIGIN_REALM 296
#define AVP_EXPERIMENTAL_RESULT 297
#define AVP_EXPERIMENTAL_RESULT_CODE 298
/* The GAA AVPs: vendor 3GPP, V and M set. */
#define AVP_TRANSACTION_IDENTIFIER 401
#define AVP_NAF_ID 402
#define AVP_GAA_SERVICE_IDENTIFIER 403
#define AVP_ME_KEY_MATERIAL 405
#define AVP_GBA_U_AWARENESS_INDICATOR 407

#define RC_SUCCESS 2001
#define RC_COMMAND_UNSUPPORTED 3001
#define DISCONNECT_REBOOTING 0
#define NO_STATE_MAINTAINED 1
#define KEY_LEN 32               /* Ks_NAF */
#define BTID_MAX 280             /* as the BSF's GBA_ZN_BTID_MAX */
#define FQDN_MAX 250             /* NAF_Id = FQDN || 5-octet Ua id: at most 255 + 5 */
#define UA_ID_LEN 5

/* ---- Limits of this program ---------------------------------------------------- */

#define MAX_SERVERS 4
#define MAX_MSG (1u << 20)       /* a longer message means lost framing */
#define IN_BUF 65536
#define SLOT_BITS 16             /* Hop-by-Hop id = generation << 16 | slot */
#define MAX_PER_CONN ((1u << SLOT_BITS) - 1)
#define CTRL_SLOT MAX_PER_CONN   /* the slot number of our CER and DPR */
#define MAX_CODES 32             /* distinct failure result codes listed */
#define SETUP_TIMEOUT_MS 5000
#define SCAN_NS 100000000LL      /* timeouts are looked for every 100 ms */
#define DRAIN_NS 2000000000LL    /* how long the end waits for last answers and DPAs */

struct btid {
	const char *text;
	size_t len;
	const char *realm;       /* after '@': the BIR's Destination-Realm */
	char *own;               /* text, when read from a file: freed at the end */
};

struct config {
	struct sockaddr_in bsf;
	const char *bsf_text;
	const char *naf_domain;
	unsigned connections, threads, in_flight;
	double duration;
	int timeout_ms;
	struct btid *btids;
	size_t n_btids;
	const char *gaa_service_id;
	int gba_u_aware, strict, kcv, verify;
	long server_pids[MAX_SERVERS];
	unsigned n_servers;
	char bsf_id[256];        /* the BSF's Origin-Host from the CEA: Destination-Host */
};

/* Why a BIR failed, besides a result code. */
enum fail_kind {
	F_TIMEOUT, F_IO, F_MALFORMED, F_NO_RESULT, F_NO_KEY, F_KEY_LEN, F_NO_USER_NAME,
	F__COUNT
};

static const char *const fail_names[F__COUNT] = {
	"timeout", "io", "malformed", "no-result", "no-key", "key-len", "no-user-name",
};

struct code_count {
	uint32_t code;
	int experimental;
	uint64_t n;
};

struct stats {
	uint64_t ok, failed, unmatched;
	uint64_t kinds[F__COUNT];
	struct code_count codes[MAX_CODES];
	unsigned n_codes;
	uint64_t other_codes;
	uint32_t *lat_us;
	size_t n_lat, cap_lat;
};

struct slot {
	uint32_t hbh, e2e;
	long long sent_ns;
	uint16_t gen;
	uint8_t busy;
};

enum conn_state { C_OPEN, C_DRAINING, C_CLOSED };

struct worker;

struct conn {
	struct worker *w;
	int fd;
	unsigned id;                 /* 1..C */
	char host[256], realm[256];  /* naf<id>.<domain>, <domain> */
	enum conn_state state;
	int close_when_flushed;      /* the BSF sent DPR: close after our DPA */
	uint32_t events;
	struct dr_buf out;
	size_t out_sent;
	uint8_t *in;
	size_t in_len, in_cap;
	struct slot *slots;
	unsigned n_slots, busy;
	uint32_t e2e_next, ua_next;
	uint64_t sessions;
	size_t next_btid;
};

struct worker {
	pthread_t th;
	const struct config *cfg;
	int ep;
	struct conn **conns;
	unsigned n_conns, open;
	long long stop_ns;
	struct stats st;
};


/* ---- Counting ------------------------------------------------------------------ */

static void count_kind(struct stats *st, enum fail_kind k)
{
	st->failed++;
	st->kinds[k]++;
}

static void add_code(struct stats *st, uint32_t code, int experimental, uint64_t n)
{
	for (unsigned i = 0; i < st->n_codes; i++) {
		if (st->codes[i].code == code && st->codes[i].experimental == experimental) {
			st->codes[i].n += n;
			return;
		}
	}
	if (st->n_codes == MAX_CODES) {
		st->other_codes += n;
		return;
	}
	st->codes[st->n_codes++] = (struct code_count){ code, experimental, n };
}

static void count_code(struct stats *st, uint32_t code, int experimental)
{
	st->failed++;
	add_code(st, code, experimental, 1);
}

static void count_ok(struct stats *st, long long ns)
{
	st->ok++;
	if (st->n_lat == st->cap_lat) {
		size_t cap = st->cap_lat ? 2 * st->cap_lat : 65536;
		uint32_t *v = realloc(st->lat_us, cap * sizeof(*v));
		if (!v)
			return;      /* the count stays right; only the sample is lost */
		st->lat_us = v;
		st->cap_lat = cap;
	}
	long long us = ns / 1000;
	st->lat_us[st->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* ---- Messages we send ------------------------------------------------------------- */

static void add_origin(struct dr_buf *b, const struct conn *c)
{
	dr_avp_str(b, AVP_ORIGIN_HOST, DR_AVP_M, 0, c->host);
	dr_avp_str(b, AVP_ORIGIN_REALM, DR_AVP_M, 0, c->realm);
}

static void add_zn_vsai(struct dr_buf *b)
{
	size_t g = dr_group_begin(b, AVP_VSAI, DR_AVP_M, 0);

	dr_avp_u32(b, AVP_VENDOR_ID, DR_AVP_M, 0, VENDOR_3GPP);
	dr_avp_u32(b, AVP_AUTH_APPLICATION_ID, DR_AVP_M, 0, APP_ZN);
	dr_group_end(b, g);
}

/* CER (RFC 6733 5.3.1): no Inband-Security-Id (deprecated; plain TCP). */
static void build_cer(struct conn *c, const uint8_t local_ip[4])
{
	struct dr_buf *b = &c->out;
	size_t m = dr_msg_begin(b, DR_CMD_R, CMD_CE, 0, CTRL_SLOT, c->e2e_next++);

	add_origin(b, c);
	dr_avp_ipv4(b, AVP_HOST_IP_ADDRESS, DR_AVP_M, local_ip);
	dr_avp_u32(b, AVP_VENDOR_ID, DR_AVP_M, 0, 0);   /* no IANA enterprise number of ours */
	dr_avp_str(b, AVP_PRODUCT_NAME, 0, 0, "gba zn-load");   /* M must be clear (5.3.7) */
	dr_avp_u32(b, AVP_ORIGIN_STATE_ID, DR_AVP_M, 0, (uint32_t)time(NULL));
	dr_avp_u32(b, AVP_SUPPORTED_VENDOR_ID, DR_AVP_M, 0, VENDOR_3GPP);
	add_zn_vsai(b);
	dr_msg_end(b, m);
}

static void build_dpr(struct conn *c)
{
	struct dr_buf *b = &c->out;
	size_t m = dr_msg_begin(b, DR_CMD_R, CMD_DP, 0, CTRL_SLOT, c->e2e_next++);

	add_origin(b, c);
	dr_avp_u32(b, AVP_DISCONNECT_CAUSE, DR_AVP_M, 0, DISCONNECT_REBOOTING);
	dr_msg_end(b, m);
}

/* The answer to a request of the BSF's (DWR, DPR, anything else). */
static void build_answer(struct conn *c, const struct dr_msg *req, uint32_t result)
{
	struct dr_buf *b = &c->out;
	uint8_t flags = (uint8_t)((req->flags & DR_CMD_P) | (result / 1000 == 3 ? DR_CMD_E : 0));
	size_t m = dr_msg_begin(b, flags, req->code, req->app, req->hbh, req->e2e);
	struct dr_avp sid;

	/* An answer carries its request's Session-Id first, when there is one. */
	if (dr_find(req->avps, req->avps_len, AVP_SESSION_ID, 0, &sid) == 1)
		dr_avp_os(b, AVP_SESSION_ID, DR_AVP_M, 0, sid.data, sid.len);
	dr_avp_u32(b, AVP_RESULT_CODE, DR_AVP_M, 0, result);
	add_origin(b, c);
	dr_msg_end(b, m);
}

/* The Ua security protocol id of the next BIR: 0x01 (3GPP) and a 4-octet
 * counter.  Not a registered protocol (TS 33.220 Annex H), but the BSF takes
 * the NAF_Id as opaque octets for the KDF, and the counter makes every
 * NAF_Id of a connection distinct for 2^32 BIRs. */
static void next_ua_id(struct conn *c, uint8_t ua[UA_ID_LEN])
{
	uint32_t u = c->ua_next++;

	ua[0] = 0x01;
	ua[1] = (uint8_t)(u >> 24);
	ua[2] = (uint8_t)(u >> 16);
	ua[3] = (uint8_t)(u >> 8);
	ua[4] = (uint8_t)u;
}

/* NAF_Id = FQDN || Ua security protocol id: this connection's identity. */
static size_t naf_id(const struct conn *c, const uint8_t ua[UA_ID_LEN], uint8_t *out)
{
	size_t n = strlen(c->host);

	memcpy(out, c->host, n);
	memcpy(out + n, ua, UA_ID_LEN);
	return n + UA_ID_LEN;
}

/* BIR (TS 29.109 5.2.2; the layout of lib/diameter/src/zn_client.c). */
static void build_bir(struct conn *c, const struct config *cfg, uint32_t hbh, uint32_t e2e,
		      const struct btid *bt, const uint8_t ua[UA_ID_LEN])
{
	struct dr_buf *b = &c->out;
	char sid[300];
	uint8_t nid[FQDN_MAX + UA_ID_LEN];
	size_t m = dr_msg_begin(b, DR_CMD_R | DR_CMD_P, CMD_BI, APP_ZN, hbh, e2e);

	/* <DiameterIdentity>;<high 32 bits>;<low 32 bits>[;<optional>] (RFC 6733 8.8) */
	snprintf(sid, sizeof(sid), "%s;%u;%" PRIu64 ";zn", c->host, c->id, c->sessions++);
	dr_avp_str(b, AVP_SESSION_ID, DR_AVP_M, 0, sid);
	add_zn_vsai(b);
	dr_avp_u32(b, AVP_AUTH_SESSION_STATE, DR_AVP_M, 0, NO_STATE_MAINTAINED);
	add_origin(b, c);
	dr_avp_str(b, AVP_DESTINATION_REALM, DR_AVP_M, 0, bt->realm);
	dr_avp_str(b, AVP_DESTINATION_HOST, DR_AVP_M, 0, cfg->bsf_id);
	dr_avp_os(b, AVP_TRANSACTION_IDENTIFIER, DR_AVP_M, VENDOR_3GPP, bt->text, bt->len);
	dr_avp_os(b, AVP_NAF_ID, DR_AVP_M, VENDOR_3GPP, nid, naf_id(c, ua, nid));
	if (cfg->gba_u_aware)
		dr_avp_u32(b, AVP_GBA_U_AWARENESS_INDICATOR, DR_AVP_M, VENDOR_3GPP, 1);   /* YES */
	if (cfg->gaa_service_id)
		dr_avp_str(b, AVP_GAA_SERVICE_IDENTIFIER, DR_AVP_M, VENDOR_3GPP,
			   cfg->gaa_service_id);
	dr_msg_end(b, m);
}

/* ---- Reading a BIA ----------------------------------------------------------------- */

struct bia {
	int have_result, experimental, user_name;
	uint32_t result;
	long key_len;                /* -1: no ME-Key-Material */
};

static int read_exp_result(struct dr_avp *g, struct bia *b)
{
	struct dr_avp a;
	int r = dr_find(g->data, g->len, AVP_EXPERIMENTAL_RESULT_CODE, 0, &a);

	if (r != 1 || dr_avp_u32_value(&a, &b->result))
		return -1;
	b->have_result = b->experimental = 1;
	return 0;
}

/* The parts of a BIA that decide ok or not; the key is wiped where it lies. */
static int read_bia(const struct dr_msg *m, struct bia *b)
{
	struct dr_iter it;
	struct dr_avp a;
	int r;

	memset(b, 0, sizeof(*b));
	b->key_len = -1;
	dr_iter_init(&it, m->avps, m->avps_len);
	while ((r = dr_iter_next(&it, &a)) == 1) {
		if (a.code == AVP_RESULT_CODE && a.vendor == 0) {
			if (dr_avp_u32_value(&a, &b->result))
				return -1;
			b->have_result = 1;
		} else if (a.code == AVP_EXPERIMENTAL_RESULT && a.vendor == 0) {
			if (read_exp_result(&a, b))
				return -1;
		} else if (a.code == AVP_ME_KEY_MATERIAL && a.vendor == VENDOR_3GPP) {
			b->key_len = (long)a.len;
			explicit_bzero(a.data, a.len);
		} else if (a.code == AVP_USER_NAME && a.vendor == 0) {
			b->user_name = a.len > 0;
		}
	}
	return r;
}

static void judge_bia(struct stats *st, const struct dr_msg *m, long long latency_ns)
{
	struct bia b;

	if (read_bia(m, &b) < 0)
		count_kind(st, F_MALFORMED);
	else if (!b.have_result)
		count_kind(st, F_NO_RESULT);
	else if (b.experimental || b.result != RC_SUCCESS || (m->flags & DR_CMD_E))
		count_code(st, b.result, b.experimental);
	else if (b.key_len < 0)
		count_kind(st, F_NO_KEY);
	else if (b.key_len != KEY_LEN)
		count_kind(st, F_KEY_LEN);
	else if (!b.user_name)
		count_kind(st, F_NO_USER_NAME);
	else
		count_ok(st, latency_ns);
}

/* ---- One connection during the load ------------------------------------------------ */

static void watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	epoll_ctl(c->w->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->events = events;
}

/* Closes; BIRs still in flight during the run count as failed (io). */
static void conn_close(struct conn *c, long long now)
{
	if (c->state == C_CLOSED)
		return;
	for (unsigned i = 0; i < c->n_slots; i++) {
		if (c->slots[i].busy && now < c->w->stop_ns)
			count_kind(&c->w->st, F_IO);
		c->slots[i].busy = 0;
	}
	c->busy = 0;
	close(c->fd);    /* also leaves the epoll set */
	c->fd = -1;
	c->state = C_CLOSED;
	c->w->open--;
}

static void conn_lost(struct conn *c, const char *why, long long now)
{
	if (c->state == C_OPEN && !c->close_when_flushed)
		fprintf(stderr, "zn-load: %s: %s\n", c->host, why);
	conn_close(c, now);
}

/* Sends what is queued; 0, or -1 when the connection is gone. */
static int conn_flush(struct conn *c, long long now)
{
	if (c->out.oom) {
		conn_lost(c, "out of memory", now);
		return -1;
	}
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_sent, c->out.len - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(c, EPOLLIN | EPOLLOUT);
			return 0;
		}
		if (n < 0) {
			conn_lost(c, strerror(errno), now);
			return -1;
		}
		c->out_sent += (size_t)n;
	}
	c->out.len = c->out_sent = 0;
	if (c->close_when_flushed) {
		conn_close(c, now);
		return -1;
	}
	watch(c, EPOLLIN);
	return 0;
}

static void issue_bir(struct conn *c, unsigned i, long long now)
{
	const struct config *cfg = c->w->cfg;
	struct slot *s = &c->slots[i];
	uint8_t ua[UA_ID_LEN];

	s->gen++;
	s->hbh = (uint32_t)s->gen << SLOT_BITS | i;
	s->e2e = c->e2e_next++;
	s->sent_ns = now;
	s->busy = 1;
	c->busy++;
	next_ua_id(c, ua);
	build_bir(c, cfg, s->hbh, s->e2e, &cfg->btids[c->next_btid++ % cfg->n_btids], ua);
}

static void send_dpr(struct conn *c)
{
	if (c->state != C_OPEN || c->close_when_flushed)
		return;
	build_dpr(c);
	c->state = C_DRAINING;
}

/* A BIR's slot is free again: refill it during the run (unless the BSF is
 * leaving), else maybe say goodbye. */
static void slot_done(struct conn *c, unsigned i, long long now)
{
	c->slots[i].busy = 0;
	c->busy--;
	if (now < c->w->stop_ns && !c->close_when_flushed)
		issue_bir(c, i, now);
	else if (c->busy == 0)
		send_dpr(c);
}

static void on_bia(struct conn *c, const struct dr_msg *m, long long now)
{
	unsigned i = m->hbh & MAX_PER_CONN;
	struct slot *s = i < c->n_slots ? &c->slots[i] : NULL;

	/* A late answer to a BIR given up (timeout) no longer matches. */
	if (!s || !s->busy || s->hbh != m->hbh || s->e2e != m->e2e) {
		c->w->st.unmatched++;
		return;
	}
	if (now < c->w->stop_ns)
		judge_bia(&c->w->st, m, now - s->sent_ns);
	slot_done(c, i, now);
}

static void on_request(struct conn *c, const struct dr_msg *m)
{
	if (m->code == CMD_DW) {
		build_answer(c, m, RC_SUCCESS);
	} else if (m->code == CMD_DP) {
		build_answer(c, m, RC_SUCCESS);
		c->close_when_flushed = 1;
		fprintf(stderr, "zn-load: %s: the BSF sent DPR: disconnecting\n", c->host);
	} else {
		build_answer(c, m, RC_COMMAND_UNSUPPORTED);
	}
}

static void on_message(struct conn *c, const struct dr_msg *m, long long now)
{
	if (m->flags & DR_CMD_R)
		on_request(c, m);
	else if (m->code == CMD_BI)
		on_bia(c, m, now);
	else if (m->code == CMD_DP && c->state == C_DRAINING)
		conn_close(c, now);
	else if (m->code != CMD_DW)
		c->w->st.unmatched++;
}

/* Handles every whole message in the input buffer; -1 when framing is lost. */
static int conn_parse(struct conn *c, long long now)
{
	size_t off = 0;
	struct dr_msg m;
	int r;

	while ((r = dr_msg_parse(c->in + off, c->in_len - off, MAX_MSG, &m)) == 1) {
		on_message(c, &m, now);
		off += m.len;
		if (c->state == C_CLOSED)
			return 0;
	}
	if (r < 0)
		return -1;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static int conn_grow_in(struct conn *c)
{
	size_t cap = c->in_cap * 2;
	uint8_t *p;

	if (c->in_cap >= MAX_MSG + IN_BUF)
		return -1;
	p = realloc(c->in, cap);
	if (!p)
		return -1;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

static void conn_read(struct conn *c, long long now)
{
	for (;;) {
		if (c->in_len == c->in_cap && conn_grow_in(c)) {
			conn_lost(c, "a message too large", now);
			return;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_lost(c, n ? strerror(errno) : "the BSF closed the connection", now);
			return;
		}
		c->in_len += (size_t)n;
		if (conn_parse(c, now)) {
			conn_lost(c, "not Diameter (framing lost)", now);
			return;
		}
		if (c->state == C_CLOSED)
			return;
	}
}

static void conn_event(struct conn *c, uint32_t events, long long now)
{
	if (c->state == C_CLOSED)
		return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c, now);
	if (c->state != C_CLOSED)
		conn_flush(c, now);
}

/* BIRs unanswered for --timeout count as failed; their slots go on. */
static void scan_timeouts(struct conn *c, long long now)
{
	long long limit = (long long)c->w->cfg->timeout_ms * 1000000LL;

	for (unsigned i = 0; i < c->n_slots && c->state != C_CLOSED; i++) {
		if (!c->slots[i].busy || now - c->slots[i].sent_ns < limit)
			continue;
		if (now < c->w->stop_ns)
			count_kind(&c->w->st, F_TIMEOUT);
		slot_done(c, i, now);
	}
	if (c->state != C_CLOSED)
		conn_flush(c, now);
}

/* ---- Workers ----------------------------------------------------------------------- */

static void worker_start_conns(struct worker *w, long long now)
{
	for (unsigned k = 0; k < w->n_conns; k++) {
		struct conn *c = w->conns[k];

		c->w = w;
		c->state = C_OPEN;
		w->open++;
		watch(c, EPOLLIN);
		for (unsigned i = 0; i < c->n_slots; i++)
			issue_bir(c, i, now);
		/* Bytes that came behind the CEA (a DWR, say). */
		if (conn_parse(c, now))
			conn_lost(c, "not Diameter (framing lost)", now);
		if (c->state != C_CLOSED)
			conn_flush(c, now);
	}
}

/* After the run: a connection with nothing in flight says DPR now. */
static void worker_wind_down(struct worker *w, long long now)
{
	for (unsigned k = 0; k < w->n_conns; k++) {
		struct conn *c = w->conns[k];
		if (c->state == C_OPEN && c->busy == 0) {
			send_dpr(c);
			conn_flush(c, now);
		}
	}
}

static int wait_ms(long long now, long long stop_ns, int stopping)
{
	long long left = stop_ns - now;

	if (stopping || left > SCAN_NS)
		return (int)(SCAN_NS / 1000000);
	return left > 0 ? (int)((left + 999999) / 1000000) : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	long long now = bench_now_ns(), last_scan = now, end = w->stop_ns + DRAIN_NS;
	int stopping = 0;

	worker_start_conns(w, now);
	while (w->open > 0 && now < end) {
		int n = epoll_wait(w->ep, evs, 64, wait_ms(now, w->stop_ns, stopping));

		now = bench_now_ns();
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events, now);
		if (!stopping && now >= w->stop_ns) {
			stopping = 1;
			worker_wind_down(w, now);
		}
		if (now - last_scan >= SCAN_NS) {
			last_scan = now;
			for (unsigned k = 0; k < w->n_conns; k++)
				if (w->conns[k]->state != C_CLOSED)
					scan_timeouts(w->conns[k], now);
		}
	}
	for (unsigned k = 0; k < w->n_conns; k++)
		conn_close(w->conns[k], now);   /* whoever did not answer the DPR in time */
	return NULL;
}

/* ---- Setting up a connection: TCP, CER, CEA ----------------------------------------- */

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left = deadline - bench_now_ns();
	int r;

	if (left <= 0)
		return 0;
	do
		r = poll(&p, 1, (int)((left + 999999) / 1000000));
	while (r < 0 && errno == EINTR);
	return r;
}

static int tcp_connect(const struct config *cfg, const char *who)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0) {
		fprintf(stderr, "zn-load: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));   /* we batch ourselves */
	if (connect(fd, (const struct sockaddr *)&cfg->bsf, sizeof(cfg->bsf)) && errno != EINPROGRESS)
		err = errno;
	else if (wait_fd(fd, POLLOUT, bench_now_ns() + SETUP_TIMEOUT_MS * 1000000LL) <= 0)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		fprintf(stderr, "zn-load: %s: cannot connect to %s: %s%s\n", who, cfg->bsf_text,
			strerror(err), err == ECONNREFUSED ?
			" (is gba-bsf running with zn.enabled = on on that port?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(struct conn *c, long long deadline)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
		if (n > 0)
			c->out_sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		else if (wait_fd(c->fd, POLLOUT, deadline) <= 0)
			return -1;
	}
	c->out.len = c->out_sent = 0;
	return 0;
}

/* Reads until one whole message is buffered: 1, or 0 on timeout/EOF, -1 not Diameter. */
static int recv_msg(struct conn *c, struct dr_msg *m, long long deadline)
{
	int r;

	while ((r = dr_msg_parse(c->in, c->in_len, MAX_MSG, m)) == 0) {
		ssize_t n;
		if (c->in_len == c->in_cap && conn_grow_in(c))
			return -1;
		if (wait_fd(c->fd, POLLIN, deadline) <= 0)
			return 0;
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 0;
		if (n > 0)
			c->in_len += (size_t)n;
	}
	return r;
}

/* Printable text of an AVP value, for an error message from the BSF. */
static void avp_text(char *out, size_t size, const struct dr_avp *a)
{
	size_t i;

	for (i = 0; i < a->len && i + 1 < size; i++)
		out[i] = (a->data[i] >= 0x20 && a->data[i] < 0x7f) ? (char)a->data[i] : '?';
	out[i] = '\0';
}

/* Does the CEA offer Zn (or relay everything)? */
static int cea_has_zn(const struct dr_msg *m)
{
	struct dr_iter it;
	struct dr_avp a, in;
	uint32_t v;

	dr_iter_init(&it, m->avps, m->avps_len);
	while (dr_iter_next(&it, &a) == 1) {
		if (a.code == AVP_AUTH_APPLICATION_ID && !dr_avp_u32_value(&a, &v) &&
		    (v == APP_ZN || v == APP_RELAY))
			return 1;
		if (a.code == AVP_VSAI &&
		    dr_find(a.data, a.len, AVP_AUTH_APPLICATION_ID, 0, &in) == 1 &&
		    !dr_avp_u32_value(&in, &v) && v == APP_ZN)
			return 1;
	}
	return 0;
}

static int check_cea(struct conn *c, const struct dr_msg *m, char *bsf_id, size_t bsf_id_size)
{
	struct dr_avp a;
	uint32_t rc = 0;
	char text[200] = "";

	if ((m->flags & DR_CMD_R) || m->code != CMD_CE) {
		fprintf(stderr, "zn-load: %s: expected a CEA, got command %u%s\n", c->host, m->code,
			(m->flags & DR_CMD_R) ? " (a request)" : "");
		return -1;
	}
	if (dr_find(m->avps, m->avps_len, AVP_RESULT_CODE, 0, &a) != 1 || dr_avp_u32_value(&a, &rc) ||
	    rc != RC_SUCCESS) {
		if (dr_find(m->avps, m->avps_len, AVP_ERROR_MESSAGE, 0, &a) == 1)
			avp_text(text, sizeof(text), &a);
		fprintf(stderr, "zn-load: %s: the BSF refused the CER: Result-Code %u%s%s\n", c->host,
			rc, *text ? ", " : "", text);
		return -1;
	}
	if (dr_find(m->avps, m->avps_len, AVP_ORIGIN_HOST, 0, &a) != 1 || a.len == 0 ||
	    a.len >= bsf_id_size) {
		fprintf(stderr, "zn-load: %s: the CEA has no usable Origin-Host\n", c->host);
		return -1;
	}
	avp_text(bsf_id, bsf_id_size, &a);
	if (!cea_has_zn(m)) {
		fprintf(stderr, "zn-load: %s: the peer %s does not offer Zn (application %u) in its CEA\n",
			c->host, bsf_id, APP_ZN);
		return -1;
	}
	return 0;
}

static int local_ipv4(int fd, uint8_t ip[4])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) || sa.sin_family != AF_INET)
		return -1;
	memcpy(ip, &sa.sin_addr.s_addr, 4);
	return 0;
}

/* TCP, CER, CEA: the connection is then open, its socket non-blocking. */
static int conn_setup(struct conn *c, struct config *cfg)
{
	long long deadline = bench_now_ns() + SETUP_TIMEOUT_MS * 1000000LL;
	uint8_t ip[4];
	struct dr_msg m;
	int r;

	c->fd = tcp_connect(cfg, c->host);
	if (c->fd < 0 || local_ipv4(c->fd, ip))
		return -1;
	build_cer(c, ip);
	if (c->out.oom || send_all(c, deadline)) {
		fprintf(stderr, "zn-load: %s: cannot send the CER to %s\n", c->host, cfg->bsf_text);
		return -1;
	}
	r = recv_msg(c, &m, deadline);
	if (r <= 0) {
		fprintf(stderr, "zn-load: %s: %s from %s within %d ms\n", c->host,
			r ? "not Diameter" : "no CEA", cfg->bsf_text, SETUP_TIMEOUT_MS);
		return -1;
	}
	if (check_cea(c, &m, cfg->bsf_id, sizeof(cfg->bsf_id)))
		return -1;
	memmove(c->in, c->in + m.len, c->in_len - m.len);
	c->in_len -= m.len;
	return 0;
}

/* ---- --kcv: is the key material the right key? ------------------------------------- */

/* --verify: a refusal is an answer to print, not a reason to stop. */
static int cfg_verify;

/* Ua over HTTP Digest (TS 24.109): the Ua id gba-test-ue's --naf derives with. */
static const uint8_t UA_HTTP_DIGEST[UA_ID_LEN] = { 0x01, 0x00, 0x00, 0x00, 0x02 };

/* The BIA to one BIR sent before the load: its key's check value, or why not. */
static int kcv_read(const struct conn *c, const struct dr_msg *m, uint32_t e2e, char out[7],
		    uint32_t *code)
{
	struct dr_avp a;
	struct bia b;
	int r = 0;

	*code = 0;
	if ((m->flags & DR_CMD_R) || m->code != CMD_BI || m->hbh != CTRL_SLOT || m->e2e != e2e) {
		fprintf(stderr, "zn-load: %s: --kcv: command %u came instead of the BIA\n", c->host,
			m->code);
		return -1;
	}
	/* The check value gba-test-ue prints (libgba's gba_kcv); read_bia then wipes the key. */
	if (dr_find(m->avps, m->avps_len, AVP_ME_KEY_MATERIAL, VENDOR_3GPP, &a) != 1 ||
	    a.len != KEY_LEN || gba_kcv(out, a.data, a.len))
		r = -1;
	read_bia(m, &b);
	*code = b.result;
	if (r && !cfg_verify)
		fprintf(stderr, "zn-load: %s: --kcv: no key of 32 octets in the BIA (%s %u)\n",
			c->host, b.experimental ? "Experimental-Result-Code" : "Result-Code", b.result);
	return r;
}

/*
 * One BIR per B-TID on connection 1 for NAF_Id = its FQDN || 01 00 00 00 02,
 * before the load; prints the check value of each ME-Key-Material, which
 * must equal gba-test-ue's ks_naf_kcv for the same B-TID and --naf FQDN:
 * then the BSF derived the right Ks_NAF (run-zn-load.sh compares them).
 */
static int kcv_probe(struct conn *c, const struct config *cfg)
{
	cfg_verify = cfg->verify;
	for (size_t i = 0; i < cfg->n_btids; i++) {
		long long deadline = bench_now_ns() + SETUP_TIMEOUT_MS * 1000000LL;
		uint32_t e2e = c->e2e_next++, code = 0;
		char kcv[7] = "-";
		struct dr_msg m;
		int r;

		build_bir(c, cfg, CTRL_SLOT, e2e, &cfg->btids[i], UA_HTTP_DIGEST);
		if (c->out.oom || send_all(c, deadline) || (r = recv_msg(c, &m, deadline)) <= 0) {
			fprintf(stderr, "zn-load: %s: no BIA for the --kcv BIR\n", c->host);
			return -1;
		}
		r = kcv_read(c, &m, e2e, kcv, &code);
		printf("key check         %s %s %s %u\n", cfg->btids[i].text, c->host, kcv, code);
		memmove(c->in, c->in + m.len, c->in_len - m.len);
		c->in_len -= m.len;
		if (r && !cfg->verify)
			return -1;
	}
	return 0;
}

/* ---- Options ------------------------------------------------------------------------ */

struct options {
	const char *bsf, *btid_file, *naf_domain, *gaa_service_id;
	const char **btids;
	size_t n_btids;
	unsigned connections, in_flight, threads;
	double duration;
	int timeout_ms, gba_u_aware, strict, kcv, verify;
	long server_pids[MAX_SERVERS];
	unsigned n_servers;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: zn-load --bsf IPV4:PORT (--btid B-TID ... | --btid-file FILE)\n"
		"               [--connections C] [--in-flight N] [--duration S] [--threads T]\n"
		"               [--naf-domain D] [--timeout MS] [--gaa-service-id ID] [--gba-u-aware]\n"
		"               [--server-pid PID ...] [--strict] [--kcv]\n"
		"       zn-load --bsf IPV4:PORT --btid-file FILE --verify\n"
		"       zn-load -h|--help, -V|--version\n"
		"Connection i is the NAF naf<i>.D (default D: bench.test); the N BIRs in flight\n"
		"(default 64) are shared among the C connections (default 1).  --kcv first asks\n"
		"once per B-TID for NAF_Id naf1.D || 01 00 00 00 02 and prints the key's check\n"
		"value (gba-test-ue --naf naf1.D prints the UE's); --verify only that, one line\n"
		"per B-TID with its result code, going on after a refusal.\n"
		"Exit codes: 0 done, 1 failure, 2 bad usage.\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return (!*s || *end || errno || *v > max || *s == '-') ? -1 : 0;
}

static int add_server_pid(struct options *o, const char *s)
{
	unsigned long v;

	if (o->n_servers == MAX_SERVERS || parse_uint(s, 0x7fffffff, &v) || v == 0) {
		fprintf(stderr, "zn-load: --server-pid: a process id (at most %d of them)\n",
			MAX_SERVERS);
		return -1;
	}
	o->server_pids[o->n_servers++] = (long)v;
	return 0;
}

static int add_btid_arg(struct options *o, const char *s)
{
	const char **v = realloc(o->btids, (o->n_btids + 1) * sizeof(*v));

	if (!v)
		return -1;
	o->btids = v;
	o->btids[o->n_btids++] = s;
	return 0;
}

static int number_option(int c, const char *arg, struct options *o)
{
	unsigned long v;
	char *end;

	switch (c) {
	case 'c':
	case 'n':
	case 't':
	case 'T':
		if (parse_uint(arg, 1000000, &v))
			return -1;
		if (c == 'c')
			o->connections = (unsigned)v;
		else if (c == 'n')
			o->in_flight = (unsigned)v;
		else if (c == 't')
			o->threads = (unsigned)v;
		else
			o->timeout_ms = (int)v;
		return 0;
	case 'd':
		o->duration = strtod(arg, &end);
		return *end || end == arg ? -1 : 0;
	default:
		return -1;
	}
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "bsf", required_argument, NULL, 'b' },
		{ "btid", required_argument, NULL, 'B' },
		{ "btid-file", required_argument, NULL, 'f' },
		{ "connections", required_argument, NULL, 'c' },
		{ "in-flight", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "naf-domain", required_argument, NULL, 'D' },
		{ "gaa-service-id", required_argument, NULL, 'g' },
		{ "gba-u-aware", no_argument, NULL, 'u' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "strict", no_argument, NULL, 's' },
		{ "kcv", no_argument, NULL, 'k' },
		{ "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0;

	memset(o, 0, sizeof(*o));
	o->connections = 1;
	o->in_flight = 64;
	o->threads = 1;
	o->duration = 10;
	o->timeout_ms = 5000;
	o->naf_domain = "bench.test";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", opts, &idx)) != -1) {
		int bad = 0;
		switch (c) {
		case 'b': o->bsf = optarg; break;
		case 'B': bad = add_btid_arg(o, optarg); break;
		case 'f': o->btid_file = optarg; break;
		case 'D': o->naf_domain = optarg; break;
		case 'g': o->gaa_service_id = optarg; break;
		case 'u': o->gba_u_aware = 1; break;
		case 's': o->strict = 1; break;
		case 'k': o->kcv = 1; break;
		case 'v': o->verify = 1; break;
		case 'h': usage(stdout); return 1;
		case 'V': gba_cli_version("zn-load"); return 1;
		case '?':
			fprintf(stderr, "zn-load: unknown option '%s'\n", argv[optind - 1]);
			gba_cli_unknown("zn-load", opts, "hV");
			return -1;
		case ':':
			fprintf(stderr, "zn-load: %s needs a value\n", argv[optind - 1]);
			return -1;
		case 'P': bad = add_server_pid(o, optarg); break;
		case 'c': case 'n': case 'd': case 't': case 'T':
			bad = number_option(c, optarg, o);
			if (bad)
				fprintf(stderr, "zn-load: --%s: not a number: '%s'\n", opts[idx].name,
					optarg);
			break;
		default: return -1;
		}
		if (bad)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "zn-load: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- Configuration from the options ----------------------------------------------- */

static int parse_bsf(const char *s, struct config *cfg)
{
	char host[64];
	const char *colon = s ? strrchr(s, ':') : NULL;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || parse_uint(colon + 1, 65535, &port) ||
	    port == 0)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(&cfg->bsf, 0, sizeof(cfg->bsf));
	cfg->bsf.sin_family = AF_INET;
	cfg->bsf.sin_port = htons((uint16_t)port);
	cfg->bsf_text = s;
	return inet_pton(AF_INET, host, &cfg->bsf.sin_addr) == 1 ? 0 : -1;
}

/* A B-TID as the BSF accepts it (printable, 1..280 octets) with a domain. */
static int btid_make(const char *s, struct btid *b)
{
	const char *at = strrchr(s, '@');
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return -1;
	if (n == 0 || n > BTID_MAX || !at || at == s || !at[1])
		return -1;
	b->text = s;
	b->len = n;
	b->realm = at + 1;
	return 0;
}

static int btids_add(struct config *cfg, const char *s, char *own)
{
	struct btid *v = realloc(cfg->btids, (cfg->n_btids + 1) * sizeof(*v));

	if (!v) {
		free(own);
		return -1;
	}
	cfg->btids = v;
	v[cfg->n_btids].own = own;
	if (btid_make(s, &v[cfg->n_btids])) {
		free(own);
		fprintf(stderr, "zn-load: '%.300s' is not a B-TID (printable, at most %d octets, "
			"ending in @domain)\n", s, BTID_MAX);
		return -1;
	}
	cfg->n_btids++;
	return 0;
}

static int btids_load(struct config *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[BTID_MAX + 64];
	int rc = 0;

	if (!f) {
		fprintf(stderr, "zn-load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *copy;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		copy = strdup(line);
		rc = copy ? btids_add(cfg, copy, copy) : -1;
	}
	fclose(f);
	return rc;
}

static int valid_domain(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > FQDN_MAX - 16 || d[0] == '.' || d[0] == '-')
		return 0;
	return strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static int check_numbers(const struct options *o)
{
	if (o->connections < 1 || o->connections > 4096 || o->threads < 1 ||
	    o->threads > o->connections) {
		fprintf(stderr, "zn-load: need 1 <= --threads <= --connections <= 4096\n");
		return -1;
	}
	if (o->in_flight < o->connections ||
	    (o->in_flight + o->connections - 1) / o->connections > MAX_PER_CONN) {
		fprintf(stderr, "zn-load: --in-flight must be at least --connections and at most "
			"%u per connection\n", MAX_PER_CONN);
		return -1;
	}
	if (!(o->duration > 0 && o->duration <= 3600) || o->timeout_ms < 1) {
		fprintf(stderr, "zn-load: need 0 < --duration <= 3600 and --timeout >= 1\n");
		return -1;
	}
	return 0;
}

static void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_btids; i++)
		free(cfg->btids[i].own);
	free(cfg->btids);
	cfg->btids = NULL;
	cfg->n_btids = 0;
}

static int setup(const struct options *o, struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (parse_bsf(o->bsf, cfg)) {
		fprintf(stderr, "zn-load: --bsf: an IPv4 address and port, e.g. 127.0.0.1:3868\n");
		return -1;
	}
	if (check_numbers(o))
		return -1;
	if (!valid_domain(o->naf_domain)) {
		fprintf(stderr, "zn-load: --naf-domain: a DNS name of letters, digits, '.', '-'\n");
		return -1;
	}
	for (size_t i = 0; i < o->n_btids; i++)
		if (btids_add(cfg, o->btids[i], NULL))
			return -1;
	if (o->btid_file && btids_load(cfg, o->btid_file))
		return -1;
	if (!cfg->n_btids) {
		fprintf(stderr, "zn-load: no B-TID: give --btid or --btid-file\n");
		return -1;
	}
	cfg->naf_domain = o->naf_domain;
	cfg->connections = o->connections;
	cfg->threads = o->threads;
	cfg->in_flight = o->in_flight;
	cfg->duration = o->duration;
	cfg->timeout_ms = o->timeout_ms;
	cfg->gaa_service_id = o->gaa_service_id;
	cfg->gba_u_aware = o->gba_u_aware;
	cfg->strict = o->strict;
	cfg->kcv = o->kcv || o->verify;
	cfg->verify = o->verify;
	memcpy(cfg->server_pids, o->server_pids, sizeof(cfg->server_pids));
	cfg->n_servers = o->n_servers;
	return 0;
}

/* ---- The run ------------------------------------------------------------------------ */

static struct conn *conn_new(const struct config *cfg, unsigned id)
{
	struct conn *c = calloc(1, sizeof(*c));
	unsigned share = cfg->in_flight / cfg->connections +
			 (id - 1 < cfg->in_flight % cfg->connections ? 1 : 0);

	if (!c)
		return NULL;
	c->fd = -1;
	c->id = id;
	c->state = C_CLOSED;
	snprintf(c->host, sizeof(c->host), "naf%u.%s", id, cfg->naf_domain);
	snprintf(c->realm, sizeof(c->realm), "%s", cfg->naf_domain);
	c->n_slots = share;
	c->slots = calloc(share, sizeof(*c->slots));
	c->in_cap = IN_BUF;
	c->in = malloc(c->in_cap);
	/* End-to-End ids: high 12 bits from the clock, as RFC 6733 3 suggests. */
	c->e2e_next = (uint32_t)time(NULL) << 20 | (id & 0xfff) << 8;
	c->next_btid = id - 1;   /* spread the B-TIDs over the connections */
	if (!c->slots || !c->in) {
		free(c->slots);
		free(c->in);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	dr_buf_free(&c->out);
	free(c->in);
	free(c->slots);
	free(c);
}

static int open_all(struct config *cfg, struct conn **conns)
{
	for (unsigned i = 0; i < cfg->connections; i++) {
		conns[i] = conn_new(cfg, i + 1);
		if (!conns[i]) {
			fprintf(stderr, "zn-load: out of memory\n");
			return -1;
		}
		if (conn_setup(conns[i], cfg))
			return -1;
	}
	return 0;
}

static int start_workers(const struct config *cfg, struct worker *w, struct conn **conns,
			 long long stop_ns)
{
	for (unsigned t = 0; t < cfg->threads; t++) {
		w[t].cfg = cfg;
		w[t].stop_ns = stop_ns;
		w[t].ep = epoll_create1(EPOLL_CLOEXEC);
		w[t].conns = calloc(cfg->connections, sizeof(*w[t].conns));
		if (w[t].ep < 0 || !w[t].conns)
			return -1;
	}
	for (unsigned i = 0; i < cfg->connections; i++) {
		struct worker *x = &w[i % cfg->threads];
		x->conns[x->n_conns++] = conns[i];
		conns[i]->w = x;
	}
	for (unsigned t = 0; t < cfg->threads; t++)
		if (pthread_create(&w[t].th, NULL, worker_main, &w[t]))
			return -1;
	return 0;
}

static void merge_codes(struct stats *t, const struct stats *s)
{
	for (unsigned i = 0; i < s->n_codes; i++)
		add_code(t, s->codes[i].code, s->codes[i].experimental, s->codes[i].n);
	t->other_codes += s->other_codes;
}

static int merge(const struct worker *w, unsigned n, struct stats *t)
{
	size_t lat = 0;

	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < n; i++)
		lat += w[i].st.n_lat;
	t->lat_us = malloc((lat ? lat : 1) * sizeof(*t->lat_us));
	if (!t->lat_us)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct stats *s = &w[i].st;
		t->ok += s->ok;
		t->failed += s->failed;
		t->unmatched += s->unmatched;
		for (int k = 0; k < F__COUNT; k++)
			t->kinds[k] += s->kinds[k];
		merge_codes(t, s);
		memcpy(t->lat_us + t->n_lat, s->lat_us, s->n_lat * sizeof(*s->lat_us));
		t->n_lat += s->n_lat;
	}
	return 0;
}



/* ---- Report ------------------------------------------------------------------------- */




static void print_errors(const struct stats *t)
{
	int any = 0;

	printf("errors            ");
	for (unsigned i = 0; i < t->n_codes; i++, any = 1)
		printf("%s%s-%" PRIu32 " %" PRIu64, any ? ", " : "",
		       t->codes[i].experimental ? "experimental" : "result", t->codes[i].code,
		       t->codes[i].n);
	if (t->other_codes) {
		printf("%sother codes %" PRIu64, any ? ", " : "", t->other_codes);
		any = 1;
	}
	for (int k = 0; k < F__COUNT; k++) {
		if (!t->kinds[k])
			continue;
		printf("%s%s %" PRIu64, any ? ", " : "", fail_names[k], t->kinds[k]);
		any = 1;
	}
	printf("%s\n", any ? "" : "none");
	if (t->unmatched)
		printf("unmatched         %" PRIu64 " answers matched no BIR in flight (late, after a "
		       "timeout)\n", t->unmatched);
}

static void report(const struct config *cfg, const struct stats *t, double elapsed,
		   const struct bench_cpu *self, const double *server_cpu, const int *server_ok)
{
	double ok = (double)t->ok;

	printf("zn-load: %s (%s), %.1f s, %u connection(s) on %u thread(s), %u BIRs in flight, "
	       "%zu B-TID(s)\n", cfg->bsf_text, cfg->bsf_id, elapsed, cfg->connections, cfg->threads,
	       cfg->in_flight, cfg->n_btids);
	printf("BIR/BIA           %" PRIu64 " ok, %" PRIu64 " failed\n", t->ok, t->failed);
	printf("BIR/BIA/s         %.0f\n", (double)t->ok / elapsed);
	printf("latency us        p50 %" PRIu32 "  p99 %" PRIu32 "  max %" PRIu32 "\n",
	       bench_percentile(t->lat_us, t->n_lat, 0.50), bench_percentile(t->lat_us, t->n_lat, 0.99),
	       t->n_lat ? t->lat_us[t->n_lat - 1] : 0);
	print_errors(t);
	if (!t->ok)
		return;   /* no per-BIR figure without a BIR */
	printf("zn-load cpu       %.1f us/BIR (user %.1f, system %.1f; %.0f%% of a core)\n",
	       (self->user + self->sys) * 1e6 / ok, self->user * 1e6 / ok, self->sys * 1e6 / ok,
	       100.0 * (self->user + self->sys) / elapsed);
	for (unsigned i = 0; i < cfg->n_servers; i++) {
		char name[32], label[64];
		bench_proc_name((pid_t)cfg->server_pids[i], name, sizeof(name));
		snprintf(label, sizeof(label), "%s cpu", name);
		if (!server_ok[i])
			printf("%-17s unknown (cannot read /proc/%ld/stat)\n", label,
			       cfg->server_pids[i]);
		else
			printf("%-17s %.1f us/BIR (%.0f%% of a core)\n", label,
			       server_cpu[i] * 1e6 / ok, 100.0 * server_cpu[i] / elapsed);
	}
}

static int load(struct config *cfg, struct conn **conns, struct stats *t)
{
	struct worker *w = calloc(cfg->threads, sizeof(*w));
	double srv0[MAX_SERVERS], srv[MAX_SERVERS];
	int srv_ok[MAX_SERVERS];
	struct bench_cpu c0, c1;
	long long t0, stop;

	if (!w)
		return -1;
	for (unsigned i = 0; i < cfg->n_servers; i++) {
		srv0[i] = bench_proc_cpu((pid_t)cfg->server_pids[i]);
		srv_ok[i] = srv0[i] > 0;
	}
	bench_self_cpu_times(&c0);
	t0 = bench_now_ns();
	stop = t0 + (long long)(cfg->duration * 1e9);
	if (start_workers(cfg, w, conns, stop)) {
		fprintf(stderr, "zn-load: cannot start the workers\n");
		exit(1);
	}
	for (unsigned i = 0; i < cfg->threads; i++)
		pthread_join(w[i].th, NULL);
	bench_self_cpu_times(&c1);
	for (unsigned i = 0; i < cfg->n_servers; i++) {
		srv[i] = bench_proc_cpu((pid_t)cfg->server_pids[i]) - srv0[i];
		srv_ok[i] = srv_ok[i] && srv[i] >= 0;
	}
	/* The rate is over the run proper; the wind-down after it counts for CPU. */
	double elapsed = (double)(stop - t0) / 1e9;
	struct bench_cpu self = { c1.user - c0.user, c1.sys - c0.sys };
	int rc = merge(w, cfg->threads, t);
	if (!rc) {
		bench_sort_u32(t->lat_us, t->n_lat);
		report(cfg, t, elapsed, &self, srv, srv_ok);
	}
	for (unsigned i = 0; i < cfg->threads; i++) {
		close(w[i].ep);
		free(w[i].conns);
		free(w[i].st.lat_us);
	}
	free(w);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct config cfg;
	struct conn **conns = NULL;
	struct stats t = { 0 };
	int rc = 1;

	rc = parse_options(argc, argv, &o);
	if (rc) {
		if (rc < 0)
			usage(stderr);
		free(o.btids);
		return rc > 0 ? 0 : 2;
	}
	rc = 1;
	if (setup(&o, &cfg)) {
		config_free(&cfg);
		free(o.btids);
		return 2;
	}
	conns = calloc(cfg.connections, sizeof(*conns));
	if (conns && cfg.verify) {
		rc = open_all(&cfg, conns) || kcv_probe(conns[0], &cfg) ? 1 : 0;
	} else if (conns && !open_all(&cfg, conns) && (!cfg.kcv || !kcv_probe(conns[0], &cfg)) &&
		   !load(&cfg, conns, &t)) {
		rc = t.ok ? 0 : 1;
		if (cfg.strict && t.failed) {
			fprintf(stderr, "zn-load: --strict: %" PRIu64 " BIRs failed\n", t.failed);
			rc = 1;
		}
	}
	for (unsigned i = 0; conns && i < cfg.connections; i++)
		conn_free(conns[i]);
	free(conns);
	free(t.lat_us);
	config_free(&cfg);
	free(o.btids);
	return rc;
}
