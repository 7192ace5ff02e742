/*
 * sim_apdu.c - one C-APDU to one R-APDU: parse the short APDU (ISO 7816-3
 * cases 1-4), check the class, dispatch, then apply Le the way the card's
 * protocol does:
 *   - a command that carries data and produces data (SELECT with FCP,
 *     AUTHENTICATE): in T=0, and in T=1 without Le, the card answers 61xx
 *     and keeps the data for GET RESPONSE (TS 102 221 7.3.1.1.4);
 *   - a command that only produces data (READ, STATUS, GET RESPONSE): a
 *     wrong Le gets 6Cxx (Le 00 in T=1 means "all there is").
 */
#include <stdio.h>
#include <string.h>

#include <gba/util.h>

#include "sim_internal.h"

#define INS_SELECT 0xA4
#define INS_STATUS 0xF2
#define INS_READ_BINARY 0xB0
#define INS_UPDATE_BINARY 0xD6
#define INS_READ_RECORD 0xB2
#define INS_UPDATE_RECORD 0xDC
#define INS_VERIFY 0x20
#define INS_AUTHENTICATE 0x88
#define INS_GET_RESPONSE 0xC0
#define INS_MANAGE_CHANNEL 0x70
#define INS_TERMINAL_PROFILE 0x10
#define INS_ENVELOPE 0xC2
#define INS_FETCH 0x12
#define INS_TERMINAL_RESPONSE 0x14

/* Short APDUs only; 0 when well formed. */
static int parse_apdu(const uint8_t *c, size_t n, struct sim_apdu *a)
{
	memset(a, 0, sizeof(*a));
	if (n < 4)
		return -1;
	a->cla = c[0];
	a->ins = c[1];
	a->p1 = c[2];
	a->p2 = c[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		a->has_le = 1;
		a->le = c[4] ? c[4] : 256;
		return 0;
	}
	if (c[4] == 0)
		return -1;                      /* extended length: not supported */
	a->lc = c[4];
	a->data = c + 5;
	if (n == 5 + a->lc)
		return 0;
	if (n == 6 + a->lc) {
		a->has_le = 1;
		a->le = c[5 + a->lc] ? c[5 + a->lc] : 256;
		return 0;
	}
	return -1;
}

static const char *ins_name(uint8_t ins)
{
	switch (ins) {
	case INS_SELECT: return "SELECT";
	case INS_STATUS: return "STATUS";
	case INS_READ_BINARY: return "READ BINARY";
	case INS_UPDATE_BINARY: return "UPDATE BINARY";
	case INS_READ_RECORD: return "READ RECORD";
	case INS_UPDATE_RECORD: return "UPDATE RECORD";
	case INS_VERIFY: return "VERIFY PIN";
	case INS_AUTHENTICATE: return "AUTHENTICATE";
	case INS_GET_RESPONSE: return "GET RESPONSE";
	case INS_MANAGE_CHANNEL: return "MANAGE CHANNEL";
	case INS_TERMINAL_PROFILE: return "TERMINAL PROFILE";
	case INS_ENVELOPE: return "ENVELOPE";
	case INS_FETCH: return "FETCH";
	case INS_TERMINAL_RESPONSE: return "TERMINAL RESPONSE";
	default: return "unknown INS";
	}
}

/* The kept answer may hold CK/IK or Ks_ext_NAF: wipe, not just forget. */
static void drop_pending(struct usim_sim *sim)
{
	gba_wipe(sim->pending, sizeof(sim->pending));
	sim->pending_len = 0;
}

/* GET RESPONSE: hand out what the last command left, Le octets at a time. */
static void get_response(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	size_t want = a->has_le ? a->le : 0;

	if (a->p1 || a->p2) {
		r->sw = SW_WRONG_P1P2;
	} else if (sim->pending_len == 0) {
		r->sw = SW_COND_OF_USE;
	} else if (want == 0 || (want > sim->pending_len &&
				 !(usim_sim_is_t1(sim) && want == 256))) {
		r->sw = (uint16_t)(0x6C00 | (sim->pending_len & 0xFF));
	} else {
		r->len = want < sim->pending_len ? want : sim->pending_len;
		memcpy(r->data, sim->pending, r->len);
		sim->pending_len -= r->len;
		memmove(sim->pending, sim->pending + r->len, sim->pending_len);
		gba_wipe(sim->pending + sim->pending_len, sizeof(sim->pending) - sim->pending_len);
		r->sw = sim->pending_len ? (uint16_t)(0x6100 | (sim->pending_len & 0xFF)) : SW_OK;
	}
}

/* The class each command takes: 80 for STATUS and the CAT commands
 * (TS 102 221 10.1.2), 00 for the rest. */
static int class_ok(const struct sim_apdu *a)
{
	int cat = a->ins == INS_STATUS || a->ins == INS_TERMINAL_PROFILE ||
		  a->ins == INS_ENVELOPE || a->ins == INS_FETCH ||
		  a->ins == INS_TERMINAL_RESPONSE;
	uint8_t want = cat ? 0x80 : 0x00;

	return (a->cla & 0xF0) == want;
}

