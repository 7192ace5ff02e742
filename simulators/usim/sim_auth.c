/*
 * sim_auth.c - AUTHENTICATE (TS 31.102 7.1.2): the 3G context (P2 81) and
 * the GBA context (P2 84) in bootstrapping mode (tag DD) and NAF
 * derivation mode (tag DE).  AKA itself is libgba's USIM side
 * (gba_usim_authenticate: MAC-A first, then TS 33.102 Annex C freshness);
 * the GBA_U keys are libgba's Annex B KDF (gba_ks_naf, gba_ks_int_naf).
 */
#include <string.h>

#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/util.h>

#include "sim_internal.h"

#define P2_GSM 0x80
#define P2_3G  0x81
#define P2_GBA 0x84

static void put_lv(struct sim_reply *r, const uint8_t *v, size_t n)
{
	r->data[r->len++] = (uint8_t)n;
	memcpy(r->data + r->len, v, n);
	r->len += n;
}

/* Split "10 RAND 10 AUTN" (after any leading tag). */
static int parse_rand_autn(const uint8_t *d, size_t n, const uint8_t **rand,
			   const uint8_t **autn)
{
	if (n != 34 || d[0] != 16 || d[17] != 16)
		return -1;
	*rand = d + 1;
	*autn = d + 18;
	return 0;
}

/* Run AKA; fills r with DB.../DC... or the SW.  ans holds CK/IK on success. */
static gba_err run_aka(struct usim_sim *sim, const uint8_t *rand, const uint8_t *autn,
		       struct gba_usim_answer *ans, struct sim_reply *r)
{
	gba_err e = gba_usim_authenticate(&sim->prof.key, &sim->sqn, rand, autn, ans);

	if (e == GBA_ERR_MAC_FAILURE) {
		r->sw = SW_AUTH_MAC;
	} else if (e == GBA_ERR_SYNC_FAILURE) {
		r->data[r->len++] = 0xDC;
		put_lv(r, ans->auts, GBA_AUTS_LEN);
		r->sw = SW_OK;
	} else if (e == GBA_OK) {
		r->changed = 1;            /* the SQN array moved */
		r->data[r->len++] = 0xDB;
		put_lv(r, ans->res, ans->res_len);
		r->sw = SW_OK;
	} else {
		r->sw = SW_TECHNICAL;
	}
	return e;
}

static void auth_3g(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	const uint8_t *rand, *autn;
	struct gba_usim_answer ans;

	if (parse_rand_autn(a->data, a->lc, &rand, &autn)) {
		r->sw = a->lc != 34 ? SW_WRONG_LENGTH : SW_WRONG_DATA;
		return;
	}
	if (run_aka(sim, rand, autn, &ans, r) == GBA_OK) {
		put_lv(r, ans.ck, 16);
		put_lv(r, ans.ik, 16);
	}
	gba_wipe(&ans, sizeof(ans));
}

/* The card writes RAND into EF_GBABP; the ME adds B-TID and lifetime. */
static void gbabp_set_rand(struct usim_sim *sim, const uint8_t rand[16])
{
	struct sim_file *f = &sim->files[F_GBABP];

	memset(f->data, 0xFF, f->size);
	f->data[0] = 16;
	memcpy(f->data + 1, rand, 16);
	f->data[17] = 0;              /* B-TID, not known yet */
	f->data[18] = 0;              /* key lifetime, not known yet */
}

static void gba_bootstrap(struct usim_sim *sim, const struct sim_apdu *a,
			  struct sim_reply *r)
{
	const uint8_t *rand, *autn;
	struct gba_usim_answer ans;

	if (a->lc < 1 || parse_rand_autn(a->data + 1, a->lc - 1, &rand, &autn)) {
		r->sw = SW_WRONG_DATA;
		return;
	}
	/* GBA_U: CK and IK stay in the card as Ks; only RES goes out. */
	if (run_aka(sim, rand, autn, &ans, r) == GBA_OK) {
		memcpy(sim->gba.ks, ans.ck, 16);
		memcpy(sim->gba.ks + 16, ans.ik, 16);
		memcpy(sim->gba.rand, rand, 16);
		sim->gba.have_ks = 1;
		gbabp_set_rand(sim, rand);
	}
	gba_wipe(&ans, sizeof(ans));
}

/* EF_GBABP: L RAND L B-TID L lifetime.  The B-TID the ME wrote, if the RAND
 * there is the one Ks belongs to. */
static int gbabp_btid(const struct usim_sim *sim, const uint8_t **btid, size_t *btid_len)
{
	const struct sim_file *f = &sim->files[F_GBABP];
	const uint8_t *d = f->data;

	if (d[0] != 16 || memcmp(d + 1, sim->gba.rand, 16))
		return -1;
	if (d[17] == 0 || d[17] == 0xFF || 18u + d[17] > f->size)
		return -1;
	*btid = d + 18;
	*btid_len = d[17];
	return 0;
}

/* The EF_GBANL record for naf_id: the one that has it, else a free one,
 * else the next in turn.  Returns a 0-based index. */
static unsigned gbanl_pick(struct usim_sim *sim, const uint8_t *naf_id, size_t len)
{
	struct sim_file *f = &sim->files[F_GBANL];

	for (unsigned i = 0; i < f->n_rec; i++) {
		const uint8_t *rec = f->data + i * f->rec_len;

		if (rec[0] == 0x80 && rec[1] == len && !memcmp(rec + 2, naf_id, len))
			return i;
	}
	for (unsigned i = 0; i < f->n_rec; i++)
		if (f->data[i * f->rec_len] == 0xFF)
			return i;
	sim->gba.next_record = (sim->gba.next_record + 1) % f->n_rec;
	return sim->gba.next_record;
}

