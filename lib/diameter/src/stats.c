/*
 * stats.c - counts of the messages on the node's peer connections, by
 * peer, direction, command and result, and the peers' state, written as
 * Prometheus families (gba/diameter_metrics.h).
 *
 * node.c's hook counts every message freeDiameter sends or receives on a
 * peer connection, the base protocol's included: that is where the node
 * sees them all, its roles' requests and answers (zh_*.c, zn_*.c) and
 * freeDiameter's own CER, DWR and DPR.  A small table under a mutex holds
 * the series: there are few (a handful of peers, ten commands, a few
 * results), and the hook already runs at freeDiameter's message rate.
 * The table lives in struct gba_dia, not in a static, because gba-naf
 * writes its page through its own static copy of this file while the
 * node (and the hook) belong to libgba-naf's copy.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gba_prom.h"
#include "internal.h"
#include <gba/diameter_metrics.h>

#define CMD_CE 257   /* Capabilities-Exchange, RFC 6733 */
#define CMD_DW 280   /* Device-Watchdog */
#define CMD_DP 282   /* Disconnect-Peer */

void dia_stats_init(struct dia_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->mtx, NULL);
}

void dia_stats_destroy(struct dia_stats *st)
{
	pthread_mutex_destroy(&st->mtx);
}

/* The commands with a name of their own; any other counts as "other" (0). */
static uint32_t known_command(uint32_t code)
{
	switch (code) {
	case CMD_CE:
	case CMD_DW:
	case CMD_DP:
	case GBA_DIA_CMD_MULTIMEDIA_AUTH:
	case GBA_DIA_CMD_BOOTSTRAPPING_INFO:
		return code;
	default:
		return 0;
	}
}

static const char *command_name(uint32_t code, int request)
{
	switch (code) {
	case CMD_CE: return request ? "CER" : "CEA";
	case CMD_DW: return request ? "DWR" : "DWA";
	case CMD_DP: return request ? "DPR" : "DPA";
	case GBA_DIA_CMD_MULTIMEDIA_AUTH: return request ? "MAR" : "MAA";
	case GBA_DIA_CMD_BOOTSTRAPPING_INFO: return request ? "BIR" : "BIA";
	default: return "other";
	}
}

/* The peer's slot, added when new; -1 when the table is full.  Locked. */
static int peer_slot(struct dia_stats *st, const char *id, size_t len)
{
	if (len >= sizeof(st->peers[0]))
		len = sizeof(st->peers[0]) - 1;
	for (unsigned i = 0; i < st->n_peers; i++)
		if (strlen(st->peers[i]) == len && !strncasecmp(st->peers[i], id, len))
			return (int)i;
	if (st->n_peers >= DIA_STATS_PEERS)
		return -1;
	memcpy(st->peers[st->n_peers], id, len);
	st->peers[st->n_peers][len] = '\0';
	return (int)st->n_peers++;
}

/* Count one message of that key.  Locked. */
static void count(struct dia_stats *st, const struct dia_series *key)
{
	for (unsigned i = 0; i < st->n_series; i++) {
		struct dia_series *s = &st->series[i];
		if (s->peer == key->peer && s->out == key->out && s->request == key->request &&
		    s->command == key->command && s->result == key->result) {
			s->n++;
			return;
		}
	}
	if (st->n_series >= DIA_STATS_SERIES) {
		st->untracked++;
		return;
	}
	st->series[st->n_series] = *key;
	st->series[st->n_series++].n = 1;
}

void dia_stats_message(struct gba_dia *dia, struct msg *msg, struct peer_hdr *peer, int out)
{
	struct dia_series key = { .out = (uint8_t)!!out };
	struct msg_hdr *hdr = NULL;
	struct gba_dia_result r;
	int slot;

	if (!dia || !msg || !peer || !peer->info.pi_diamid || fd_msg_hdr(msg, &hdr) || !hdr)
		return;
	key.request = !!(hdr->msg_flags & CMD_FLAG_REQUEST);
	key.command = known_command(hdr->msg_code);
	if (!key.request) {
		/* A received answer is not decoded yet (freeDiameter does it
		 * later, on the same message): decode it to read its result. */
		if (!out)
			(void)fd_msg_parse_dict(msg, fd_g_config->cnf_dict, NULL);
		dia_result_read(msg, &r);
		key.result = gba_dia_result_value(&r);
	}
	pthread_mutex_lock(&dia->stats.mtx);
	slot = peer_slot(&dia->stats, peer->info.pi_diamid, peer->info.pi_diamidlen);
	if (slot < 0) {
		dia->stats.untracked++;
	} else {
		key.peer = (uint16_t)slot;
		count(&dia->stats, &key);
	}
	pthread_mutex_unlock(&dia->stats.mtx);
}

