/*
 * gba/client_card.h - a UICC reached through some transport.
 *
 * A back end is three operations (transmit one APDU, get the ATR, reset)
 * on an opaque context.  libgba-client has three back ends: PC/SC
 * (pcsc-lite), a modem's AT+CSIM on a serial device, and a soft card (a
 * development-only USIM made of a key file).  Any other transport (an
 * in-process simulator, a secure element driver) plugs in through
 * gba_client_card_open_custom().
 *
 * gba_client_card_apdu() is what the USIM layer uses: it sends a command
 * and does the T=0 work that PC/SC leaves to the application (61xx: GET
 * RESPONSE; 6Cxx: send again with Le = xx), for every back end.
 */
#ifndef GBA_CLIENT_CARD_H
#define GBA_CLIENT_CARD_H

#include <stddef.h>
#include <stdint.h>

#include <gba/client_error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_CLIENT_APDU_MAX 261     /* short APDU: 5 + 255 + Le */
#define GBA_CLIENT_RAPDU_MAX 258    /* 256 data octets + SW1 SW2 */
#define GBA_CLIENT_ATR_MAX 33
#define GBA_CLIENT_MSG_MAX 256      /* room for any message the library writes */

/*
 * A transport.  Each function returns GBA_CLIENT_OK or an error and may
 * write a one-line reason into msg (msg_size >= 1).
 *   transmit: send capdu (len octets), receive the R-APDU (data || SW1 SW2)
 *             into rapdu (size octets), *rlen its length (>= 2 on success);
 *   atr:      the ATR into atr (size octets), *len its length (0 when the
 *             transport has none, e.g. a modem);
 *   reset:    a warm reset of the card (may be NULL: unsupported);
 *   close:    free ctx (may be NULL);
 *   begin/end: exclusive access for one card procedure (PC/SC
 *             SCardBeginTransaction/EndTransaction), for a reader that
 *             other programs share (both may be NULL: the card is ours
 *             alone).  begin sets *was_reset when the card was reset by
 *             someone else since the last procedure (it has reconnected);
 *             the library then selects the application again and checks
 *             PIN1 again.  With begin set, each procedure starts by
 *             selecting the application (another program may have moved
 *             the card's current file).
 */
struct gba_client_card_ops {
	const char *name;   /* "pcsc", "modem", "soft", or the custom one's */
	gba_client_err (*transmit)(void *ctx, const uint8_t *capdu, size_t len,
				   uint8_t *rapdu, size_t size, size_t *rlen,
				   char *msg, size_t msg_size);
	gba_client_err (*atr)(void *ctx, uint8_t *atr, size_t size, size_t *len,
			      char *msg, size_t msg_size);
	gba_client_err (*reset)(void *ctx, char *msg, size_t msg_size);
	void (*close)(void *ctx);
	gba_client_err (*begin)(void *ctx, int *was_reset, char *msg, size_t msg_size);
	void (*end)(void *ctx);
	/* Where the card is, for card-info (may be NULL): reader or device name,
	 * protocol ("T=0", "T=1", "" when the transport does not say). */
	void (*describe)(void *ctx, char *where, size_t where_size, char *protocol,
			 size_t protocol_size);
};

struct gba_client_card;

/* A card on a caller's transport; ops must outlive the card. */
gba_client_err gba_client_card_open_custom(struct gba_client_card **card,
					   const struct gba_client_card_ops *ops, void *ctx);

/*
 * PC/SC: reader is a reader name, "#N" for the N-th reader (0-based), or
 * NULL for the first reader with a card.  Connects shared, T=0 or T=1.
 */
gba_client_err gba_client_card_open_pcsc(struct gba_client_card **card, const char *reader,
					 char *msg, size_t msg_size);

/*
 * A modem on a serial device, raw termios at 115200 8N1; device is
 * "PATH[,channel=logical|basic]".  logical (default): a logical channel
 * per application (AT+CCHO/AT+CGLA/AT+CCHC, TS 27.007 8.45/8.43/8.46),
 * falling back to AT+CSIM (8.17) on the basic channel when the module
 * answers ERROR/+CME ERROR to AT+CCHO; basic: AT+CSIM.  On the basic
 * channel the MF is never selected.  timeout_ms bounds each command
 * (0: 5000).  ERROR and +CME ERROR answers are transport errors with the
 * modem's text.
 */
gba_client_err gba_client_card_open_modem(struct gba_client_card **card, const char *device,
					  unsigned timeout_ms, char *msg, size_t msg_size);

