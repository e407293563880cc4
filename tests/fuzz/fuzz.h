/*
 * fuzz.h: what the fuzz targets share. Each defines
 * LLVMFuzzerTestOneInput; libFuzzer drives it under MIG_FUZZ, standalone.c
 * otherwise. A broken invariant aborts, so either driver reports it.
 */
#ifndef MIG_FUZZ_H
#define MIG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                          \
	do {                                                              \
		if (!(x)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
			    __FILE__, __LINE__, #x);                      \
			abort();                                          \
		}                                                         \
	} while (0)

#endif
