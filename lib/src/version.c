/* version.c - gba_version(): the version this libgba was built as. */
#include <gba/version.h>

const char *gba_version(void)
{
	return GBA_VERSION;
}
