/*
 * arena.h — the one block behind every workspace, state and plan: a size
 * table becomes offsets, the offsets one block (allocated, or the caller's
 * buffer), the block a header slot for the object's struct and its named
 * arrays, each 64-byte aligned (arena.c).  Precision-independent.
 *
 * Layout: up to 63 bytes to align a caller's buffer, the struct in the next
 * BPTT_ARENA_SLOT bytes (a multiple of 64, so the arrays stay aligned), the
 * arrays after it; BPTT_ARENA_HEADER bytes of the total are the first two
 * and spare room.
 */
#ifndef BPTT_ARENA_H
#define BPTT_ARENA_H

#include "internal.h"

#define BPTT_ARENA_HEADER 256
#define BPTT_ARENA_SLOT 192
#define BPTT_ARENA_MAX 12

typedef struct bptt__arena {
    size_t n;                        /* arrays */
    size_t off[BPTT_ARENA_MAX];      /* from the end of the struct slot */
    size_t total;                    /* bytes of the block, header included */
} bptt__arena;

/* The offsets of n arrays of bytes[i] bytes, each rounded up to 64, and
 * the total.  *ok is cleared when a sum overflows (sticky, as bptt__add). */
BPTT_HIDDEN void bptt__arena_layout(bptt__arena *a, size_t n,
                                    const size_t bytes[], int *ok);

/* The block of an alloc: a->total bytes, 64-aligned; *base is its start,
 * where the struct goes.  BPTT_ENOMEM (detail naming fn) on failure. */
BPTT_HIDDEN bptt_status bptt__arena_alloc(const char *fn,
                                          const bptt__arena *a,
                                          unsigned char **base);

/* The block of an init, in the caller's buffer buf of bytes bytes (any
 * alignment): BPTT_ENULL if buf is NULL, BPTT_EBUFFER if bytes < total;
 * *base is buf rounded up to 64. */
BPTT_HIDDEN bptt_status bptt__arena_init(const char *fn,
                                         const bptt__arena *a, void *buf,
                                         size_t bytes, unsigned char **base);

/* Array i of a block whose struct slot starts at base. */
static inline void *bptt__arena_at(unsigned char *base, const bptt__arena *a,
                                   size_t i)
{
    return base + BPTT_ARENA_SLOT + a->off[i];
}

#endif /* BPTT_ARENA_H */
