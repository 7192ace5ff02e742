/*
 * node.c - the process's Diameter node: freeDiameter's core started from
 * a small C struct, its peers, its log, and the hooks that keep message
 * contents (CK, IK, XRES) out of the log.
 *
 * freeDiameter is a process-wide singleton (fd_g_config, one dictionary,
 * one set of threads) whose log handler and peer validator take no user
 * pointer.  So this file keeps the one node of the process in a static
 * pointer: the only global state of the library, and a mirror of
 * freeDiameter's own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static struct gba_dia *the_node;
static int fd_initialised;   /* fd_core_initialize() may run once per process */

/* ---- Log --------------------------------------------------------------------- */

const char *gba_dia_log_level_name(enum gba_dia_log_level level)
{
	switch (level) {
	case GBA_DIA_LOG_DEBUG:
		return "debug";
	case GBA_DIA_LOG_INFO:
		return "info";
	case GBA_DIA_LOG_WARN:
		return "warn";
	default:
		return "error";
	}
}

/* One line to the node's sink; characters that are not printable ASCII
 * become '?', so that a peer's identity cannot forge log lines. */
static void emit(const struct gba_dia *dia, enum gba_dia_log_level level, char *line)
{
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	if (dia && dia->log) {
		dia->log(dia->log_arg, level, line);
	} else {
		char out[1100];
		int n = snprintf(out, sizeof(out), "diameter: %s: %s\n",
				 gba_dia_log_level_name(level), line);
		if (n > 0)
			(void)!write(2, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
	}
}

__attribute__((format(printf, 3, 0)))
static void dia_logv(const struct gba_dia *dia, enum gba_dia_log_level level, const char *fmt,
		     va_list ap)
{
	char line[1024];

	if (dia && level < dia->log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(dia, level, line);
}

void gba_dia_log(const struct gba_dia *dia, enum gba_dia_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dia_logv(dia, level, fmt, ap);
	va_end(ap);
}

/* freeDiameter's notices (its configuration, every state change) are
 * debug detail here: the node's own lines say what matters at info.  Its
 * "errors" are mostly a peer going away: a warning. */
static enum gba_dia_log_level from_fd_level(int fd_level)
{
	if (fd_level >= FD_LOG_FATAL)
		return GBA_DIA_LOG_ERROR;
	if (fd_level >= FD_LOG_ERROR)
		return GBA_DIA_LOG_WARN;
	return GBA_DIA_LOG_DEBUG;
}

/* freeDiameter's log handler: filter first (it is called for every trace,
 * under freeDiameter's global log lock), then split multi-line texts. */
__attribute__((format(printf, 2, 0)))
static void fd_logger(int fd_level, const char *format, va_list args)
{
	const struct gba_dia *dia = the_node;
	enum gba_dia_log_level level = from_fd_level(fd_level);
	char text[2048];
	char *line, *save = NULL;

	if (dia && level < dia->log_level && level != GBA_DIA_LOG_ERROR)
		return;
	vsnprintf(text, sizeof(text), format, args);
	/* freeDiameter announces every shutdown, even a requested one, as fatal. */
	if (!strncmp(text, "Initiating freeDiameter shutdown", 32))
		level = GBA_DIA_LOG_DEBUG;
	if (dia && level < dia->log_level)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		emit(dia, level, line);
}

/*
 * fd_g_debug_lvl gates freeDiameter's old TRACE_DEBUG(INFO/FULL/...) macros,
 * which compare their old levels (INFO 1, FULL 2, ANNOYING 4) with it: the
 * higher it is, the more they format and hand to the log handler, hot
 * paths included.  0 silences them all; its LOG_* lines still come, and
 * fd_logger filters those.
 */
static int fd_level_for(enum gba_dia_log_level level)
{
	return level == GBA_DIA_LOG_DEBUG ? FD_LOG_DEBUG : 0;
}

const char *gba_dia_transport_name(enum gba_dia_transport t)
{
	return t == GBA_DIA_TCP ? "tcp" : "tls";
}

int gba_dia_transport_parse(const char *s, enum gba_dia_transport *out)
{
	if (s && !strcmp(s, "tls"))
		*out = GBA_DIA_TLS;
	else if (s && !strcmp(s, "tcp"))
		*out = GBA_DIA_TCP;
	else
		return -1;
	return 0;
}

/* ---- Hooks: summaries instead of freeDiameter's message dumps ------------------ */

static void msg_summary(struct msg *msg, uint32_t *code, uint32_t *app, int *request)
{
	struct msg_hdr *hdr = NULL;

	*code = *app = 0;
	*request = 0;
	if (msg && !fd_msg_hdr(msg, &hdr) && hdr) {
		*code = hdr->msg_code;
		*app = hdr->msg_appl;
		*request = !!(hdr->msg_flags & CMD_FLAG_REQUEST);
	}
}

/* Answers that carry keys: wipe them before freeDiameter frees them. */
static void wipe_if_keyed(struct msg *msg, int parse)
{
	uint32_t code, app;
	int request;

	msg_summary(msg, &code, &app, &request);
	if (request || (code != GBA_DIA_CMD_MULTIMEDIA_AUTH && code != GBA_DIA_CMD_BOOTSTRAPPING_INFO))
		return;
	/* A received message that was dropped before it reached the dictionary
	 * has no decoded values yet; decode it so that they can be wiped. */
	if (parse)
		(void)fd_msg_parse_dict(msg, fd_g_config->cnf_dict, NULL);
	avp_wipe_secrets(msg);
}

/* Who a message came from: the peer, or else the message's own source. */
static const char *peer_id(struct peer_hdr *peer, struct msg *msg)
{
	DiamId_t id = NULL;

	if (peer && peer->info.pi_diamid)
		return peer->info.pi_diamid;
	if (msg && !fd_msg_source_get(msg, &id, NULL) && id)
		return id;
	return "-";
}

static void on_hook(enum fd_hook_type type, struct msg *msg, struct peer_hdr *peer, void *other,
		    struct fd_hook_permsgdata *pmd, void *regdata)
{
	const struct gba_dia *dia = the_node;
	uint32_t code, app;
	int request;

	(void)pmd;
	(void)regdata;
	switch (type) {
	case HOOK_MESSAGE_SENT:
		dia_stats_message(the_node, msg, peer, 1);
		wipe_if_keyed(msg, 0);
		break;
	case HOOK_MESSAGE_RECEIVED:
		dia_stats_message(the_node, msg, peer, 0);
		break;
	case HOOK_MESSAGE_DROPPED:
		msg_summary(msg, &code, &app, &request);
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "dropped %s %u (application %u) from %s: %s",
			    request ? "request" : "answer", code, app, peer_id(peer, msg),
			    other ? (const char *)other : "-");
		wipe_if_keyed(msg, 1);
		break;
	case HOOK_MESSAGE_ROUTING_ERROR:
		msg_summary(msg, &code, &app, &request);
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "cannot route command %u (application %u): %s",
			    code, app, other ? (const char *)other : "-");
		break;
	case HOOK_MESSAGE_PARSING_ERROR:
		if (msg) {
			msg_summary(msg, &code, &app, &request);
			gba_dia_log(dia, GBA_DIA_LOG_WARN,
				    "malformed %s %u (application %u) from %s: %s",
				    request ? "request" : "answer", code, app, peer_id(peer, msg),
				    other ? (const char *)other : "-");
			wipe_if_keyed(msg, 0);
		} else {
			gba_dia_log(dia, GBA_DIA_LOG_WARN, "unparsable Diameter data from %s",
				    peer_id(peer, NULL));
		}
		break;
	case HOOK_PEER_CONNECT_FAILED:
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "peer %s: %s", peer_id(peer, NULL),
			    other ? (const char *)other : "connection failed");
		break;
	case HOOK_PEER_CONNECT_SUCCESS:
		/* Before the peer is OPEN: the certificate check of peer_auth.c. */
		dia_peer_opened(the_node, peer);
		gba_dia_log(dia, GBA_DIA_LOG_INFO, "peer %s: connection open%s", peer_id(peer, NULL),
			    dia && dia->transport == GBA_DIA_TLS ? " (TLS)" : "");
		break;
	default:
		/* Registered only so that freeDiameter's default, which dumps
		 * every message, never runs. */
		break;
	}
}

