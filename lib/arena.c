/*
 * arena.c — a size table to one block of named arrays (arena.h).
 */
#include <stdlib.h>

#include "arena.h"

void bptt__arena_layout(bptt__arena *a, size_t n, const size_t bytes[],
                        int *ok)
{
    size_t total = 0;
    a->n = n;
    for (size_t i = 0; i < n; i++) {
        a->off[i] = total;
        total = bptt__add(total, bptt__up64(bytes[i], ok), ok);
    }
    a->total = bptt__add(total, BPTT_ARENA_HEADER, ok);
}

bptt_status bptt__arena_alloc(const char *fn, const bptt__arena *a,
                              unsigned char **base)
{
    void *buf = aligned_alloc(64, a->total); /* total is a multiple of 64 */
    if (!buf)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", a->total);
    *base = buf;
    return BPTT_OK;
}

bptt_status bptt__arena_init(const char *fn, const bptt__arena *a, void *buf,
                             size_t bytes, unsigned char **base)
{
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    if (bytes < a->total)
        return bptt__fail(BPTT_EBUFFER, fn, "bytes (%zu) < required (%zu)",
                          bytes, a->total);
    *base = (unsigned char *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    return BPTT_OK;
}
