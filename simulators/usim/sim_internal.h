/*
 * sim_internal.h - the card's insides, shared by the engine's files:
 * the profile (sim_profile.c), the file system (sim_fs.c), the state file
 * (sim_state.c), the APDU dispatcher (sim_apdu.c), AUTHENTICATE
 * (sim_auth.c) and PIN handling (sim_pin.c).
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <gba/aka.h>
#include <gba/error.h>

#include "usim_sim.h"

#define SIM_MAX_IMPU 4
#define SIM_STR_MAX 256

/* ---- Profile ------------------------------------------------------------ */

struct sim_profile {
	char iccid[21];
	char imsi[16];
	struct gba_aka_key key;        /* K, OPc (or TOPc), algorithm */
	char impi[SIM_STR_MAX];        /* empty: no ISIM application */
	char impu[SIM_MAX_IMPU][SIM_STR_MAX];
	unsigned n_impu;
	char domain[SIM_STR_MAX];
	unsigned mnc_length;           /* 2 or 3 */
	int t1;                        /* 1: T=1, 0: T=0 */
	int gba;                       /* GBA_U supported */
	char pin[9];                   /* empty: PIN disabled */
	unsigned ind_bits;
	uint64_t sqn_delta;
	int strict;                    /* T=0 case 4 with Le -> 6700; modem: lowercase hex refused */
	int modem_channels;            /* modem answers AT+CCHO/CGLA/CCHC (default yes) */
	int modem_chatty;              /* modem echoes by default and sends URCs */
	int sw_quirks;                 /* 91xx after TERMINAL PROFILE, 63C1 to UPDATE BINARY */
	unsigned gbabp_size;           /* EF_GBABP's size (USIM and ISIM) */
	int isim_own_key;              /* the ISIM has its own K/OPc (isim_k, isim_op[c]) */
	struct gba_aka_key isim_key;
};

/* Parse a profile file; errors go to stderr with the line number. */
gba_err sim_profile_load(const char *path, struct sim_profile *p);

/* ---- File system -------------------------------------------------------- */

enum sim_ftype { SIM_MF, SIM_ADF, SIM_EF_TRANSPARENT, SIM_EF_LINEAR };
enum sim_access { SIM_ALW, SIM_PIN, SIM_ADM };   /* ADM: never for the ME */

/* Indexes of the files in sim->files (fixed tree). */
enum sim_fid_index {
	F_MF, F_DIR, F_ICCID,
	F_ADF_USIM, F_IMSI, F_AD, F_UST, F_GBABP, F_GBANL, F_NAFKCA,
	F_ADF_ISIM, F_IMPI, F_DOMAIN, F_IMPU, F_IST, F_ISIM_AD,
	F_ISIM_GBABP, F_ISIM_GBANL, F_ISIM_NAFKCA,
	F_ARR, F_USIM_ARR, F_ISIM_ARR,
	F_COUNT
};
#define F_NONE (-1)

struct sim_file {
	uint16_t fid;
	int parent;                   /* index; F_NONE for the MF */
	enum sim_ftype type;
	uint8_t sfi;                  /* 0: none */
	enum sim_access read, update;
	int present;                  /* absent files answer 6A82 */
	int persist;                  /* saved in the state file when updated */
	int is_alias;                 /* shares another file's data (not freed, not saved) */
	uint8_t *data;                /* transparent: size octets; linear: n_rec*rec_len */
	size_t size;
	uint8_t rec_len, n_rec;
	const uint8_t *aid;           /* ADFs */
	size_t aid_len;
};

extern const uint8_t SIM_AID_USIM[16];
extern const uint8_t SIM_AID_ISIM[16];

/* ---- The card ----------------------------------------------------------- */

#define SIM_GBANL_RECORDS 4
#define SIM_CHANNELS 4                /* basic + MANAGE CHANNEL 1..3 */

struct sim_gba {
	int have_ks;
	uint8_t ks[32];               /* CK || IK of the last bootstrap */
	uint8_t rand[16];
	uint8_t ks_int_naf[SIM_GBANL_RECORDS][32];  /* one per EF_GBANL record */
	unsigned next_record;         /* round robin when EF_GBANL is full */
};

/* An application's own AKA state: the ISIM when it has its own K.  While
 * it runs AUTHENTICATE it is swapped into the card's key, sqn, gba and GBA
 * files (sim_isim_swap), so the AKA and GBA code is the USIM's. */
struct sim_app_state {
	struct gba_usim_sqn sqn;
	struct sim_gba gba;
};