/* ---- Peers ------------------------------------------------------------------ */

/*
 * Whether id (length n) matches an entry of the space-separated list:
 * the same name, or "*.domain" and id ending in ".domain" (with at least
 * one label before it).  Without regard to case, as DNS names.
 */
static int listed(const char *list, const char *id, size_t n)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncasecmp(p, id, n))
			return 1;
		if (len > 2 && p[0] == '*' && p[1] == '.' && n > len - 1 &&
		    !strncasecmp(id + n - (len - 1), p + 1, len - 1))
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

/* Whether the node's policy admits a peer nobody added, by its identity. */
static int admitted(const struct gba_dia *dia, const struct peer_info *info)
{
	if (dia->accept_peers[0])
		return listed(dia->accept_peers, info->pi_diamid, info->pi_diamidlen);
	return dia->accept_unknown_peers;
}

/*
 * Connections from peers nobody added, after their CER and before any
 * answer: the node's policy decides, and over TLS the certificate the peer
 * presented in the handshake must name the identity its CER claims (a
 * listed name alone proves nothing).  A refusal is firm (auth -1).
 */
static int validate_peer(struct peer_info *info, int *auth, int (**cb2)(struct peer_info *))
{
	const struct gba_dia *dia = the_node;

	if (cb2)
		*cb2 = NULL;
	*auth = -1;
	if (!dia)
		return 0;
	if (!admitted(dia, info)) {
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "refusing unknown peer %.*s",
			    (int)info->pi_diamidlen, info->pi_diamid);
		return 0;
	}
	if (dia->transport == GBA_DIA_TCP) {
		info->config.pic_flags.sec |= PI_SEC_NONE;
		*auth = 1;
		gba_dia_log(dia, GBA_DIA_LOG_INFO, "accepting peer %s (plain TCP)", info->pi_diamid);
		return 0;
	}
	if (!info->runtime.pir_cert_list || !dia_peer_info_proven(info)) {
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "refusing peer %.*s: %s",
			    (int)info->pi_diamidlen, info->pi_diamid,
			    info->runtime.pir_cert_list ? "its certificate does not name it"
							: "no TLS certificate");
		return 0;
	}
	*auth = 1;
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "accepting peer %s (TLS, certificate names it)",
		    info->pi_diamid);
	return 0;
}

