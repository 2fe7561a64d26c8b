/*
 * train/optim.h — the optimizer's descriptor and the header of its state
 * (optim_desc.c, optim.c); io.c reads the header to match a saved state
 * with the caller's.  Internal.
 */
#ifndef BPTT_TRAIN_OPTIM_H
#define BPTT_TRAIN_OPTIM_H

#include <stdint.h>

#include "internal.h"

struct bptt_optim {
    bptt_optim_config cfg;
    size_t n;
};

/* The first 64 bytes of a state: "bptt-opt" as a magic, then the rest.
 * Stored in the machine's byte order (a checkpoint records it). */
#define BPTT_OPTIM_MAGIC UINT64_C(0x74706f2d74747062) /* "bptt-opt" (LE) */
#define BPTT_OPTIM_HEADER 64

typedef struct bptt__optim_header {
    uint64_t magic;
    uint64_t n;     /* parameters */
    uint64_t steps; /* steps taken */
    uint32_t kind;  /* bptt_optim_kind */
    uint32_t elem;  /* sizeof(R) */
    uint32_t arrays; /* moment arrays of n elements after the header */
    uint32_t pad;
} bptt__optim_header;

/* Moment arrays the state of opt keeps. */
BPTT_HIDDEN uint32_t bptt__optim_arrays(const bptt_optim *opt);

/* Read a state's header (memcpy: any alignment); 0 if the magic is not
 * there. */
BPTT_HIDDEN int bptt__optim_header_read(const void *state,
                                        bptt__optim_header *h);

#endif /* BPTT_TRAIN_OPTIM_H */