/* FETCH: the proactive command a sw_quirks card announced with 91xx
 * (MORE TIME, TS 102 223 6.4.4), once; nothing pending: 6F00 is what the
 * spec leaves, we answer 9000 with no data as most cards do. */
static void fetch(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	static const uint8_t more_time[] = { 0xD0, 0x09, 0x81, 0x03, 0x01, 0x02, 0x00,
					     0x82, 0x02, 0x81, 0x82 };

	r->sw = SW_OK;
	if (!sim->proactive_pending)
		return;
	if (!a->has_le || (a->le != sizeof(more_time) && a->le != 256)) {
		r->sw = (uint16_t)(0x6C00 | sizeof(more_time));
		return;
	}
	memcpy(r->data, more_time, sizeof(more_time));
	r->len = sizeof(more_time);
	sim->proactive_pending = 0;
}

static void dispatch(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	if (!class_ok(a)) {
		r->sw = SW_CLA_UNKNOWN;
		return;
	}
	if (a->cla & 0x0C) {
		r->sw = SW_CHANNEL_UNSUP;       /* secure messaging */
		return;
	}
	switch (a->ins) {
	case INS_SELECT: sim_cmd_select(sim, a, r); break;
	case INS_STATUS: sim_cmd_status(sim, a, r); break;
	case INS_READ_BINARY: sim_cmd_read_binary(sim, a, r); break;
	case INS_UPDATE_BINARY: sim_cmd_update_binary(sim, a, r); break;
	case INS_READ_RECORD: sim_cmd_read_record(sim, a, r); break;
	case INS_UPDATE_RECORD: sim_cmd_update_record(sim, a, r); break;
	case INS_VERIFY: sim_cmd_verify(sim, a, r); break;
	case INS_AUTHENTICATE: sim_cmd_authenticate(sim, a, r); break;
	case INS_GET_RESPONSE: get_response(sim, a, r); break;
	case INS_MANAGE_CHANNEL: sim_cmd_manage_channel(sim, a, r); break;
	case INS_TERMINAL_PROFILE:
	case INS_ENVELOPE:
	case INS_TERMINAL_RESPONSE:
		/* The card runs no toolkit application: it takes the terminal's
		 * profile, envelopes and responses, and asks for nothing. */
		r->sw = a->lc ? SW_OK : SW_WRONG_LENGTH;
		break;
	case INS_FETCH:
		fetch(sim, a, r);
		break;
	default: r->sw = SW_INS_UNKNOWN;
	}
}

/* Case 3/4 commands with data to return: keep it for GET RESPONSE. */
static void shape_incoming(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	if (!usim_sim_is_t1(sim) || !a->has_le) {
		memcpy(sim->pending, r->data, r->len);
		sim->pending_len = r->len;
		r->sw = (uint16_t)(0x6100 | (r->len & 0xFF));
		r->len = 0;
	} else if (a->le < r->len && a->le != 256) {
		r->sw = (uint16_t)(0x6C00 | (r->len & 0xFF));
		r->len = 0;
	}
}

/* Case 2 commands: Le must fit what is there (READ BINARY may read less). */
static void shape_outgoing(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	size_t le = a->has_le ? a->le : 0;
	int t1 = usim_sim_is_t1(sim);

	if (le == r->len)
		return;
	if (a->ins == INS_READ_BINARY && le && le < r->len) {
		r->len = le;                    /* a partial read is normal */
	} else if (t1 && le == 256) {
		return;                         /* "as much as there is" */
	} else if (t1 && a->ins == INS_READ_BINARY && le > r->len) {
		r->sw = SW_EOF;                 /* fewer octets than asked */
	} else {
		r->sw = (uint16_t)(0x6C00 | (r->len & 0xFF));
		r->len = 0;
	}
}

/* Test faults that corrupt AUTHENTICATE's answer before it is shaped. */
static void apply_auth_fault(struct usim_sim *sim, struct sim_reply *r)
{
	if (r->len == 0)
		return;
	if (sim->fault == USIM_FAULT_GARBAGE) {
		for (size_t i = 0; i < r->len; i++) {
			sim->prng = sim->prng * 1103515245u + 12345u;
			r->data[i] = (uint8_t)(sim->prng >> 16);
		}
	} else if (sim->fault == USIM_FAULT_TRUNCATED && r->len > 6) {
		r->len = 6;                     /* e.g. DB 08 and half a RES */
	}
}

static void log_command(struct usim_sim *sim, const struct sim_apdu *a, uint16_t sw)
{
	char line[96];
	int n;
	unsigned ch = sim_cla_channel(a->cla);

	if (!sim->log_fn)
		return;
	n = snprintf(line, sizeof(line), "%s P1=%02X P2=%02X Lc=%zu -> %04X", ins_name(a->ins),
		     a->p1, a->p2, a->lc, sw);
	/* A file id is no secret, and tests check which files a client selects where. */
	if (a->ins == INS_SELECT && a->p1 == 0x00 && a->lc == 2 && n > 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " fid=%02X%02X", a->data[0],
			      a->data[1]);
	if (ch && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, " ch=%u", ch);
	sim->log_fn(sim->log_ctx, line);
}