/* An FQDN-like name: what a Diameter identity or realm may be here, and
 * nothing that could break out of a quoted string in freeDiameter's file. */
static int valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* accept_peers: NULL, or names and "*.names" separated by spaces. */
static int valid_peer_list(const char *list)
{
	char entry[256];
	const char *p = list;

	if (!list)
		return 1;
	if (strlen(list) > GBA_DIA_ACCEPT_PEERS_MAX)
		return 0;
	while (*(p += strspn(p, " "))) {
		size_t len = strcspn(p, " ");
		const char *name = p;
		if (len >= 2 && p[0] == '*' && p[1] == '.') {
			name += 2;
			len -= 2;
		}
		if (len == 0 || len >= sizeof(entry))
			return 0;
		memcpy(entry, name, len);
		entry[len] = '\0';
		if (!valid_name(entry))
			return 0;
		p = name + len;
	}
	return 1;
}

static int valid_path(const char *s)
{
	return s && *s && strlen(s) < 4096 && !strpbrk(s, "\"\n\r");
}

static void free_endpoints(struct fd_list *eps)
{
	while (!FD_IS_LIST_EMPTY(eps)) {
		struct fd_list *li = eps->next;
		fd_list_unlink(li);
		free(li);
	}
}

static struct peer_hdr *find_peer(const char *identity);

/*
 * A peer's state machine thread decides at its start whether the core was
 * already running; if so it delays its first connection by a random 0-5 s.
 * Before gba_dia_start(), wait (briefly) until the thread has looked, so
 * that the first connection is attempted at once.
 */
static void wait_psm_ready(const char *identity)
{
	struct timespec step = { 0, 1000 * 1000 };
	struct peer_hdr *peer = find_peer(identity);

	for (int i = 0; peer && i < 1000 && fd_peer_get_state(peer) == STATE_NEW; i++)
		nanosleep(&step, NULL);
}