/*
 * The soft card, FOR DEVELOPMENT ONLY: a USIM made of a key file (mode
 * 0600 or stricter, owned by the caller; anything group- or
 * world-readable is refused) of "key = value" lines:
 *   imsi = 001010000000001     mnc_len = 2 or 3 (default 2)
 *   algorithm = milenage|tuak  k = hex  opc = hex (TUAK: TOPc, 32 octets)
 *   tuak_iterations = 1        res_len = 8   (TUAK only)
 *   sqn_file = PATH            (default: the key file's path + ".sqn")
 * It answers SELECT, READ BINARY (EF_IMSI, EF_AD, EF_UST without GBA_U)
 * and AUTHENTICATE 3G context; the SQN array persists in sqn_file (0600).
 */
gba_client_err gba_client_card_open_soft(struct gba_client_card **card, const char *keyfile,
					 char *msg, size_t msg_size);

/*
 * PIN1 (TS 102 221 9.5.1).  With a PIN set, the card object verifies PIN1
 * after selecting an application whose FCP says PIN1 is enabled (once per
 * card session; after a reset again); a card with PIN1 disabled gets no
 * VERIFY.  When the card reports one try left, the PIN is not tried
 * unless flags has GBA_CLIENT_PIN_LAST_TRY (GBA_CLIENT_ERR_PIN instead).
 * A wrong PIN is GBA_CLIENT_ERR_PIN with the tries left in the message.
 * The PIN (4-8 digits) is wiped when the card is closed and never put in
 * a message.  _set_pin_file reads it from a file of one line that must be
 * ours with mode 0600 (GBA_CLIENT_ERR_FILE otherwise).
 */
#define GBA_CLIENT_PIN_LAST_TRY 1u
gba_client_err gba_client_card_set_pin(struct gba_client_card *card, const char *pin,
				       unsigned flags, char *msg, size_t msg_size);
gba_client_err gba_client_card_set_pin_file(struct gba_client_card *card, const char *path,
					    unsigned flags, char *msg, size_t msg_size);
/* PIN1 as last seen: *enabled -1 unknown, 0, 1; *tries left, -1 unknown
 * (also after a successful VERIFY, which resets the counter). */
void gba_client_card_pin_status(const struct gba_client_card *card, int *enabled, int *tries);

/* Close and free (NULL is fine). */
void gba_client_card_close(struct gba_client_card *card);

/* The back end's name: "pcsc", "modem", "soft" or the custom one's. */
const char *gba_client_card_backend(const struct gba_client_card *card);

/* One transport exchange, as is (no T=0 handling). */
gba_client_err gba_client_card_transmit(struct gba_client_card *card,
					const uint8_t *capdu, size_t len,
					uint8_t *rapdu, size_t size, size_t *rlen,
					char *msg, size_t msg_size);

/*
 * A command with T=0 handling: 61xx is followed by GET RESPONSE
 * (00 C0 00 00 xx, repeatedly, data appended), 6Cxx by the command again
 * with Le = xx.  rapdu receives data || SW1 SW2, *sw the final status word.
 */
gba_client_err gba_client_card_apdu(struct gba_client_card *card,
				    const uint8_t *capdu, size_t len,
				    uint8_t *rapdu, size_t size, size_t *rlen, unsigned *sw,
				    char *msg, size_t msg_size);

gba_client_err gba_client_card_atr(struct gba_client_card *card, uint8_t *atr, size_t size,
				   size_t *len, char *msg, size_t msg_size);
gba_client_err gba_client_card_reset(struct gba_client_card *card, char *msg, size_t msg_size);

/*
 * A trace of what the client does with this card: each APDU exchange
 * ("> CMD" / "< ANSWER SW") and each HTTP exchange of a bootstrap on it
 * (request line, headers, status, response headers, body length), one
 * line per call, never key material unless asked: the answers to
 * AUTHENTICATE (RES, CK, IK, AUTS, Ks_ext_NAF) and the GET RESPONSEs that
 * carry them show as "[N octets masked]" unless flags has
 * GBA_CLIENT_TRACE_SHOW_KEYS; VERIFY's PIN is masked always.  fn NULL:
 * off.
 */
#define GBA_CLIENT_TRACE_SHOW_KEYS 1u
typedef void (*gba_client_trace_fn)(void *ctx, const char *line);
void gba_client_card_set_trace(struct gba_client_card *card, gba_client_trace_fn fn,
			       void *ctx, unsigned flags);

/* Transport exchanges so far (each GET RESPONSE counts): for benchmarks. */
unsigned long gba_client_card_exchanges(const struct gba_client_card *card);

#ifdef __cplusplus
}
#endif
#endif /* GBA_CLIENT_CARD_H */
