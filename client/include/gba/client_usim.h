/*
 * gba/client_usim.h - what the client asks of the UICC (TS 31.102/31.103).
 *
 * Identity: EF_DIR gives the USIM and ISIM AIDs; EF_IMSI and EF_AD (MNC
 * length) give the IMSI and the home network; the ISIM's EF_IMPI gives the
 * IMPI when there is an ISIM, else it is derived (TS 23.003 13.3):
 *   IMPI = <IMSI>@ims.mnc<MNC, 3 digits>.mcc<MCC>.3gppnetwork.org
 *   BSF  = bsf.mnc<MNC, 3 digits>.mcc<MCC>.pub.3gppnetwork.org (16.2)
 * EF_UST service 68 says whether the USIM does GBA_U.
 *
 * AUTHENTICATE: 3G context (P2=81) gives RES, CK, IK; the GBA context
 * (P2=84) in bootstrapping mode (tag DD) gives RES only, the card keeps Ks;
 * in NAF derivation mode (tag DE) gives Ks_ext_NAF.
 */
#ifndef GBA_CLIENT_USIM_H
#define GBA_CLIENT_USIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gba/client_card.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_CLIENT_IMSI_MAX 15
#define GBA_CLIENT_IMPI_MAX 255
#define GBA_CLIENT_HOST_MAX 255
#define GBA_CLIENT_AID_MAX 16

/* The application GBA runs on (TS 33.220 5.2.1: the IMPI and the keys
 * come from the same one). */
enum gba_client_app {
	GBA_CLIENT_APP_AUTO = 0,    /* as asked: the ISIM when its IMPI is used and it does GBA */
	GBA_CLIENT_APP_USIM = 1,
	GBA_CLIENT_APP_ISIM = 2,
};

struct gba_client_identity {
	char imsi[GBA_CLIENT_IMSI_MAX + 1];
	char mcc[4];
	char mnc[4];                /* as on the card: 2 or 3 digits */
	unsigned mnc_len;           /* from EF_AD (2 when EF_AD has no length) */
	char impi[GBA_CLIENT_IMPI_MAX + 1];
	int impi_from_isim;         /* 1: EF_IMPI of the ISIM; 0: derived */
	char bsf_host[GBA_CLIENT_HOST_MAX + 1];  /* derived from the IMSI */
	int gba_u;                  /* EF_UST service 68 */
	uint8_t usim_aid[GBA_CLIENT_AID_MAX];
	size_t usim_aid_len;
	uint8_t isim_aid[GBA_CLIENT_AID_MAX];
	size_t isim_aid_len;        /* 0: no ISIM */
	int isim_gba;               /* EF_IST service 2: the ISIM does GBA */
	int ust_gba;                /* EF_UST service 68: the USIM does GBA_U */
	enum gba_client_app app;    /* where AUTHENTICATE goes: USIM or ISIM, never mixed */
};

/*
 * Read the identity and choose the application GBA runs on, never mixed:
 * the ISIM (its IMPI, its AUTHENTICATE, its EF_GBABP 6FD5) when its IMPI
 * is usable and EF_IST has service 2 (GBA); otherwise the USIM with the
 * IMSI-derived IMPI (not the ISIM's).  want forces one: _APP_USIM, or
 * _APP_ISIM (GBA_CLIENT_ERR_UNSUPPORTED when the ISIM cannot).  gba_u is
 * then the chosen application's (UST 68 or IST 2).  Leaves it selected.
 * gba_client_usim_identity() is want = GBA_CLIENT_APP_AUTO.
 */
gba_client_err gba_client_usim_identity(struct gba_client_card *card,
					struct gba_client_identity *id,
					char *msg, size_t msg_size);
gba_client_err gba_client_usim_identity_app(struct gba_client_card *card,
					    struct gba_client_identity *id,
					    enum gba_client_app want,
					    char *msg, size_t msg_size);

/*
 * Derivations of TS 23.003 from an IMSI and its MNC length (2 or 3),
 * NUL-terminated; the MNC is padded to 3 digits.
 */