gba_err gba_dia_add_peer(struct gba_dia *dia, const struct gba_dia_peer *p)
{
	struct peer_info info;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	gba_err err = GBA_OK;

	if (!dia || !p || !valid_name(p->identity) || !p->address || !*p->address ||
	    (p->realm && !valid_name(p->realm)) || dia->started ||
	    dia->n_conf_peers >= DIA_CONF_PEERS_MAX)
		return GBA_ERR_INVALID_ARG;
	if (getaddrinfo(p->address, NULL, &hints, &ai) || !ai)
		return GBA_ERR_INVALID_ARG;

	memset(&info, 0, sizeof(info));
	fd_list_init(&info.pi_endpoints, NULL);
	info.pi_diamid = (DiamId_t)p->identity;
	info.pi_diamidlen = strlen(p->identity);
	info.config.pic_flags.pro4 = PI_P4_TCP;
	/* PI_SEC_DEFAULT: TLS from the start on pic_port, and freeDiameter
	 * checks that the certificate names the identity (peer_auth.c again). */
	info.config.pic_flags.sec = dia->transport == GBA_DIA_TLS ? PI_SEC_DEFAULT : PI_SEC_NONE;
	info.config.pic_flags.persist = PI_PRST_ALWAYS;
	info.config.pic_realm = (DiamId_t)p->realm;
	info.config.pic_port = p->port ? p->port : DIAMETER_PORT;
	if (fd_ep_add_merge(&info.pi_endpoints, ai->ai_addr, ai->ai_addrlen,
			    EP_FL_CONF | EP_ACCEPTALL) ||
	    fd_peer_add(&info, "gba-diameter", NULL, NULL))
		err = GBA_ERR_INVALID_ARG;
	free_endpoints(&info.pi_endpoints);
	freeaddrinfo(ai);
	if (!err) {
		struct dia_conf_peer *cp = &dia->conf_peers[dia->n_conf_peers++];
		snprintf(cp->identity, sizeof(cp->identity), "%s", p->identity);
		atomic_init(&cp->proven, 0);
		wait_psm_ready(p->identity);
	}
	return err;
}

static struct peer_hdr *find_peer(const char *identity)
{
	struct peer_hdr *peer = NULL;

	if (!identity || fd_peer_getbyid((DiamId_t)identity, strlen(identity), 1, &peer))
		return NULL;
	return peer;
}

int gba_dia_peer_is_open(struct gba_dia *dia, const char *identity)
{
	struct peer_hdr *peer;

	if (!dia || !dia->started)
		return 0;
	peer = find_peer(identity);
	return peer && fd_peer_get_state(peer) == STATE_OPEN;
}

gba_err gba_dia_wait_peer(struct gba_dia *dia, const char *identity, unsigned timeout_ms)
{
	struct timespec step = { 0, 5 * 1000 * 1000 };
	unsigned waited = 0;

	while (!gba_dia_peer_is_open(dia, identity)) {
		if (waited >= timeout_ms)
			return GBA_ERR_UNAVAILABLE;
		nanosleep(&step, NULL);
		waited += 5;
	}
	return GBA_OK;
}

/* ---- Start-up ------------------------------------------------------------- */

static int write_conf(const struct gba_dia *dia, const struct gba_dia_config *cfg,
		      const struct dia_files *f, int ipv6)
{
	FILE *fp;
	int fd = open(f->conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), tls;

	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		return -1;
	}
	fprintf(fp, "Identity = \"%s\";\nRealm = \"%s\";\n", dia->identity, dia->realm);
	/* Over TLS the one port is freeDiameter's SecPort (TLS from the first
	 * octet); no plain listener at all.  Port 0 and SecPort 0: no server
	 * socket. */
	if (dia->transport == GBA_DIA_TLS)
		fprintf(fp, "Port = 0;\nSecPort = %u;\n", (unsigned)cfg->port);
	else
		fprintf(fp, "Port = %u;\nSecPort = 0;\n", (unsigned)cfg->port);
	/* No ListenOn: freeDiameter drops loopback addresses given there (see
	 * add_endpoint). */
	fprintf(fp, "No_SCTP;\nNoRelay;\n%s", ipv6 ? "No_IP;\n" : "No_IPv6;\n");
	fprintf(fp, "TcTimer = %u;\nTwTimer = %u;\nAppServThreads = %u;\n",
		cfg->reconnect_s ? cfg->reconnect_s : 5,
		cfg->watchdog_s >= 6 ? cfg->watchdog_s : 30,
		cfg->threads ? (cfg->threads < 255 ? cfg->threads : 255) : 4);
	/* TLS_CA is needed even for our own self-signed certificate: without it
	 * freeDiameter cannot verify that certificate and refuses to start. */
	tls = dia->transport == GBA_DIA_TLS;
	fprintf(fp, "TLS_Cred = \"%s\", \"%s\";\nTLS_CA = \"%s\";\nTLS_DH_File = \"%s\";\n",
		tls ? cfg->tls_cert : f->cert, tls ? cfg->tls_key : f->key,
		tls ? cfg->tls_ca : f->cert, f->dh);
	return fclose(fp) ? -1 : 0;
}

