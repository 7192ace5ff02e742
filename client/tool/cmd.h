/*
 * cmd.h - what gba-client's subcommands share: the parsed common options,
 * the exit codes, output helpers, and a session that opens the card,
 * returns a valid bootstrapping context (bootstrapping when there is none
 * or it has expired) and derives NAF keys.
 *
 * A subcommand is `int cmd_x(const struct cmd_opts *o)` in its own file,
 * returning an exit code, and one line in main.c's table.
 */
#ifndef GBA_CLIENT_TOOL_CMD_H
#define GBA_CLIENT_TOOL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include <gba/client.h>

/* Exit codes (documented in gba-client(1)). */
enum cmd_exit {
	EXIT_OK_ = 0,
	EXIT_INTERNAL = 1,    /* anything not below */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_CARD = 3,        /* no reader/card/modem, card removed, card error or garbage */
	EXIT_NETWORK = 4,     /* BSF unreachable, HTTP/TLS failure, Ub protocol broken */
	EXIT_AUTH = 5,        /* MAC failure, sync failure, BSF refused, rspauth wrong */
	EXIT_NO_CONTEXT = 6,  /* no valid bootstrapping context (status) */
	EXIT_FILE = 7,        /* context or key file unreadable, unwritable or not 0600 */
	EXIT_TIMEOUT = 8,     /* the card, modem or BSF did not answer in time */
};

struct cmd_opts {
	const char *card;       /* pcsc[:READER|:#N], modem:DEVICE, soft:FILE */
	const char *bsf_url;    /* NULL: derived from the IMSI */
	const char *context;    /* the context file */
	const char *naf_fqdn;   /* --naf */
	uint8_t ua_id[5];       /* --ua-id, default 01 00 00 00 02 (HTTP Digest) */
	const char *ca_file;
	const char *pin_file;   /* --pin-file: PIN1, one line, mode 0600 */
	int pin_last_try;       /* --pin-last-try: may use PIN1's last try */
	unsigned timeout_ms;
	unsigned margin;        /* re-bootstrap when the context ends within this many s */
	int json, show_key, force, gba_me;
	int gba_u;              /* --gba-u: GBA_U or fail (before the BSF) */
	int trace;              /* --trace: APDUs and HTTP exchanges on stderr */
	int argc;               /* what follows the subcommand */
	char **argv;
	/* -o KEY=VALUE (repeatable): settings of one subcommand, see cmd_opt(). */
	const char *extra[16];
	int n_extra;
};

/* The value of -o KEY=VALUE, or NULL when not given. */
const char *cmd_opt(const struct cmd_opts *o, const char *key);

/* An -o argument whose key no subcommand knows: -1 with the known ones in err. */
int cmd_check_opt(const char *arg, char *err, size_t err_size);

/* One run's card and context. */
struct cmd_session {
	const struct cmd_opts *o;
	struct gba_client_card *card;     /* NULL until needed */
	struct gba_client_identity id;
	struct gba_client_context ctx;
	struct gba_client_stats stats;
	int have_ctx;
	int bootstrapped;                 /* this run bootstrapped */
	char msg[GBA_CLIENT_MSG_MAX];
};

/* Exit code for a library error, after printing msg (or the error's text)
 * on stderr and, with --json, {"error": {"code", "kind", "message"}} on stdout. */
int cmd_fail(const struct cmd_opts *o, gba_client_err err, const char *msg);
int cmd_exit_code(gba_client_err err);

void cmd_session_init(struct cmd_session *s, const struct cmd_opts *o);
/* Wipe and close everything. */
void cmd_session_close(struct cmd_session *s);
/* Open the card of --card and read its identity (once). */
gba_client_err cmd_open_card(struct cmd_session *s);
/*
 * A valid context in s->ctx: loaded from the context file, or bootstrapped
 * (and saved) when there is none, it has expired, it belongs to another
 * IMPI, or force is set.
 */
gba_client_err cmd_get_context(struct cmd_session *s, int force);
/* The NAF key for (fqdn, ua_id) from s->ctx (GBA_U: from the card). */
gba_client_err cmd_naf_key(struct cmd_session *s, const char *fqdn, const uint8_t ua_id[5],
			   uint8_t out[32]);

/* Output: "name: value" lines, or one JSON object with --json. */
struct cmd_out {
	int json;
	int fields;
};
void out_begin(struct cmd_out *w, const struct cmd_opts *o);
void out_str(struct cmd_out *w, const char *name, const char *value);
void out_int(struct cmd_out *w, const char *name, long long value);
void out_bool(struct cmd_out *w, const char *name, int value);
void out_hex(struct cmd_out *w, const char *name, const uint8_t *data, size_t len);
/* A key: its KCV always, the key itself only with --show-key. */
void out_key(struct cmd_out *w, const struct cmd_opts *o, const char *name,
	     const uint8_t *key, size_t len);
void out_time(struct cmd_out *w, const char *name, long long t);
void out_end(struct cmd_out *w);
/* "error": {"code": N, "kind": "...", "message": "..."} (text: error: lines). */
void out_error(struct cmd_out *w, int code, const char *kind, const char *message);
/* The card's applications: "application: AID label" lines, or a JSON array
 * "applications": [{"aid": ..., "label": ...}]. */
void out_apps(struct cmd_out *w, const struct gba_client_card_info *ci);
/* The context's fields (shared by bootstrap, status, naf-key). */
void out_context(struct cmd_out *w, const struct cmd_session *s);

/* Parse a Ua security protocol id: 10 hex digits or a name (http-digest, ...). */
int cmd_parse_ua_id(const char *s, uint8_t out[5]);

/* The subcommands. */
int cmd_bootstrap(const struct cmd_opts *o);
int cmd_naf_key_main(const struct cmd_opts *o);
int cmd_status(const struct cmd_opts *o);
int cmd_card_info(const struct cmd_opts *o);
int cmd_m2m_enrol(const struct cmd_opts *o);    /* cmd_m2m.c (toward gba-naf) */
int cmd_m2m_session(const struct cmd_opts *o);

#endif /* GBA_CLIENT_TOOL_CMD_H */
