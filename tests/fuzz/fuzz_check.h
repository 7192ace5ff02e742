/* fuzz_check.h - what every libFuzzer target here shares: libFuzzer's two
 * entry points and check(), which aborts with the property that failed so
 * that libFuzzer records the input. */
#ifndef GBA_FUZZ_CHECK_H
#define GBA_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
	abort();
}
#define check(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

#endif /* GBA_FUZZ_CHECK_H */
