/*
 * sim_files_cmd.c - the file commands of TS 102 221 clause 11: SELECT,
 * STATUS, READ/UPDATE BINARY, READ/UPDATE RECORD.  Each fills a struct
 * sim_reply with the full answer; sim_apdu.c then applies Le and the T=0
 * rules (61xx, 6Cxx).
 */
#include <string.h>

#include "sim_internal.h"

static int is_df_idx(const struct usim_sim *sim, int i)
{
	return sim->files[i].type == SIM_MF || sim->files[i].type == SIM_ADF;
}

/* SELECT by DF name: a (possibly partial, >= 5 octets) AID of an ADF. */
static int find_by_aid(const struct usim_sim *sim, const uint8_t *aid, size_t len)
{
	static const int adfs[] = { F_ADF_USIM, F_ADF_ISIM };

	if (len < 5 || len > 16)
		return F_NONE;
	for (size_t i = 0; i < sizeof(adfs) / sizeof(adfs[0]); i++) {
		const struct sim_file *f = &sim->files[adfs[i]];

		if (f->present && len <= f->aid_len && !memcmp(f->aid, aid, len))
			return adfs[i];
	}
	return F_NONE;
}

/* SELECT by path (P1 08 from the MF, 09 from the current DF). */
static int find_by_path(const struct usim_sim *sim, int df, const uint8_t *p, size_t len)
{
	int cur = df;

	if (len == 0 || len % 2)
		return F_NONE;
	for (size_t i = 0; i < len; i += 2) {
		uint16_t fid = (uint16_t)(p[i] << 8 | p[i + 1]);
		int next;

		if (!is_df_idx(sim, cur))
			return F_NONE;      /* an EF in the middle of a path */
		if (fid == 0x3F00 && i == 0 && cur == F_MF)
			continue;
		next = (fid == 0x7FFF && i == 0) ? sim->cur_app : sim_fs_find(sim, cur, fid);
		if (next == F_NONE || (next != sim->cur_app && sim->files[next].parent != cur))
			return F_NONE;
		cur = next;
	}
	return cur;
}

static int select_target(const struct usim_sim *sim, const struct sim_apdu *a, uint16_t *sw)
{
	*sw = SW_FILE_NOT_FOUND;
	switch (a->p1) {
	case 0x00:
		if (a->lc == 0)
			return F_MF;
		if (a->lc != 2) {
			*sw = SW_WRONG_LENGTH;
			return F_NONE;
		}
		return sim_fs_find(sim, sim->cur_df, (uint16_t)(a->data[0] << 8 | a->data[1]));
	case 0x04:
		return find_by_aid(sim, a->data, a->lc);
	case 0x08:
		return find_by_path(sim, F_MF, a->data, a->lc);
	case 0x09:
		return find_by_path(sim, sim->cur_df, a->data, a->lc);
	default:
		*sw = SW_WRONG_P1P2;
		return F_NONE;
	}
}

void sim_cmd_select(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	uint8_t resp = a->p2 & 0x0C;        /* b3-b4: 04 FCP, 0C nothing */
	int t;

	if ((a->p2 & 0xF3) != 0 || resp == 0x08) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	t = select_target(sim, a, &r->sw);
	if (t == F_NONE)
		return;
	if (is_df_idx(sim, t)) {
		sim->cur_df = t;
		sim->cur_ef = F_NONE;
		if (sim->files[t].type == SIM_ADF)
			sim->cur_app = t;
	} else {
		sim->cur_df = sim->files[t].parent;
		sim->cur_ef = t;
	}
	sim->cur_rec = 0;
	if (resp != 0x0C)
		r->len = sim_fs_fcp(sim, t, r->data, sizeof(r->data));
	r->sw = SW_OK;
}

void sim_cmd_status(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	const struct sim_file *app;

	if (a->p1 > 0x02) {
		r->sw = SW_WRONG_P1P2;
		return;
	}
	r->sw = SW_OK;
	switch (a->p2) {
	case 0x00:
		r->len = sim_fs_fcp(sim, sim->cur_df, r->data, sizeof(r->data));
		break;
	case 0x01:                          /* the DF name of the current application */
		if (sim->cur_app == F_NONE)
			break;
		app = &sim->files[sim->cur_app];
		r->data[0] = 0x84;
		r->data[1] = (uint8_t)app->aid_len;
		memcpy(r->data + 2, app->aid, app->aid_len);
		r->len = 2 + app->aid_len;
		break;
	case 0x0C:
		break;
	default:
		r->sw = SW_WRONG_P1P2;
	}
}

/* The EF a READ/UPDATE works on: by SFI (in P1 for BINARY, P2 for RECORD)
 * or the current EF; the SFI form selects it. */
