/*
 * milenage.c - the Milenage algorithm set, 3GPP TS 35.206 section 4.1,
 * on nettle's AES-128 (hardware AES where the CPU has it).
 *
 *   TEMP = E_K(RAND xor OPc)
 *   OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc
 *   OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc,  i = 2..5
 *   r1..r5 = 64, 0, 32, 64, 96 bits; ci = 0...0 || 00, 01, 02, 04, 08
 */
#include <string.h>

#include <nettle/aes.h>

#include <gba/milenage.h>
#include <gba/util.h>

/* What struct gba_milenage_ctx's opaque storage really holds. */
struct milenage_state {
	struct aes128_ctx aes;
	uint8_t opc[16];
};

_Static_assert(sizeof(struct milenage_state) <= sizeof(((struct gba_milenage_ctx *)0)->priv),
	       "gba_milenage_ctx storage too small");
_Static_assert(_Alignof(struct milenage_state) <= _Alignof(uint64_t),
	       "gba_milenage_ctx storage under-aligned");

static struct milenage_state *state_of(struct gba_milenage_ctx *ctx)
{
	return (struct milenage_state *)(void *)ctx->priv.bytes;
}

static const struct milenage_state *cstate_of(const struct gba_milenage_ctx *ctx)
{
	return (const struct milenage_state *)(const void *)ctx->priv.bytes;
}

static void xor16(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		out[i] = a[i] ^ b[i];
}

/* Cyclic left rotation of a 128-bit string by r bits, r a multiple of 8. */
static void rot128(uint8_t out[16], const uint8_t in[16], unsigned r_bits)
{
	unsigned r = r_bits / 8;
	for (unsigned i = 0; i < 16; i++)
		out[i] = in[(i + r) % 16];
}

void gba_milenage_opc(uint8_t opc[16], const uint8_t k[16], const uint8_t op[16])
{
	struct aes128_ctx aes;
	uint8_t enc[16];
	aes128_set_encrypt_key(&aes, k);
	aes128_encrypt(&aes, 16, enc, op);
	xor16(opc, enc, op);
	gba_wipe(&aes, sizeof(aes));
	gba_wipe(enc, sizeof(enc));
}

void gba_milenage_init(struct gba_milenage_ctx *ctx, const uint8_t k[16],
		       const uint8_t opc[16])
{
	struct milenage_state *st = state_of(ctx);
	aes128_set_encrypt_key(&st->aes, k);
	memcpy(st->opc, opc, 16);
}

void gba_milenage_clear(struct gba_milenage_ctx *ctx)
{
	gba_wipe(ctx, sizeof(*ctx));
}

/* TEMP = E_K(RAND xor OPc) */
static void milenage_temp(const struct milenage_state *st, const uint8_t rand[16],
			  uint8_t temp[16])
{
	uint8_t in[16];
	xor16(in, rand, st->opc);
	aes128_encrypt(&st->aes, 16, temp, in);
	gba_wipe(in, sizeof(in));
}

/* OUT1 from TEMP: E_K(TEMP xor rot(IN1 xor OPc, r1 = 64) xor c1) xor OPc, c1 = 0 */
static void milenage_out1(const struct milenage_state *st, const uint8_t temp[16],
			  const uint8_t sqn[6], const uint8_t amf[2], uint8_t out1[16])
{
	uint8_t in1[16], tmp[16];

	/* IN1 = SQN || AMF || SQN || AMF */
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, sqn, 6);
	memcpy(in1 + 14, amf, 2);

	xor16(in1, in1, st->opc);
	rot128(tmp, in1, 64);
	xor16(tmp, tmp, temp);
	aes128_encrypt(&st->aes, 16, out1, tmp);
	xor16(out1, out1, st->opc);
	gba_wipe(tmp, sizeof(tmp));
}

void gba_milenage_f1(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
		     const uint8_t sqn[6], const uint8_t amf[2],
		     uint8_t mac_a[8], uint8_t mac_s[8])
{
	const struct milenage_state *st = cstate_of(ctx);
	uint8_t temp[16], out1[16];

	milenage_temp(st, rand, temp);
	milenage_out1(st, temp, sqn, amf, out1);
	if (mac_a)
		memcpy(mac_a, out1, 8);
	if (mac_s)
		memcpy(mac_s, out1 + 8, 8);
	gba_wipe(temp, sizeof(temp));
	gba_wipe(out1, sizeof(out1));
}