/*
 * sw_quirks: status words real cards send that a client must take as
 * success: 91xx (normal ending, a proactive command waits: TS 102 221
 * 10.2.1.1) from power-up and after a TERMINAL PROFILE until FETCH, and
 * 63C1 (UPDATE successful after one internal retry, 10.2.1.2).  Applied
 * to the final answer (after T=0 shaping: 61xx stays 61xx).
 */
static void quirk_sw(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	if (a->ins == INS_TERMINAL_PROFILE && r->sw == SW_OK)
		sim->proactive_pending = 1;
	if (a->ins == INS_UPDATE_BINARY && r->sw == SW_OK)
		r->sw = 0x63C1;
	else if (r->sw == SW_OK && sim->proactive_pending && a->ins != INS_FETCH)
		r->sw = 0x910B;
}

/* The selection state of the command's channel into sim->cur_*; 0 when
 * the channel is not open. */
static int channel_enter(struct usim_sim *sim, uint8_t cla)
{
	unsigned ch = sim_cla_channel(cla);
	const struct sim_channel *c;

	if (ch >= SIM_CHANNELS || !sim->chan[ch].open)
		return 0;
	c = &sim->chan[ch];
	sim->cur_df = c->cur_df;
	sim->cur_ef = c->cur_ef;
	sim->cur_app = c->cur_app;
	sim->cur_rec = c->cur_rec;
	return 1;
}

static void channel_leave(struct usim_sim *sim, uint8_t cla)
{
	struct sim_channel *c = &sim->chan[sim_cla_channel(cla)];

	c->cur_df = sim->cur_df;
	c->cur_ef = sim->cur_ef;
	c->cur_app = sim->cur_app;
	c->cur_rec = sim->cur_rec;
}

static void process(struct usim_sim *sim, const uint8_t *capdu, size_t capdu_len,
		    struct sim_reply *r)
{
	struct sim_apdu a;

	if (parse_apdu(capdu, capdu_len, &a)) {
		r->sw = SW_WRONG_LENGTH;
		drop_pending(sim);
		if (sim->log_fn)
			sim->log_fn(sim->log_ctx, "malformed APDU -> 6700");
		return;
	}
	if (a.ins != INS_GET_RESPONSE || (a.cla & 0xF0) != 0)
		drop_pending(sim);              /* any other command drops it */
	if (sim->prof.strict && !usim_sim_is_t1(sim) && a.lc && a.has_le) {
		/* T=0 has no case 4 (ISO 7816-3 12.2): a strict card refuses the Le. */
		r->sw = SW_WRONG_LENGTH;
		log_command(sim, &a, r->sw);
		return;
	}
	if (!channel_enter(sim, a.cla)) {
		r->sw = SW_CHANNEL_UNSUP;
		log_command(sim, &a, r->sw);
		return;
	}
	dispatch(sim, &a, r);
	channel_leave(sim, a.cla);
	if (a.ins == INS_AUTHENTICATE && r->sw == SW_OK)
		apply_auth_fault(sim, r);
	if (r->sw == SW_OK && r->len > 0) {
		if (a.ins == INS_SELECT || a.ins == INS_AUTHENTICATE)
			shape_incoming(sim, &a, r);
		else if (a.ins != INS_GET_RESPONSE)
			shape_outgoing(sim, &a, r);
	}
	if (sim->prof.sw_quirks)
		quirk_sw(sim, &a, r);
	log_command(sim, &a, r->sw);
}

gba_err usim_sim_apdu(struct usim_sim *sim, const uint8_t *capdu, size_t capdu_len,
		      uint8_t *rapdu, size_t rapdu_size, size_t *rapdu_len)
{
	struct sim_reply r;
	gba_err e = GBA_OK;

	if (!sim || !capdu || !rapdu || !rapdu_len)
		return GBA_ERR_INVALID_ARG;
	*rapdu_len = 0;
	if (rapdu_size < USIM_SIM_RAPDU_MAX)
		return GBA_ERR_BUFFER_TOO_SMALL;
	if (sim->fault == USIM_FAULT_MUTE)
		return GBA_OK;
	memset(&r, 0, sizeof(r));
	if (sim->fault == USIM_FAULT_SW_6F00)
		r.sw = SW_TECHNICAL;
	else
		process(sim, capdu, capdu_len, &r);
	if (r.changed)
		e = sim_state_save(sim);
	memcpy(rapdu, r.data, r.len);
	rapdu[r.len] = (uint8_t)(r.sw >> 8);
	rapdu[r.len + 1] = (uint8_t)r.sw;
	*rapdu_len = r.len + 2;
	gba_wipe(&r, sizeof(r));            /* it may have held CK/IK or Ks_ext_NAF */
	return e;
}