static int gbanl_store(struct usim_sim *sim, const uint8_t *naf_id, size_t naf_len,
		       const uint8_t *btid, size_t btid_len, const uint8_t ks_int[32])
{
	struct sim_file *f = &sim->files[F_GBANL];
	unsigned i;
	uint8_t *rec;

	if (4 + naf_len + btid_len > f->rec_len)
		return -1;
	i = gbanl_pick(sim, naf_id, naf_len);
	rec = f->data + i * f->rec_len;
	memset(rec, 0xFF, f->rec_len);
	rec[0] = 0x80;
	rec[1] = (uint8_t)naf_len;
	memcpy(rec + 2, naf_id, naf_len);
	rec[2 + naf_len] = 0x81;
	rec[3 + naf_len] = (uint8_t)btid_len;
	memcpy(rec + 4 + naf_len, btid, btid_len);
	memcpy(sim->gba.ks_int_naf[i], ks_int, 32);
	return 0;
}

/* DE L NAF_Id L IMPI -> DB 20 Ks_ext_NAF; Ks_int_NAF stays in the card. */
static void gba_naf(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	const uint8_t *d = a->data, *btid;
	size_t naf_len, impi_len, btid_len;
	uint8_t ext[32], in[32];

	if (a->lc < 3 || (naf_len = d[1]) == 0 || 2 + naf_len >= a->lc ||
	    (impi_len = d[2 + naf_len]) == 0 || 3 + naf_len + impi_len != a->lc) {
		r->sw = SW_WRONG_DATA;
		return;
	}
	if (!sim->gba.have_ks || gbabp_btid(sim, &btid, &btid_len)) {
		r->sw = SW_COND_OF_USE;    /* no bootstrap, or the ME did not finish it */
		return;
	}
	if (gba_ks_naf(sim->gba.ks, sim->gba.rand, (const char *)d + 3 + naf_len, impi_len,
		       d + 2, naf_len, ext) != GBA_OK ||
	    gba_ks_int_naf(sim->gba.ks, sim->gba.rand, (const char *)d + 3 + naf_len, impi_len,
			   d + 2, naf_len, in) != GBA_OK) {
		r->sw = SW_WRONG_DATA;
	} else if (gbanl_store(sim, d + 2, naf_len, btid, btid_len, in)) {
		r->sw = 0x6A84;            /* not enough memory space in the record */
	} else {
		r->data[r->len++] = 0xDB;
		put_lv(r, ext, 32);
		r->sw = SW_OK;
		r->changed = 1;
	}
	gba_wipe(ext, sizeof(ext));
	gba_wipe(in, sizeof(in));
}

static int gba_supported(const struct usim_sim *sim)
{
	return sim->prof.gba && sim->files[F_GBABP].present;
}

void sim_isim_swap(struct usim_sim *sim)
{
	struct gba_aka_key k = sim->prof.key;
	struct sim_app_state st = { sim->sqn, sim->gba };
	struct sim_file bp = sim->files[F_GBABP], nl = sim->files[F_GBANL];

	sim->prof.key = sim->prof.isim_key;
	sim->prof.isim_key = k;
	sim->sqn = sim->isim.sqn;
	sim->gba = sim->isim.gba;
	sim->isim = st;
	sim->files[F_GBABP] = sim->files[F_ISIM_GBABP];
	sim->files[F_ISIM_GBABP] = bp;
	sim->files[F_GBANL] = sim->files[F_ISIM_GBANL];
	sim->files[F_ISIM_GBANL] = nl;
	gba_wipe(&k, sizeof(k));
	gba_wipe(&st, sizeof(st));
}

static void authenticate(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);

/* An ISIM with its own K runs AKA and GBA on its own state. */
void sim_cmd_authenticate(struct usim_sim *sim, const struct sim_apdu *a,
			  struct sim_reply *r)
{
	int own = sim->prof.isim_own_key && sim->cur_app == F_ADF_ISIM;

	if (own)
		sim_isim_swap(sim);
	authenticate(sim, a, r);
	if (own)
		sim_isim_swap(sim);
}

static void authenticate(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	if (a->p1 != 0x00) {
		r->sw = SW_WRONG_P1P2;
	} else if (sim->cur_app == F_NONE) {
		r->sw = SW_COND_OF_USE;       /* no application selected */
	} else if (!sim_access_ok(sim, SIM_PIN)) {
		r->sw = SW_SEC_STATUS;
	} else if (a->lc == 0) {
		r->sw = SW_WRONG_LENGTH;
	} else if (a->p2 == P2_3G) {
		auth_3g(sim, a, r);
	} else if (a->p2 == P2_GBA && gba_supported(sim)) {
		if (a->data[0] == 0xDD)
			gba_bootstrap(sim, a, r);
		else if (a->data[0] == 0xDE)
			gba_naf(sim, a, r);
		else
			r->sw = SW_WRONG_DATA;
	} else if (a->p2 == P2_GSM || a->p2 == P2_GBA) {
		r->sw = SW_AUTH_CONTEXT;      /* GSM context, or GBA off in this profile */
	} else {
		r->sw = SW_WRONG_P1P2;
	}
}