struct usim_sim {
	struct sim_profile prof;
	char *state_path;
	struct gba_usim_sqn sqn;
	struct sim_gba gba;
	struct sim_app_state isim;     /* used when prof.isim_own_key */
	struct sim_file files[F_COUNT];

	/* Volatile (reset) state.  cur_* belong to the channel of the command
	 * being processed; the other channels' are kept in chan[]. */
	int cur_df;                   /* F_MF or an ADF */
	int cur_ef;                   /* F_NONE or an EF index */
	int cur_app;                  /* F_NONE or an ADF: what 7FFF means */
	unsigned cur_rec;             /* current record of a linear EF, 0: none */
	struct sim_channel {
		int open, cur_df, cur_ef, cur_app;
		unsigned cur_rec;
	} chan[SIM_CHANNELS];         /* 0 is the basic channel, always open */
	int pin_verified;
	int proactive_pending;        /* sw_quirks: 91xx until FETCH */
	unsigned pin_tries;           /* persistent: 3 down to 0 (blocked) */
	uint8_t pending[256];         /* GET RESPONSE data */
	size_t pending_len;

	enum usim_sim_fault fault;
	usim_sim_log_fn log_fn;
	void *log_ctx;
	uint32_t prng;                /* for USIM_FAULT_GARBAGE only */
};

/* Build the file tree from the profile (contents as issued). */
gba_err sim_fs_build(struct usim_sim *sim);
void sim_fs_free(struct usim_sim *sim);
/* Find a file by FID as SELECT does, from the current DF; F_NONE if absent. */
int sim_fs_find(const struct usim_sim *sim, int df, uint16_t fid);
/* The FCP template (62 L ...) of file i; returns its length. */
size_t sim_fs_fcp(const struct usim_sim *sim, int i, uint8_t *out, size_t out_size);
/* An index by the file's SFI in the current application (or MF); F_NONE. */
int sim_fs_by_sfi(const struct usim_sim *sim, uint8_t sfi);

/* ---- State file --------------------------------------------------------- */

/* Load the state into sim (files already built); a missing file is a fresh
 * card.  Save writes it atomically. */
gba_err sim_state_load(struct usim_sim *sim);
gba_err sim_state_save(const struct usim_sim *sim);

/* Exchange the ISIM's own AKA state (key, SQN, Ks, GBA files) with the
 * card's; a second call swaps back.  Only when prof.isim_own_key. */
void sim_isim_swap(struct usim_sim *sim);

/* ---- Commands ----------------------------------------------------------- */

/* A parsed short C-APDU. */
struct sim_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	int has_le;
	size_t le;                    /* 1..256 (Le 00 is 256) */
};

/* The outcome of one command: data to return, the SW, whether the card
 * state changed (the engine saves it then). */
struct sim_reply {
	uint8_t data[256];
	size_t len;
	uint16_t sw;
	int changed;
};

void sim_cmd_authenticate(struct usim_sim *sim, const struct sim_apdu *a,
			  struct sim_reply *r);
void sim_cmd_select(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_status(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_read_binary(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_update_binary(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_read_record(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_update_record(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_verify(struct usim_sim *sim, const struct sim_apdu *a, struct sim_reply *r);
void sim_cmd_manage_channel(struct usim_sim *sim, const struct sim_apdu *a,
			    struct sim_reply *r);
/* The channel of a CLA (first interindustry: b2-b1; further: 4 + b4-b1). */
unsigned sim_cla_channel(uint8_t cla);
/* 1 when the access condition is met now. */
int sim_access_ok(const struct usim_sim *sim, enum sim_access acc);

/* Status words used across files. */
#define SW_OK              0x9000
#define SW_WRONG_LENGTH    0x6700
#define SW_SEC_STATUS      0x6982
#define SW_PIN_BLOCKED     0x6983
#define SW_COND_OF_USE     0x6985
#define SW_NO_EF           0x6986
#define SW_WRONG_DATA      0x6A80
#define SW_FILE_NOT_FOUND  0x6A82
#define SW_RECORD_NOT_FOUND 0x6A83
#define SW_WRONG_P1P2      0x6A86
#define SW_INCORRECT_P1P2  0x6B00
#define SW_INS_UNKNOWN     0x6D00
#define SW_CLA_UNKNOWN     0x6E00
#define SW_TECHNICAL       0x6F00
#define SW_CHANNEL_UNSUP   0x6881
#define SW_NO_MORE_CHANNELS 0x6A81
#define SW_EOF             0x6282
#define SW_AUTH_MAC        0x9862
#define SW_AUTH_CONTEXT    0x9864

#endif /* SIM_INTERNAL_H */