gba_client_err gba_client_impi_from_imsi(char *out, size_t out_size, const char *imsi,
					 unsigned mnc_len);
gba_client_err gba_client_bsf_host_from_imsi(char *out, size_t out_size, const char *imsi,
					     unsigned mnc_len);

/* Decode EF_IMSI (length octet, then swapped BCD) into digits and a NUL. */
gba_client_err gba_client_imsi_decode(char out[GBA_CLIENT_IMSI_MAX + 1],
				      const uint8_t *ef, size_t ef_len);

/* What AUTHENTICATE answered.  Wipe it (gba_wipe) when done. */
struct gba_client_auth {
	uint8_t res[16];
	size_t res_len;
	uint8_t ck[16];             /* 3G context only */
	uint8_t ik[16];             /* 3G context only */
	uint8_t auts[14];           /* on GBA_CLIENT_ERR_SYNC_FAILURE */
};

/*
 * AUTHENTICATE with RAND and AUTN.  gba_u = 0: 3G context (P2=81); 1: GBA
 * context bootstrapping mode (P2=84, tag DD).  GBA_CLIENT_OK: res (and
 * ck/ik for 3G) set; GBA_CLIENT_ERR_SYNC_FAILURE: auts set;
 * GBA_CLIENT_ERR_MAC_FAILURE: SW 9862.  The USIM must be selected.
 */
gba_client_err gba_client_usim_authenticate(struct gba_client_card *card, int gba_u,
					    const uint8_t rand[16], const uint8_t autn[16],
					    struct gba_client_auth *out,
					    char *msg, size_t msg_size);

/*
 * GBA_U: write EF_GBABP (TS 31.102 4.2.79: L RAND L B-TID L lifetime,
 * lifetime as the xs:dateTime text of the BootstrappingInfo).
 */
gba_client_err gba_client_usim_write_gbabp(struct gba_client_card *card,
					   const uint8_t rand[16], const char *btid,
					   const char *lifetime, char *msg, size_t msg_size);

/*
 * GBA_U NAF derivation mode (P2=84, tag DE: L NAF_Id L IMPI): the card
 * answers Ks_ext_NAF (32 octets) and keeps Ks_int_NAF.
 */
gba_client_err gba_client_usim_ks_ext_naf(struct gba_client_card *card,
					  const uint8_t *naf_id, size_t naf_id_len,
					  const char *impi, uint8_t out[32],
					  char *msg, size_t msg_size);

/* What a lab wants to know about a card (gba_client_card_info). */
#define GBA_CLIENT_APPS_MAX 8
struct gba_client_app_entry {
	uint8_t aid[GBA_CLIENT_AID_MAX];
	size_t aid_len;
	char label[33];             /* EF_DIR tag 50, printable ASCII; "" if none */
};

struct gba_client_card_info {
	char where[256];            /* reader or device */
	char protocol[8];           /* "T=0", "T=1", "" */
	char iccid[21];             /* "" when not read (a modem's basic channel) */
	int pin1_enabled;           /* -1 unknown, 0, 1 */
	int pin1_tries;             /* tries left when last asked, -1 unknown (or verified) */
	struct gba_client_app_entry apps[GBA_CLIENT_APPS_MAX];
	size_t n_apps;              /* EF_DIR's applications (or USIM/ISIM found by AID) */
	size_t usim_gbabp_size;     /* EF_GBABP 6FD6, 0: none */
	size_t isim_gbabp_size;     /* EF_GBABP 6FD5 of the ISIM, 0: none */
};

/*
 * Read the lab view of a card whose identity was read (id): where it is,
 * ICCID, PIN1 state, EF_DIR's applications with labels, EF_GBABP sizes.
 * Leaves id->app selected.  Fields it cannot read stay empty.
 */
gba_client_err gba_client_card_info(struct gba_client_card *card,
				    const struct gba_client_identity *id,
				    struct gba_client_card_info *info,
				    char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif /* GBA_CLIENT_USIM_H */
