/*
 * guss_out.h - where a GUSS read from a store goes: the caller's buffer
 * (possibly none) and its length.  The session store's get() and the
 * subscriber database's next_av() hand out GUSSs the same way.
 */
#ifndef GBA_STORE_GUSS_OUT_H
#define GBA_STORE_GUSS_OUT_H

#include <stddef.h>

#include <gba/error.h>

struct guss_out {
	char *buf;                /* NULL: the caller does not want it */
	size_t size;
	size_t *len;              /* NULL allowed */
};

/*
 * Copy a GUSS of len octets to g: *g->len gets len, buf the document
 * (NUL-terminated when room allows).  GBA_ERR_BUFFER_TOO_SMALL when it
 * does not fit (the length is still set).
 */
gba_err guss_out_copy(const struct guss_out *g, const void *guss, size_t len);

#endif /* GBA_STORE_GUSS_OUT_H */