/* OUTi = E_K(rot(TEMP xor OPc, r) xor c) xor OPc, c given by its last octet */
static void milenage_out(const struct milenage_state *st, const uint8_t temp_xor_opc[16],
			 unsigned r_bits, uint8_t c_last, uint8_t out[16])
{
	uint8_t tmp[16];
	rot128(tmp, temp_xor_opc, r_bits);
	tmp[15] ^= c_last;
	aes128_encrypt(&st->aes, 16, out, tmp);
	xor16(out, out, st->opc);
	gba_wipe(tmp, sizeof(tmp));
}

void gba_milenage_f2345(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
			uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
			uint8_t ak[6], uint8_t ak_s[6])
{
	const struct milenage_state *st = cstate_of(ctx);
	uint8_t temp[16], out[16];

	milenage_temp(st, rand, temp);
	xor16(temp, temp, st->opc);  /* every OUTi uses TEMP xor OPc */

	if (res || ak) {  /* OUT2: r2 = 0, c2 = ..01 */
		milenage_out(st, temp, 0, 0x01, out);
		if (ak)
			memcpy(ak, out, 6);
		if (res)
			memcpy(res, out + 8, 8);
	}
	if (ck) {         /* OUT3: r3 = 32, c3 = ..02 */
		milenage_out(st, temp, 32, 0x02, out);
		memcpy(ck, out, 16);
	}
	if (ik) {         /* OUT4: r4 = 64, c4 = ..04 */
		milenage_out(st, temp, 64, 0x04, out);
		memcpy(ik, out, 16);
	}
	if (ak_s) {       /* OUT5: r5 = 96, c5 = ..08 */
		milenage_out(st, temp, 96, 0x08, out);
		memcpy(ak_s, out, 6);
	}
	gba_wipe(temp, sizeof(temp));
	gba_wipe(out, sizeof(out));
}

/*
 * The four blocks after TEMP are independent, so they go to AES in one
 * call: with AES-NI the rounds of the four blocks overlap in the pipeline.
 */
void gba_milenage_vector(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
			 const uint8_t sqn[6], const uint8_t amf[2],
			 uint8_t mac_a[8], uint8_t res[8], uint8_t ck[16],
			 uint8_t ik[16], uint8_t ak[6])
{
	const struct milenage_state *st = cstate_of(ctx);
	uint8_t temp[16], in1[16], tmp[16], in[4][16], out[4][16];

	milenage_temp(st, rand, temp);

	/* OUT1 input: rot(IN1 xor OPc, 64) xor TEMP, IN1 = SQN||AMF||SQN||AMF */
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, in1, 8);
	xor16(in1, in1, st->opc);
	rot128(in[0], in1, 64);
	xor16(in[0], in[0], temp);

	/* OUT2..OUT4 inputs: rot(TEMP xor OPc, r) xor c */
	xor16(tmp, temp, st->opc);
	rot128(in[1], tmp, 0);
	in[1][15] ^= 0x01;
	rot128(in[2], tmp, 32);
	in[2][15] ^= 0x02;
	rot128(in[3], tmp, 64);
	in[3][15] ^= 0x04;

	aes128_encrypt(&st->aes, sizeof(in), out[0], in[0]);
	for (int i = 0; i < 4; i++)
		xor16(out[i], out[i], st->opc);

	memcpy(mac_a, out[0], 8);
	memcpy(ak, out[1], 6);
	memcpy(res, out[1] + 8, 8);
	memcpy(ck, out[2], 16);
	memcpy(ik, out[3], 16);

	gba_wipe(temp, sizeof(temp));
	gba_wipe(tmp, sizeof(tmp));
	gba_wipe(in, sizeof(in));
	gba_wipe(out, sizeof(out));
}

/*
 * GSM-Milenage, TS 55.205 4.3: SRES = XRES* (RES folded: first 4 octets
 * xor the second 4 of the 8-octet RES) and Kc = c3(CK, IK).
 */
void gba_milenage_gsm(const struct gba_milenage_ctx *ctx, const uint8_t rand[16],
		      uint8_t sres[4], uint8_t kc[8])
{
	uint8_t res[8], ck[16], ik[16];
	gba_milenage_f2345(ctx, rand, res, kc ? ck : NULL, kc ? ik : NULL, NULL, NULL);
	if (sres)
		for (int i = 0; i < 4; i++)
			sres[i] = res[i] ^ res[i + 4];
	if (kc)
		for (int i = 0; i < 8; i++)
			kc[i] = ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8];
	gba_wipe(res, sizeof(res));
	gba_wipe(ck, sizeof(ck));
	gba_wipe(ik, sizeof(ik));
}
