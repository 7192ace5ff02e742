/*
 * session.c - the card and the context of one gba-client run, shared by
 * every subcommand (see cmd.h): open the card named by --card, keep the
 * bootstrapping context valid, derive NAF keys.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include "cmd.h"

int cmd_fail(const struct cmd_opts *o, gba_client_err err, const char *msg)
{
	struct cmd_out w;
	int code = cmd_exit_code(err);
	const char *text = msg && msg[0] ? msg : gba_client_strerror(err);

	fprintf(stderr, "gba-client: %s\n", text);
	/* With --json a program reads the error from stdout too (same exit code). */
	if (o->json) {
		out_begin(&w, o);
		out_error(&w, code, gba_client_err_name(err), text);
		out_end(&w);
	}
	return code;
}

int cmd_exit_code(gba_client_err err)
{
	switch (err) {
	case GBA_CLIENT_OK:
		return EXIT_OK_;
	case GBA_CLIENT_ERR_INVALID_ARG:
		return EXIT_USAGE;
	case GBA_CLIENT_ERR_TRANSPORT:
	case GBA_CLIENT_ERR_NO_CARD:
	case GBA_CLIENT_ERR_CARD:
	case GBA_CLIENT_ERR_CARD_DATA:
	case GBA_CLIENT_ERR_UNSUPPORTED:
	case GBA_CLIENT_ERR_PIN:
		return EXIT_CARD;
	case GBA_CLIENT_ERR_NETWORK:
	case GBA_CLIENT_ERR_PROTOCOL:
		return EXIT_NETWORK;
	case GBA_CLIENT_ERR_MAC_FAILURE:
	case GBA_CLIENT_ERR_SYNC_FAILURE:
	case GBA_CLIENT_ERR_REJECTED:
	case GBA_CLIENT_ERR_RSPAUTH:
		return EXIT_AUTH;
	case GBA_CLIENT_ERR_NOT_FOUND:
		return EXIT_NO_CONTEXT;
	case GBA_CLIENT_ERR_FILE:
		return EXIT_FILE;
	case GBA_CLIENT_ERR_TIMEOUT:
		return EXIT_TIMEOUT;
	default:
		return EXIT_INTERNAL;
	}
}

void cmd_session_init(struct cmd_session *s, const struct cmd_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
}

void cmd_session_close(struct cmd_session *s)
{
	gba_client_card_close(s->card);
	gba_wipe(s, sizeof(*s));
}

static gba_client_err open_backend(struct cmd_session *s)
{
	const char *c = s->o->card;

	if (!strcmp(c, "pcsc"))
		return gba_client_card_open_pcsc(&s->card, NULL, s->msg, sizeof(s->msg));
	if (!strncmp(c, "pcsc:", 5))
		return gba_client_card_open_pcsc(&s->card, c + 5, s->msg, sizeof(s->msg));
	if (!strncmp(c, "modem:", 6))
		return gba_client_card_open_modem(&s->card, c + 6, s->o->timeout_ms, s->msg,
						  sizeof(s->msg));
	if (!strncmp(c, "soft:", 5)) {
		/* Said every time: a key in a file is not a card. */
		fprintf(stderr, "gba-client: warning: soft card %s: DEVELOPMENT ONLY, the key is "
			"in a file\n", c + 5);
		return gba_client_card_open_soft(&s->card, c + 5, s->msg, sizeof(s->msg));
	}
	snprintf(s->msg, sizeof(s->msg), "--card '%.100s': expected pcsc[:READER|:#N], "
		 "modem:DEVICE or soft:FILE", c);
	return GBA_CLIENT_ERR_INVALID_ARG;
}

static void trace_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "gba-client: trace: %s\n", line);
}

/* -o app=usim|isim: the application GBA runs on (default: the rule of
 * gba_client_usim_identity_app). */
