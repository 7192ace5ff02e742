/* cmd_card_info.c - `gba-client card-info`: what the card says about itself. */
#include <stdio.h>

#include "cmd.h"

int cmd_card_info(const struct cmd_opts *o)
{
	struct cmd_session s;
	struct cmd_out w;
	uint8_t atr[GBA_CLIENT_ATR_MAX];
	size_t atr_len = 0;
	gba_client_err err;
	int rc = EXIT_OK_;

	cmd_session_init(&s, o);
	err = cmd_open_card(&s);
	if (!err)
		err = gba_client_card_atr(s.card, atr, sizeof(atr), &atr_len, s.msg, sizeof(s.msg));
	if (err) {
		rc = cmd_fail(o, err, s.msg);
		cmd_session_close(&s);
		return rc;
	}
	out_begin(&w, o);
	out_str(&w, "card", gba_client_card_backend(s.card));
	out_bool(&w, "development_only", s.o->card[0] == 's');
	if (atr_len)
		out_hex(&w, "atr", atr, atr_len);
	out_str(&w, "imsi", s.id.imsi);
	out_str(&w, "mcc", s.id.mcc);
	out_str(&w, "mnc", s.id.mnc);
	out_str(&w, "impi", s.id.impi);
	out_str(&w, "impi_source", s.id.impi_from_isim ? "isim" : "derived");
	out_str(&w, "app", s.id.app == GBA_CLIENT_APP_ISIM ? "isim" : "usim");
	out_str(&w, "bsf_host", s.id.bsf_host);
	out_bool(&w, "gba_u", s.id.gba_u);
	out_hex(&w, "usim_aid", s.id.usim_aid, s.id.usim_aid_len);
	if (s.id.isim_aid_len)
		out_hex(&w, "isim_aid", s.id.isim_aid, s.id.isim_aid_len);
	out_end(&w);
	cmd_session_close(&s);
	return rc;
}
