/*
 * cmd_card_info.c - `gba-client card-info`: what the card says about
 * itself, for a lab: where it is and how it talks, ATR, ICCID, PIN1, every
 * application of EF_DIR, GBA support (UST 68, IST 2), EF_GBABP's sizes,
 * the identity GBA would use, and the stored bootstrapping context.  With
 * PIN1 enabled and no PIN given, what can be read without it is shown
 * (and the exit status is still 3).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static void out_pin(struct cmd_out *w, const struct gba_client_card_info *ci)
{
	out_str(w, "pin1", ci->pin1_enabled < 0 ? "unknown"
			   : ci->pin1_enabled ? "enabled" : "disabled");
	if (ci->pin1_tries >= 0)
		out_int(w, "pin1_tries_left", ci->pin1_tries);
}

static void out_identity(struct cmd_out *w, const struct cmd_session *s)
{
	out_str(w, "imsi", s->id.imsi);
	out_str(w, "mcc", s->id.mcc);
	out_str(w, "mnc", s->id.mnc);
	out_str(w, "impi", s->id.impi);
	out_str(w, "impi_source", s->id.impi_from_isim ? "isim" : "derived");
	out_str(w, "app", s->id.app == GBA_CLIENT_APP_ISIM ? "isim" : "usim");
	out_str(w, "bsf_host", s->id.bsf_host);
	out_bool(w, "gba_u", s->id.gba_u);
	out_bool(w, "usim_gba_u_ust68", s->id.ust_gba);
	if (s->id.isim_aid_len)
		out_bool(w, "isim_gba_ist2", s->id.isim_gba);
	out_hex(w, "usim_aid", s->id.usim_aid, s->id.usim_aid_len);
	if (s->id.isim_aid_len)
		out_hex(w, "isim_aid", s->id.isim_aid, s->id.isim_aid_len);
}

/* The stored context, if any: what naf-key would use. */
static void out_stored(struct cmd_out *w, struct cmd_session *s)
{
	char msg[GBA_CLIENT_MSG_MAX];

	if (gba_client_context_load(s->o->context, &s->ctx, msg, sizeof(msg))) {
		out_str(w, "context", "none");
		return;
	}
	out_str(w, "context", s->o->context);
	out_bool(w, "context_valid", !gba_client_context_expired(&s->ctx, time(NULL), 0));
	out_str(w, "context_btid", s->ctx.btid);
	out_time(w, "context_lifetime", (long long)s->ctx.lifetime);
	out_str(w, "context_type", s->ctx.type == GBA_CLIENT_GBA_U ? "GBA_U" : "GBA_ME");
	out_str(w, "context_app", s->ctx.app == GBA_CLIENT_APP_ISIM ? "isim" : "usim");
	out_bool(w, "context_of_this_card", s->id.impi[0] && !strcmp(s->ctx.impi, s->id.impi));
}

int cmd_card_info(const struct cmd_opts *o)
{
	struct cmd_session s;
	struct cmd_out w;
	struct gba_client_card_info ci = { .pin1_enabled = -1, .pin1_tries = -1 };
	uint8_t atr[GBA_CLIENT_ATR_MAX];
	size_t atr_len = 0;
	char imsg[GBA_CLIENT_MSG_MAX];
	gba_client_err err;
	int rc = EXIT_OK_;

	cmd_session_init(&s, o);
	err = cmd_open_card(&s);
	/* Without PIN1 a lab still sees the card: everything but the identity. */
	if ((err && err != GBA_CLIENT_ERR_PIN) || !s.card ||
	    gba_client_card_atr(s.card, atr, sizeof(atr), &atr_len, imsg, sizeof(imsg))) {
		rc = cmd_fail(o, err ? err : GBA_CLIENT_ERR_TRANSPORT, err ? s.msg : imsg);
		cmd_session_close(&s);
		return rc;
	}
	gba_client_card_info(s.card, &s.id, &ci, imsg, sizeof(imsg));
	if (err)
		rc = cmd_exit_code(err);
	out_begin(&w, o);
	out_str(&w, "card", gba_client_card_backend(s.card));
	out_bool(&w, "development_only", s.o->card[0] == 's');
	out_str(&w, "where", ci.where);
	if (ci.protocol[0])
		out_str(&w, "protocol", ci.protocol);
	if (atr_len)
		out_hex(&w, "atr", atr, atr_len);
	if (ci.iccid[0])
		out_str(&w, "iccid", ci.iccid);
	out_pin(&w, &ci);
	out_apps(&w, &ci);
	if (ci.usim_gbabp_size)
		out_int(&w, "usim_gbabp_size", (long long)ci.usim_gbabp_size);
	if (ci.isim_gbabp_size)
		out_int(&w, "isim_gbabp_size", (long long)ci.isim_gbabp_size);
	if (!err)
		out_identity(&w, &s);
	else
		out_error(&w, rc, gba_client_err_name(err), s.msg);
	out_stored(&w, &s);
	out_end(&w);
	if (err)
		fprintf(stderr, "gba-client: %s\n", s.msg);
	cmd_session_close(&s);
	return rc;
}
