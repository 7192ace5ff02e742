/*
 * peer_auth.c - who a peer is over TLS: the certificate it presented
 * (verified against the node's CA by freeDiameter during the handshake)
 * must name the Diameter identity it claims in its CER or CEA, by its
 * subject CN or one of its dNSName subjectAltNames, exactly (no
 * wildcards, case ignored as in DNS).
 *
 * freeDiameter 1.2.1 checks the name itself only where it knows it before
 * the handshake: on connections it opens to a configured peer.  Peers that
 * connect to us are named later, by their CER, and it leaves them to the
 * validation callback (node.c) for peers it does not know - or checks
 * nothing when the CER claims the identity of a peer we configured (the
 * BSF's HSS, for a client of its Zn port).  So the node checks every
 * connection once more when it opens (HOOK_PEER_CONNECT_SUCCESS, before the
 * peer is OPEN), keeps the outcome for its configured peers, routes no
 * request to one that failed and answers none of its requests.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include <gnutls/x509.h>

#include "internal.h"

/* 1 when name (n octets, no NUL inside) is exactly id (len octets). */
static int same_name(const char *name, size_t n, const char *id, size_t len)
{
	return n == len && memchr(name, '\0', n) == NULL && !strncasecmp(name, id, len);
}

static int san_names(gnutls_x509_crt_t crt, const char *id, size_t len)
{
	char buf[512];

	for (unsigned i = 0;; i++) {
		size_t n = sizeof(buf);
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &n, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;   /* longer than any identity */
		if (type < 0)
			return 0;
		if (type == GNUTLS_SAN_DNSNAME && same_name(buf, n, id, len))
			return 1;
	}
}

static int cn_names(gnutls_x509_crt_t crt, const char *id, size_t len)
{
	char buf[512];

	for (unsigned i = 0;; i++) {
		size_t n = sizeof(buf);
		int ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, i, 0,
							buf, &n);

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (ret < 0)
			return 0;
		if (same_name(buf, n, id, len))
			return 1;
	}
}

int dia_cert_names(const gnutls_datum_t *certs, unsigned count, const char *id, size_t len)
{
	gnutls_x509_crt_t crt;
	int ok = 0;

	/* certs[0] is the peer's own certificate; the rest is its chain. */
	if (!certs || !count || !id || !len || gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0)
		ok = san_names(crt, id, len) || cn_names(crt, id, len);
	gnutls_x509_crt_deinit(crt);
	return ok;
}

int dia_peer_info_proven(const struct peer_info *info)
{
	return dia_cert_names(info->runtime.pir_cert_list, info->runtime.pir_cert_list_size,
			      info->pi_diamid, info->pi_diamidlen);
}

/* ---- Configured peers ------------------------------------------------------- */

static struct dia_conf_peer *conf_peer(struct gba_dia *dia, const char *id, size_t len)
{
	for (unsigned i = 0; i < dia->n_conf_peers; i++)
		if (same_name(dia->conf_peers[i].identity, strlen(dia->conf_peers[i].identity),
			      id, len))
			return &dia->conf_peers[i];
	return NULL;
}

/*
 * On connections we open, freeDiameter clears the certificate list when it
 * reads the CEA (and does not read it again), but it has checked the name
 * itself in the handshake (gnutls_x509_crt_check_hostname against the
 * identity we configured).  A TLS connection without a list can only be
 * such a one: on connections to us the list is read again after the CER,
 * and a connection without a certificate goes no further.
 */
static int connection_proven(struct peer_hdr *peer)
{
	char info[128] = "";

	if (peer->info.runtime.pir_cert_list)
		return dia_peer_info_proven(&peer->info);
	return !fd_peer_cnx_proto_info(peer, info, sizeof(info)) && strstr(info, ",TLS");
}

void dia_peer_opened(struct gba_dia *dia, struct peer_hdr *peer)
{
	struct dia_conf_peer *p;
	int ok;

	if (!dia || !peer || dia->transport != GBA_DIA_TLS)
		return;
	ok = connection_proven(peer);
	p = conf_peer(dia, peer->info.pi_diamid, peer->info.pi_diamidlen);
	if (p)
		atomic_store(&p->proven, ok);
	if (!ok)
		gba_dia_log(dia, GBA_DIA_LOG_ERROR,
			    "peer %s: its certificate does not name %s: nothing is sent to it "
			    "or answered", peer->info.pi_diamid, peer->info.pi_diamid);
}

int dia_peer_trusted(struct gba_dia *dia, const char *id, size_t len)
{
	struct dia_conf_peer *p;

	if (dia->transport != GBA_DIA_TLS)
		return 1;
	/* Peers we did not configure were checked before their CEA (node.c). */
	p = conf_peer(dia, id, len);
	return !p || atomic_load(&p->proven);
}

/* Routing: a configured peer whose certificate did not name it gets nothing. */
static int route_out(void *arg, struct msg **pmsg, struct fd_list *candidates)
{
	struct gba_dia *dia = arg;

	(void)pmsg;
	for (struct fd_list *li = candidates->next; li != candidates; li = li->next) {
		struct rtd_candidate *c = (struct rtd_candidate *)li;
		if (!dia_peer_trusted(dia, c->diamid, c->diamidlen))
			c->score = FD_SCORE_NO_DELIVERY;
	}
	return 0;
}

int dia_peer_auth_register(struct gba_dia *dia)
{
	if (dia->transport != GBA_DIA_TLS)
		return 0;
	return fd_rt_out_register(route_out, dia, 0, &dia->rt_out);
}