/*
 * The one address to listen on and to advertise in CER/CEA.  Given as
 * ListenOn, freeDiameter's address filter would silently drop 127.0.0.1
 * and then listen on every address; EP_ACCEPTALL bypasses the filter.
 */
static int add_endpoint(const char *address)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE }, *ai = NULL;
	int ret;

	if (getaddrinfo(address, NULL, &hints, &ai) || !ai)
		return EINVAL;
	ret = fd_ep_add_merge(&fd_g_config->cnf_endpoints, ai->ai_addr, ai->ai_addrlen,
			      EP_FL_CONF | EP_ACCEPTALL);
	freeaddrinfo(ai);
	return ret;
}

static gba_err check_config(const struct gba_dia_config *cfg, int *ipv6)
{
	const char *address = cfg->address ? cfg->address : "127.0.0.1";
	unsigned char buf[sizeof(struct in6_addr)];

	if (!valid_name(cfg->identity) || !valid_name(cfg->realm) ||
	    !valid_peer_list(cfg->accept_peers))
		return GBA_ERR_INVALID_ARG;
	if (cfg->apps & ~(unsigned)(GBA_DIA_ZH | GBA_DIA_ZN | GBA_DIA_CX))
		return GBA_ERR_INVALID_ARG;
	/* TLS: all three files. */
	if (cfg->transport != GBA_DIA_TLS && cfg->transport != GBA_DIA_TCP)
		return GBA_ERR_INVALID_ARG;
	if (cfg->transport == GBA_DIA_TLS &&
	    !(valid_path(cfg->tls_cert) && valid_path(cfg->tls_key) && valid_path(cfg->tls_ca)))
		return GBA_ERR_INVALID_ARG;
	*ipv6 = 0;
	if (inet_pton(AF_INET, address, buf) == 1)
		return GBA_OK;
	if (inet_pton(AF_INET6, address, buf) == 1) {
		*ipv6 = 1;
		return GBA_OK;
	}
	return GBA_ERR_INVALID_ARG;
}

static int advertise_apps(struct gba_dia *dia)
{
	if ((dia->apps & GBA_DIA_ZH) &&
	    fd_disp_app_support(dia->dict.app_zh, dia->dict.vendor_3gpp, 1, 0))
		return -1;
	if ((dia->apps & GBA_DIA_ZN) &&
	    fd_disp_app_support(dia->dict.app_zn, dia->dict.vendor_3gpp, 1, 0))
		return -1;
	/* Cx: a BSF whose HSS offers Cx only; freeDiameter routes a request
	 * only to a peer whose CER/CEA named its application. */
	if ((dia->apps & GBA_DIA_CX) &&
	    fd_disp_app_support(dia->dict.app_cx, dia->dict.vendor_3gpp, 1, 0))
		return -1;
	return 0;
}

/* Everything after fd_core_initialize(): configuration, dictionary, hooks. */
static gba_err configure(struct gba_dia *dia, const struct gba_dia_config *cfg, int ipv6)
{
	const char *address = cfg->address ? cfg->address : "127.0.0.1";
	struct dia_files *f = &dia->files;
	int ret;

	if (dia_files_prepare(f, dia->identity, dia->transport == GBA_DIA_TCP)) {
		gba_dia_log(dia, GBA_DIA_LOG_ERROR, "cannot write freeDiameter's start-up files");
		return GBA_ERR_UNAVAILABLE;
	}
	ret = write_conf(dia, cfg, f, ipv6);
	if (!ret)
		ret = fd_core_parseconf(f->conf);
	if (!ret)
		ret = add_endpoint(address);
	dia_files_remove(f);   /* read now: the ephemeral key leaves the disk */
	if (ret) {
		gba_dia_log(dia, GBA_DIA_LOG_ERROR, "freeDiameter refused its configuration");
		return GBA_ERR_UNAVAILABLE;
	}
	if (dia_dict_load(&dia->dict) || advertise_apps(dia)) {
		gba_dia_log(dia, GBA_DIA_LOG_ERROR, "cannot load the Zh/Zn dictionary");
		return GBA_ERR_UNAVAILABLE;
	}
	if (fd_hook_register((1u << (HOOK_LAST + 1)) - 1, on_hook, NULL, NULL, &dia->hook) ||
	    fd_peer_validate_register(validate_peer) || dia_peer_auth_register(dia)) {
		gba_dia_log(dia, GBA_DIA_LOG_ERROR, "cannot register with freeDiameter");
		return GBA_ERR_UNAVAILABLE;
	}
	return GBA_OK;
}