static int target_ef(struct usim_sim *sim, uint8_t sfi, enum sim_ftype want, uint16_t *sw)
{
	int i = sfi ? sim_fs_by_sfi(sim, sfi) : sim->cur_ef;

	if (i == F_NONE) {
		*sw = sfi ? SW_FILE_NOT_FOUND : SW_NO_EF;
		return F_NONE;
	}
	if (sim->files[i].type != want) {
		*sw = 0x6981;                   /* command incompatible with file structure */
		return F_NONE;
	}
	if (sfi && sim->cur_ef != i) {
		sim->cur_ef = i;
		sim->cur_rec = 0;
	}
	return i;
}

enum ef_use { EF_READ, EF_UPDATE };

/*
 * target_ef's file, when its access condition for use (read or update) is
 * met; else NULL with the status word in *sw.
 */
static struct sim_file *usable_ef(struct usim_sim *sim, uint8_t sfi, enum sim_ftype want,
				  enum ef_use use, uint16_t *sw)
{
	int i = target_ef(sim, sfi, want, sw);
	struct sim_file *f;

	if (i == F_NONE)
		return NULL;
	f = &sim->files[i];
	if (!sim_access_ok(sim, use == EF_READ ? f->read : f->update)) {
		*sw = SW_SEC_STATUS;
		return NULL;
	}
	return f;
}

/* READ/UPDATE BINARY's P1 P2: an SFI (P1 b8 set) with an 8-bit offset, or
 * a 15-bit offset into the current EF.  Returns the offset. */
static size_t binary_offset(const struct sim_apdu *a, uint8_t *sfi)
{
	*sfi = (a->p1 & 0x80) ? (a->p1 & 0x1F) : 0;
	return *sfi ? a->p2 : (size_t)((a->p1 & 0x7F) << 8 | a->p2);
}

void sim_cmd_read_binary(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	uint8_t sfi;
	size_t off = binary_offset(a, &sfi);
	const struct sim_file *f = usable_ef(sim, sfi, SIM_EF_TRANSPARENT, EF_READ, &r->sw);

	if (!f)
		return;
	if (off >= f->size) {
		r->sw = SW_INCORRECT_P1P2;
		return;
	}
	r->len = f->size - off > 256 ? 256 : f->size - off;
	memcpy(r->data, f->data + off, r->len);
	r->sw = SW_OK;
}

void sim_cmd_update_binary(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	uint8_t sfi;
	size_t off = binary_offset(a, &sfi);
	struct sim_file *f = usable_ef(sim, sfi, SIM_EF_TRANSPARENT, EF_UPDATE, &r->sw);

	if (!f)
		return;
	if (a->lc == 0) {
		r->sw = SW_WRONG_LENGTH;
	} else if (off >= f->size) {
		r->sw = SW_INCORRECT_P1P2;
	} else if (off + a->lc > f->size) {
		r->sw = SW_WRONG_LENGTH;
	} else {
		memcpy(f->data + off, a->data, a->lc);
		r->changed = f->persist;
		r->sw = SW_OK;
	}
}

/* Which record P1/P2 name: 04 absolute (P1 0: current), 02 next, 03 previous. */
static unsigned record_number(const struct usim_sim *sim, const struct sim_file *f,
			      const struct sim_apdu *a, uint16_t *sw)
{
	unsigned mode = a->p2 & 0x07, n;

	*sw = SW_RECORD_NOT_FOUND;
	if (mode == 0x04)
		n = a->p1 ? a->p1 : sim->cur_rec;
	else if (mode == 0x02 && a->p1 == 0)
		n = sim->cur_rec + 1;
	else if (mode == 0x03 && a->p1 == 0)
		n = sim->cur_rec ? sim->cur_rec - 1 : f->n_rec;
	else {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	return n <= f->n_rec ? n : 0;
}

void sim_cmd_read_record(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	const struct sim_file *f = usable_ef(sim, a->p2 >> 3, SIM_EF_LINEAR, EF_READ, &r->sw);
	unsigned n;

	if (!f)
		return;
	n = record_number(sim, f, a, &r->sw);
	if (n == 0)
		return;
	sim->cur_rec = n;
	memcpy(r->data, f->data + (n - 1) * f->rec_len, f->rec_len);
	r->len = f->rec_len;
	r->sw = SW_OK;
}

void sim_cmd_update_record(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r)
{
	struct sim_file *f = usable_ef(sim, a->p2 >> 3, SIM_EF_LINEAR, EF_UPDATE, &r->sw);
	unsigned n;

	if (!f)
		return;
	if (a->lc != f->rec_len) {
		r->sw = SW_WRONG_LENGTH;
		return;
	}
	n = record_number(sim, f, a, &r->sw);
	if (n == 0)
		return;
	sim->cur_rec = n;
	memcpy(f->data + (n - 1) * f->rec_len, a->data, a->lc);
	r->changed = f->persist;
	r->sw = SW_OK;
}