/* ---- The page ------------------------------------------------------------------ */

struct peer_seen {
	char id[256];
	int up;
};

/* Every peer freeDiameter knows and whether it is open, into ps (at most max). */
static unsigned peer_states(struct peer_seen *ps, unsigned max)
{
	unsigned n = 0;

	if (pthread_rwlock_rdlock(&fd_g_peers_rw))
		return 0;
	for (struct fd_list *li = fd_g_peers.next; li != &fd_g_peers && n < max; li = li->next) {
		struct peer_hdr *peer = (struct peer_hdr *)li;
		int state = fd_peer_get_state(peer);

		if (!peer->info.pi_diamid)
			continue;
		snprintf(ps[n].id, sizeof(ps[n].id), "%.*s", (int)peer->info.pi_diamidlen,
			 peer->info.pi_diamid);
		/* OPEN_NEW: the CEA went out, no message came yet; in service. */
		ps[n++].up = state == STATE_OPEN || state == STATE_OPEN_NEW;
	}
	pthread_rwlock_unlock(&fd_g_peers_rw);
	return n;
}

static void write_peers(struct gba_prom *p)
{
	struct peer_seen ps[DIA_STATS_PEERS];
	unsigned n = peer_states(ps, DIA_STATS_PEERS);

	gba_prom_family(p, "gba_diameter_peer_up", "gauge",
			"1 while the Diameter connection to the peer is open, else 0.");
	for (unsigned i = 0; i < n; i++)
		gba_prom_sample(p, "gba_diameter_peer_up", GBA_PROM_LABELS({ "peer", ps[i].id }),
				(uint64_t)ps[i].up);
}

/* The samples of requests (answers 0) or answers (1).  Locked. */
static void write_series(struct gba_prom *p, const struct dia_stats *st, int answers)
{
	const char *name = answers ? "gba_diameter_answers_total" : "gba_diameter_requests_total";
	char result[16];

	for (unsigned i = 0; i < st->n_series; i++) {
		const struct dia_series *s = &st->series[i];
		const char *peer = st->peers[s->peer];
		const char *dir = s->out ? "out" : "in";
		const char *cmd = command_name(s->command, s->request);

		if (s->request == answers)
			continue;
		if (!answers) {
			gba_prom_sample(p, name, GBA_PROM_LABELS({ "peer", peer }, { "direction", dir },
								 { "command", cmd }), s->n);
			continue;
		}
		if (s->result)
			snprintf(result, sizeof(result), "%u", (unsigned)s->result);
		else
			snprintf(result, sizeof(result), "none");
		gba_prom_sample(p, name, GBA_PROM_LABELS({ "peer", peer }, { "direction", dir },
							 { "command", cmd }, { "result", result }),
				s->n);
	}
}

/* The table is held locked while it is written: a few dozen lines into a
 * buffer, no I/O, so the hook waits microseconds at most. */
void gba_dia_metrics_write(struct gba_dia *dia, struct gba_prom *p)
{
	struct dia_stats *st;

	if (!dia)
		return;
	st = &dia->stats;
	write_peers(p);
	pthread_mutex_lock(&st->mtx);
	gba_prom_family(p, "gba_diameter_requests_total", "counter",
			"Diameter requests on the peer connections, by peer, direction and command.");
	write_series(p, st, 0);
	gba_prom_family(p, "gba_diameter_answers_total", "counter",
			"Diameter answers on the peer connections, by peer, direction, command "
			"and result code.");
	write_series(p, st, 1);
	gba_prom_counter(p, "gba_diameter_messages_untracked_total",
			 "Diameter messages not counted by peer: the tables were full.",
			 st->untracked);
	pthread_mutex_unlock(&st->mtx);
}
