/*
 * av_embedded.c - the embedded AV source: the SQLite subscriber database
 * (gba/subscriber_db.h) as the BSF's own AuC, no HSS needed.
 *
 * The database moves each subscriber's SQN on atomically, so several
 * worker threads (and several BSF processes, each in its own IND slot)
 * never issue the same SQN.  RAND comes from the kernel's CSPRNG.
 */
#include <stdlib.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "av_source.h"

struct av_embedded {
	struct av_source base;      /* first: the ops see a struct av_source * */
	struct gba_subdb *db;
	unsigned ind;
};

static gba_err embedded_fetch(struct av_source *src, const char *impi,
			      const uint8_t *resync_rand, const uint8_t *auts,
			      struct av_answer *out)
{
	struct av_embedded *e = (struct av_embedded *)src;
	uint8_t rand[16];
	gba_err err;

	if (!impi || !out || (!resync_rand != !auts))
		return GBA_ERR_INVALID_ARG;
	err = gba_random_rand(rand);
	if (err)
		return err;
	out->guss_len = 0;
	if (auts)
		return gba_subdb_resync(e->db, impi, e->ind, resync_rand, auts, rand, &out->av,
					out->guss, sizeof(out->guss), &out->guss_len);
	return gba_subdb_next_av(e->db, impi, e->ind, rand, &out->av, out->guss,
				 sizeof(out->guss), &out->guss_len);
}

static void embedded_close(struct av_source *src)
{
	struct av_embedded *e = (struct av_embedded *)src;

	gba_subdb_close(e->db);
	free(e);
}

static const struct av_source_ops embedded_ops = {
	.name = "embedded",
	.fetch = embedded_fetch,
	.close = embedded_close,
};

gba_err av_source_embedded_open(struct av_source **out, const char *db_path, unsigned ind,
				unsigned sqn_block, struct gba_kek *kek)
{
	struct av_embedded *e;
	gba_err err;

	if (!out || !db_path || ind >= GBA_IND_SLOTS_MAX)
		return GBA_ERR_INVALID_ARG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return GBA_ERR_NO_MEMORY;
	err = gba_subdb_open_kek(&e->db, db_path, kek);
	if (!err && sqn_block > 1)
		err = gba_subdb_set_sqn_block(e->db, sqn_block);
	if (err) {
		gba_subdb_close(e->db);
		free(e);
		return err;
	}
	e->base.ops = &embedded_ops;
	e->ind = ind;
	*out = &e->base;
	return GBA_OK;
}
