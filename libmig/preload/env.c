/*
 * env.c: the environment of a placed program is byte for byte the one it
 * had at home. The host daemon starts it with the shim in LD_PRELOAD and
 * one marker: __MIG_LD_PRELOAD=<the user's own LD_PRELOAD>, which goes
 * back in LD_PRELOAD's place, or __MIG_LD_PRELOAD_UNSET=1 when there was
 * none. Every "__MIG_" variable is the shim's and is removed.
 */
#include <string.h>

#include "preload.h"

extern char **environ;

#define SAVED "__MIG_LD_PRELOAD="
#define UNSET "__MIG_LD_PRELOAD_UNSET="
#define OURS "__MIG_"

void
mig__env_restore(void)
{
	char **e, **out, **end, **preload = NULL, *saved = NULL;
	int unset = 0;

	if (environ == NULL)
		return;
	for (e = environ; *e != NULL; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && preload == NULL)
			preload = e;
		else if (strncmp(*e, SAVED, sizeof(SAVED) - 1) == 0)
			saved = *e;
		else if (strncmp(*e, UNSET, sizeof(UNSET) - 1) == 0)
			unset = 1;
	}
	if (saved == NULL && !unset)
		return;
	/* "__MIG_LD_PRELOAD=x" ends with "LD_PRELOAD=x": reuse it. */
	if (preload != NULL)
		*preload = saved != NULL ? saved + sizeof(OURS) - 1 : NULL;
	end = preload != NULL && *preload == NULL ? preload + 1 : environ;
	while (*end != NULL)
		end++;
	for (e = out = environ; e < end; e++)
		if (*e != NULL && strncmp(*e, OURS, sizeof(OURS) - 1) != 0)
			*out++ = *e;
	*out = NULL;
}
