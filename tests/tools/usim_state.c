/*
 * usim_state.c - load and save a soft USIM's SQN memory (usim_state.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usim_state.h"

#define MAGIC "gba-usim-sqn 1"
#define DELTA_DEFAULT (UINT64_C(1) << 28)

/* "name value" with value a decimal uint64 no larger than max. */
static int read_value(FILE *f, const char *name, uint64_t max, uint64_t *out)
{
	char line[128], word[32], extra;
	uint64_t v;

	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "%31s %" SCNu64 " %c", word, &v, &extra) != 2 ||
	    strcmp(word, name) || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The largest SEQ that still fits a 48-bit SQN with this IND length. */
static uint64_t seq_max(const struct gba_usim_sqn *st)
{
	return GBA_SQN_MAX >> st->ind_bits;
}

static int read_slot(FILE *f, unsigned i, uint64_t max, uint64_t *out)
{
	char line[128], extra;
	unsigned idx;
	uint64_t v;

	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "seq %u %" SCNu64 " %c", &idx, &v, &extra) != 2 || idx != i ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse(FILE *f, struct gba_usim_sqn *st)
{
	char line[64];
	uint64_t ind_bits, delta;

	if (!fgets(line, sizeof(line), f) || strcmp(line, MAGIC "\n") ||
	    read_value(f, "ind_bits", 5, &ind_bits) ||
	    read_value(f, "delta", GBA_SQN_MAX, &delta))
		return -1;
	gba_usim_sqn_init(st, (unsigned)ind_bits, delta);
	for (unsigned i = 0; i < GBA_IND_SLOTS_MAX; i++)
		if (read_slot(f, i, seq_max(st), &st->seq_ms[i]))
			return -1;
	return fgets(line, sizeof(line), f) ? -1 : 0;   /* nothing after the slots */
}

gba_err usim_state_load(const char *path, struct gba_usim_sqn *st, int *created)
{
	FILE *f = fopen(path, "re");

	*created = 0;
	if (!f) {
		if (errno != ENOENT)
			return GBA_ERR_STORE;
		gba_usim_sqn_init(st, 5, DELTA_DEFAULT);
		*created = 1;
		return GBA_OK;
	}
	int bad = parse(f, st);
	int io = ferror(f);
	fclose(f);
	if (io)
		return GBA_ERR_STORE;
	return bad ? GBA_ERR_PARSE : GBA_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int format(char *buf, size_t size, const struct gba_usim_sqn *st)
{
	int n = snprintf(buf, size, MAGIC "\nind_bits %u\ndelta %" PRIu64 "\n", st->ind_bits,
			 st->delta);
	for (unsigned i = 0; i < GBA_IND_SLOTS_MAX && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, "seq %u %" PRIu64 "\n", i, st->seq_ms[i]);
	return n > 0 && (size_t)n < size ? n : -1;
}

gba_err usim_state_save(const char *path, const struct gba_usim_sqn *st)
{
	char buf[2048], tmp[4096];
	int len = format(buf, sizeof(buf), st);

	if (len < 0 || snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return GBA_ERR_INVALID_ARG;
	int fd = mkostemp(tmp, O_CLOEXEC);   /* mode 0600 */
	if (fd < 0)
		return GBA_ERR_STORE;
	if (fchmod(fd, 0600) || write_all(fd, buf, (size_t)len) || fsync(fd)) {
		close(fd);
		unlink(tmp);
		return GBA_ERR_STORE;
	}
	if (close(fd) || rename(tmp, path)) {
		unlink(tmp);
		return GBA_ERR_STORE;
	}
	return GBA_OK;
}

gba_err usim_state_advance(struct gba_usim_sqn *st, uint64_t n)
{
	uint64_t top = 0;
	unsigned slots = 1u << st->ind_bits;

	for (unsigned i = 0; i < slots; i++)
		if (st->seq_ms[i] > top)
			top = st->seq_ms[i];
	if (n > seq_max(st) || top > seq_max(st) - n)
		return GBA_ERR_SQN_RANGE;
	for (unsigned i = 0; i < slots; i++)
		st->seq_ms[i] = top + n;
	return GBA_OK;
}
