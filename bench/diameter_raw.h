/*
 * diameter_raw.h - Diameter messages (RFC 6733 section 3 and 4) encoded and
 * decoded by hand, for zn-load: a load generator must not spend its CPU on
 * a general stack (freeDiameter allocates every AVP and hands every message
 * between threads), and must not share code with the server it measures.
 *
 * Only what zn-load needs: a message header, AVPs of octets, Unsigned32
 * and IPv4 Address, grouped AVPs; a parser that frames a byte stream into
 * messages and walks their AVPs, checking every length against its
 * container.  No dictionary: the caller knows the codes and flags.
 */
#ifndef BENCH_DIAMETER_RAW_H
#define BENCH_DIAMETER_RAW_H

#include <stddef.h>
#include <stdint.h>

#define DR_HDR_LEN 20
#define DR_VERSION 1

/* Command flags (RFC 6733 3). */
#define DR_CMD_R 0x80   /* request */
#define DR_CMD_P 0x40   /* proxiable */
#define DR_CMD_E 0x20   /* error answer */
#define DR_CMD_T 0x10   /* possibly retransmitted */

/* AVP flags (RFC 6733 4.1). */
#define DR_AVP_V 0x80   /* Vendor-Id present */
#define DR_AVP_M 0x40   /* mandatory */

/* A growing output buffer.  The append functions never fail: when memory
 * runs out they set oom and drop the rest, and the caller checks oom once,
 * after the message is complete. */
struct dr_buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

void dr_buf_free(struct dr_buf *b);

/* Starts a message; returns where it starts, for dr_msg_end. */
size_t dr_msg_begin(struct dr_buf *b, uint8_t flags, uint32_t code, uint32_t app,
		    uint32_t hbh, uint32_t e2e);
/* Writes the message's length into its header. */
void dr_msg_end(struct dr_buf *b, size_t start);

void dr_avp_os(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor,
	       const void *data, size_t len);
void dr_avp_str(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor, const char *s);
void dr_avp_u32(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor, uint32_t v);
/* An Address AVP (RFC 6733 4.3.1) holding an IPv4 address, network order. */
void dr_avp_ipv4(struct dr_buf *b, uint32_t code, uint8_t flags, const uint8_t addr[4]);
/* A Grouped AVP: begin, append its members, end (which writes its length). */
size_t dr_group_begin(struct dr_buf *b, uint32_t code, uint8_t flags, uint32_t vendor);
void dr_group_end(struct dr_buf *b, size_t start);

/* A received message: the header's fields and its AVP area. */
struct dr_msg {
	uint8_t flags;
	uint32_t code, app, hbh, e2e;
	uint8_t *avps;
	size_t avps_len;
	size_t len;        /* of the whole message, header included */
};

/*
 * Frames the message at the start of p[0..n): 1 when it is all there
 * (*m filled), 0 when more bytes are needed, -1 when the bytes cannot be
 * Diameter (version not 1, length below 20, not a multiple of 4, or over
 * max_len): the stream has lost its framing and must be closed.
 */
int dr_msg_parse(uint8_t *p, size_t n, size_t max_len, struct dr_msg *m);

/* One AVP; data points into the message, so the caller may wipe it. */
struct dr_avp {
	uint32_t code, vendor;    /* vendor 0 when the V flag is clear */
	uint8_t flags;
	uint8_t *data;
	size_t len;               /* without header and padding */
};

struct dr_iter {
	uint8_t *p, *end;
};

void dr_iter_init(struct dr_iter *it, uint8_t *avps, size_t len);
/* 1: the next AVP is in *a; 0: no more; -1: an AVP's length does not fit. */
int dr_iter_next(struct dr_iter *it, struct dr_avp *a);
/* The first AVP code/vendor among avps: 1 found, 0 not there, -1 malformed. */
int dr_find(uint8_t *avps, size_t len, uint32_t code, uint32_t vendor, struct dr_avp *a);
/* An Unsigned32 / Integer32 / Enumerated value: 0, or -1 if not 4 octets. */
int dr_avp_u32_value(const struct dr_avp *a, uint32_t *v);

#endif /* BENCH_DIAMETER_RAW_H */
