/*
 * cache.h - libgba-naf's answer cache: what the BSF said for a (B-TID,
 * NAF_Id), kept until its Key-ExpiryTime, at most a fixed number of
 * entries (the least recently used goes first).  One mutex; the entries
 * hold keys and are wiped when they leave.  Not installed.
 */
#ifndef GBA_NAF_CACHE_H
#define GBA_NAF_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/naf.h>

struct naf_cache;

/* NULL when out of memory; capacity 0 makes a cache that keeps nothing. */
struct naf_cache *naf_cache_new(size_t capacity);

/*
 * Keep the entries' key material wrapped by wrap and unwrap it per get
 * (outside the cache's lock).  Call before the first put.
 */
void naf_cache_set_guard(struct naf_cache *c, gba_naf_wrap_fn *wrap, gba_naf_wrap_fn *unwrap,
			 void *arg);
void naf_cache_free(struct naf_cache *c);

/* 1 and *out filled (uss included) when a live entry is there at time now. */
int naf_cache_get(struct naf_cache *c, const char *btid, const uint8_t *naf_id,
		  size_t naf_id_len, int64_t now, struct gba_naf_key *out);

/* Keep a copy of k (replacing an entry with the same B-TID and NAF_Id). */
void naf_cache_put(struct naf_cache *c, const char *btid, const uint8_t *naf_id,
		   size_t naf_id_len, const struct gba_naf_key *k);

/* Drop the entries of a B-TID (btid) or of an IMPI (impi): one is NULL. */
void naf_cache_forget(struct naf_cache *c, const char *btid, const char *impi);

size_t naf_cache_count(struct naf_cache *c);

#endif /* GBA_NAF_CACHE_H */