static gba_client_err cmd_app(const struct cmd_opts *o, enum gba_client_app *app, char *msg,
			      size_t msg_size)
{
	const char *v = cmd_opt(o, "app");

	*app = GBA_CLIENT_APP_AUTO;
	if (!v)
		return GBA_CLIENT_OK;
	if (!strcmp(v, "usim"))
		*app = GBA_CLIENT_APP_USIM;
	else if (!strcmp(v, "isim"))
		*app = GBA_CLIENT_APP_ISIM;
	else {
		snprintf(msg, msg_size, "-o app=usim|isim, not '%.40s'", v);
		return GBA_CLIENT_ERR_INVALID_ARG;
	}
	return GBA_CLIENT_OK;
}

gba_client_err cmd_open_card(struct cmd_session *s)
{
	enum gba_client_app app;
	gba_client_err err;

	if (s->card)
		return GBA_CLIENT_OK;
	err = open_backend(s);
	if (!err && s->o->trace)
		gba_client_card_set_trace(s->card, trace_line, NULL,
					  s->o->show_key ? GBA_CLIENT_TRACE_SHOW_KEYS : 0);
	if (!err && s->o->pin_file)
		err = gba_client_card_set_pin_file(s->card, s->o->pin_file,
						   s->o->pin_last_try ? GBA_CLIENT_PIN_LAST_TRY : 0,
						   s->msg, sizeof(s->msg));
	if (!err)
		err = cmd_app(s->o, &app, s->msg, sizeof(s->msg));
	if (!err)
		err = gba_client_usim_identity_app(s->card, &s->id, app, s->msg, sizeof(s->msg));
	return err;
}

static gba_client_err bootstrap(struct cmd_session *s)
{
	struct gba_client_options opt = {
		.bsf_url = s->o->bsf_url, .timeout_ms = s->o->timeout_ms,
		.force_gba_me = s->o->gba_me, .ca_file = s->o->ca_file,
		.require_gba_u = s->o->gba_u,
	};
	gba_client_err err = cmd_open_card(s);

	if (!err)
		err = gba_client_bootstrap(s->card, &s->id, &opt, &s->ctx, &s->stats, s->msg,
					   sizeof(s->msg));
	if (!err && s->stats.gbabp_needed)
		fprintf(stderr, "gba-client: warning: EF_GBABP holds %zu octets, GBA_U needs %zu "
			"(RAND, B-TID, lifetime): GBA_ME instead\n", s->stats.gbabp_size,
			s->stats.gbabp_needed);
	if (!err)
		err = gba_client_context_save(s->o->context, &s->ctx, s->msg, sizeof(s->msg));
	s->have_ctx = !err;
	s->bootstrapped = !err;
	return err;
}

gba_client_err cmd_get_context(struct cmd_session *s, int force)
{
	gba_client_err err;

	if (force)
		return bootstrap(s);
	err = gba_client_context_load(s->o->context, &s->ctx, s->msg, sizeof(s->msg));
	if (err == GBA_CLIENT_ERR_NOT_FOUND ||
	    (!err && gba_client_context_expired(&s->ctx, time(NULL), s->o->margin)))
		return bootstrap(s);
	if (err)
		return err;
	/* A context of another card (the card was swapped) is no use. */
	if (s->card && strcmp(s->ctx.impi, s->id.impi))
		return bootstrap(s);
	s->have_ctx = 1;
	return GBA_CLIENT_OK;
}

gba_client_err cmd_naf_key(struct cmd_session *s, const char *fqdn, const uint8_t ua_id[5],
			   uint8_t out[32])
{
	gba_client_err err;

	if (!s->have_ctx)
		return GBA_CLIENT_ERR_NOT_FOUND;
	/* GBA_U: Ks is in the card, which must be there (and hold this context). */
	if (s->ctx.type == GBA_CLIENT_GBA_U) {
		err = cmd_open_card(s);
		if (err)
			return err;
		if (strcmp(s->ctx.impi, s->id.impi)) {
			snprintf(s->msg, sizeof(s->msg), "the card is not the one of the context");
			return GBA_CLIENT_ERR_NOT_FOUND;
		}
	}
	return gba_client_naf_key(s->card, &s->ctx, fqdn, ua_id, out, s->msg, sizeof(s->msg));
}
