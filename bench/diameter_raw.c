/* diameter_raw.c - see diameter_raw.h. */
#include <stdlib.h>
#include <string.h>

#include "diameter_raw.h"

#define AVP_HDR_LEN 8
#define AVP_VENDOR_LEN 4
#define LEN24_MAX 0xffffffu

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	put24(p + 1, v);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | get24(p + 1);
}

void dr_buf_free(struct dr_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Room for n more octets, or NULL (and oom set). */
static uint8_t *grow(struct dr_buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

size_t dr_msg_begin(struct dr_buf *b, uint8_t flags, uint32_t code, uint32_t app,
		    uint32_t hbh, uint32_t e2e)
{
	size_t start = b->len;
	uint8_t *h = grow(b, DR_HDR_LEN);

	if (h) {
		put32(h, 0);          /* version and length: dr_msg_end */
		put32(h + 4, code);
		h[4] = flags;
		put32(h + 8, app);
		put32(h + 12, hbh);
		put32(h + 16, e2e);
	}
	return start;
}

void dr_msg_end(struct dr_buf *b, size_t start)
{
	size_t len = b->len - start;

	if (b->oom)
		return;
	if (len > LEN24_MAX) {
		b->oom = 1;           /* cannot be said in 24 bits: treat as a failure */
		return;
	}
	put32(b->p + start, (uint32_t)len);
	b->p[start] = DR_VERSION;
}

/* The AVP header; the data (len octets) and padding follow. */
static uint8_t *avp_begin(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor,
			  size_t len)
{
	size_t hdr = AVP_HDR_LEN + (vendor ? AVP_VENDOR_LEN : 0);
	uint8_t *p;

	if (len > LEN24_MAX - hdr) {
		b->oom = 1;
		return NULL;
	}
	p = grow(b, pad4(hdr + len));
	if (!p)
		return NULL;
	put32(p, code);
	put32(p + 4, (uint32_t)(hdr + len));
	p[4] = (uint8_t)(vendor ? flags | DR_AVP_V : flags & ~DR_AVP_V);
	if (vendor)
		put32(p + 8, vendor);
	/* Padding octets must be zero (RFC 6733 4.1). */
	memset(p + hdr + len, 0, pad4(hdr + len) - (hdr + len));
	return p + hdr;
}

void dr_avp_os(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor,
	       const void *data, size_t len)
{
	uint8_t *p = avp_begin(b, code, flags, vendor, len);

	if (p && len)
		memcpy(p, data, len);
}

void dr_avp_str(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor, const char *s)
{
	dr_avp_os(b, code, flags, vendor, s, strlen(s));
}

void dr_avp_u32(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t v)
{
	uint8_t *p = avp_begin(b, code, flags, vendor, 4);

	if (p)
		put32(p, v);
}

void dr_avp_ipv4(struct dr_buf *b, uint32_t code, uint8_t flags, const uint8_t addr[4])
{
	uint8_t *p = avp_begin(b, code, flags, 0, 6);

	if (p) {
		p[0] = 0;             /* AddressType 1: IPv4 (IANA address family numbers) */
		p[1] = 1;
		memcpy(p + 2, addr, 4);
	}
}

size_t dr_group_begin(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor)
{
	size_t start = b->len;

	avp_begin(b, code, flags, vendor, 0);
	return start;
}

void dr_group_end(struct dr_buf *b, size_t start)
{
	/* Members are padded already, so the group's length is what follows it. */
	size_t len = b->len - start;

	if (b->oom)
		return;
	if (len > LEN24_MAX) {
		b->oom = 1;
		return;
	}
	put24(b->p + start + 5, (uint32_t)len);
}

/* ---- Decoding ------------------------------------------------------------------ */

int dr_msg_parse(uint8_t *p, size_t n, size_t max_len, struct dr_msg *m)
{
	uint32_t len;

	if (n < 4)
		return 0;
	len = get24(p + 1);
	if (p[0] != DR_VERSION || len < DR_HDR_LEN || len % 4 || len > max_len)
		return -1;
	if (n < len)
		return 0;
	m->len = len;
	m->flags = p[4];
	m->code = get24(p + 5);
	m->app = get32(p + 8);
	m->hbh = get32(p + 12);
	m->e2e = get32(p + 16);
	m->avps = p + DR_HDR_LEN;
	m->avps_len = len - DR_HDR_LEN;
	return 1;
}

void dr_iter_init(struct dr_iter *it, uint8_t *avps, size_t len)
{
	it->p = avps;
	it->end = avps + len;
}

int dr_iter_next(struct dr_iter *it, struct dr_avp *a)
{
	size_t left = (size_t)(it->end - it->p), hdr = AVP_HDR_LEN, len;

	if (left == 0)
		return 0;
	if (left < AVP_HDR_LEN)
		return -1;
	a->code = get32(it->p);
	a->flags = it->p[4];
	len = get24(it->p + 5);
	a->vendor = 0;
	if (a->flags & DR_AVP_V) {
		hdr += AVP_VENDOR_LEN;
		if (left < hdr)
			return -1;
		a->vendor = get32(it->p + 8);
	}
	/* The last AVP of a message or group may lack its padding (RFC 6733
	 * 4.4 counts it; some senders do not): accept the unpadded end. */
	if (len < hdr || len > left)
		return -1;
	a->data = it->p + hdr;
	a->len = len - hdr;
	it->p += pad4(len) <= left ? pad4(len) : left;
	return 1;
}

int dr_find(uint8_t *avps, size_t len, uint32_t code, uint32_t vendor, struct dr_avp *a)
{
	struct dr_iter it;
	int r;

	dr_iter_init(&it, avps, len);
	while ((r = dr_iter_next(&it, a)) == 1)
		if (a->code == code && a->vendor == vendor)
			return 1;
	return r;
}

int dr_avp_u32_value(const struct dr_avp *a, uint32_t *v)
{
	if (a->len != 4)
		return -1;
	*v = get32(a->data);
	return 0;
}
