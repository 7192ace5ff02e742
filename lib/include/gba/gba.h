/*
 * gba/gba.h - everything libgba offers, in one include.
 *
 * libgba implements 3GPP TS 33.220 (Generic Bootstrapping Architecture)
 * building blocks with no I/O and no global state:
 *   gba/milenage.h, gba/tuak.h - the AKA algorithm sets
 *   gba/aka.h                  - vectors, resync, USIM side, SQN (TS 33.102)
 *   gba/kdf.h                  - Annex B KDF, Ks_NAF, NAF_Id, B-TID, TMPI
 *   gba/digest.h               - HTTP Digest AKAv1/AKAv2 (RFC 3310/4169)
 *   gba/ubxml.h                - the BootstrappingInfo document
 *   gba/kcv.h                  - key check values (fingerprints of keys)
 *   gba/util.h, gba/error.h    - wiping, constant-time compare, encodings
 *   gba/version.h              - GBA_VERSION, gba_version()
 */
#ifndef GBA_GBA_H
#define GBA_GBA_H

#include <gba/error.h>
#include <gba/util.h>
#include <gba/milenage.h>
#include <gba/tuak.h>
#include <gba/aka.h>
#include <gba/kdf.h>
#include <gba/digest.h>
#include <gba/ubxml.h>
#include <gba/kcv.h>
#include <gba/version.h>

#endif /* GBA_GBA_H */
