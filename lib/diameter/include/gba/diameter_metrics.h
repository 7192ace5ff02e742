/*
 * gba/diameter_metrics.h - the Diameter node's state and traffic as
 * Prometheus families, for the /metrics page of every daemon that has a
 * node (gba-bsf, gba-naf, gba-hss-sim).  Internal: not installed.
 *
 *   gba_diameter_peer_up{peer}                       1 while the connection to
 *       the peer is open, else 0; every peer freeDiameter knows: the
 *       configured ones always, peers that connected while it keeps them
 *   gba_diameter_requests_total{peer,direction,command}
 *   gba_diameter_answers_total{peer,direction,command,result}
 *       messages on the peer connections: direction "in" or "out",
 *       command "CER", "CEA", "DWR", "DWA", "DPR", "DPA", "MAR", "MAA",
 *       "BIR", "BIA" or "other"; result the answer's Result-Code or else
 *       its Experimental-Result-Code in decimal ("2001", "5401"), "none"
 *       for an answer with neither.  The CER/CEA of an incoming
 *       connection, before freeDiameter knows which peer it is, are not
 *       counted.
 *   gba_diameter_messages_untracked_total
 *       messages not counted above because the table of peers (64) or of
 *       series (512) was full
 */
#ifndef GBA_DIAMETER_METRICS_H
#define GBA_DIAMETER_METRICS_H

#include <gba/diameter.h>

struct gba_prom;

/* Append the families above for dia; nothing for NULL. */
void gba_dia_metrics_write(struct gba_dia *dia, struct gba_prom *p);

#endif /* GBA_DIAMETER_METRICS_H */