/*
 * freeDiameter writes TLS records with a plain send(): a peer that hangs up
 * while a record (its close_notify at the end, say) is going out raises
 * SIGPIPE, whose default kills the process (zn-probe did, at exit, in about
 * one run in six).  A process that left SIGPIPE at its default gets it
 * ignored; one that handles it keeps its handler.
 */
static void ignore_sigpipe(void)
{
	struct sigaction old, ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (!sigaction(SIGPIPE, NULL, &old) && old.sa_handler == SIG_DFL)
		(void)sigaction(SIGPIPE, &ign, NULL);
}

gba_err gba_dia_open(struct gba_dia **out, const struct gba_dia_config *cfg)
{
	struct gba_dia *dia;
	int ipv6;
	gba_err err;

	if (!out || !cfg)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	err = check_config(cfg, &ipv6);
	if (err)
		return err;
	if (fd_initialised)
		return GBA_ERR_EXISTS;
	dia = calloc(1, sizeof(*dia));
	if (!dia)
		return GBA_ERR_NO_MEMORY;
	snprintf(dia->identity, sizeof(dia->identity), "%s", cfg->identity);
	snprintf(dia->realm, sizeof(dia->realm), "%s", cfg->realm);
	dia->apps = cfg->apps ? cfg->apps : GBA_DIA_ZH;
	dia->accept_unknown_peers = cfg->accept_unknown_peers;
	if (cfg->accept_peers)
		snprintf(dia->accept_peers, sizeof(dia->accept_peers), "%s", cfg->accept_peers);
	dia->transport = cfg->transport;
	dia->listen_port = cfg->port;
	dia->log = cfg->log;
	dia->log_arg = cfg->log_arg;
	dia->log_level = cfg->log_level;
	dia_stats_init(&dia->stats);

	ignore_sigpipe();
	the_node = dia;
	fd_initialised = 1;
	fd_log_handler_register(fd_logger);
	fd_g_debug_lvl = fd_level_for(cfg->log_level);
	if (fd_core_initialize()) {
		the_node = NULL;
		dia_stats_destroy(&dia->stats);
		free(dia);
		return GBA_ERR_UNAVAILABLE;
	}
	err = configure(dia, cfg, ipv6);
	if (err) {
		dia_core_stop();
		the_node = NULL;
		dia_stats_destroy(&dia->stats);
		free(dia);
		return err;
	}
	*out = dia;
	return GBA_OK;
}

gba_err gba_dia_start(struct gba_dia *dia)
{
	if (!dia || dia->started)
		return GBA_ERR_INVALID_ARG;
	if (fd_core_start()) {
		gba_dia_log(dia, GBA_DIA_LOG_ERROR, "freeDiameter did not start (port in use?)");
		return GBA_ERR_UNAVAILABLE;
	}
	dia->started = 1;
	if (dia->listen_port && dia_wait_listening(dia->listen_port, 2000))
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "port %u does not listen 2 s after the start",
			    (unsigned)dia->listen_port);
	return GBA_OK;
}

void gba_dia_close(struct gba_dia *dia)
{
	if (!dia)
		return;
	dia_core_stop();   /* shutdown.c: not fd_core_shutdown() alone */
	/* No freeDiameter thread runs any more: the hooks and the validator,
	 * still registered in freeDiameter's tables, find no node. */
	the_node = NULL;
	dia_stats_destroy(&dia->stats);
	free(dia);
}

const char *gba_dia_identity(const struct gba_dia *dia)
{
	return dia ? dia->identity : NULL;
}

const char *gba_dia_realm(const struct gba_dia *dia)
{
	return dia ? dia->realm : NULL;
}
