/*
 * layout.h — the plan layer's layout check (layout.c), shared by every
 * plan and both precisions: a table of leading-dimension members with the
 * row length and number of rows each must cover.  A cell's size table is
 * such a table (cell.h).
 */
#ifndef BPTT_PLAN_LAYOUT_H
#define BPTT_PLAN_LAYOUT_H

#include "internal.h"

/* One member of a layout struct: its name ("ldx"), its byte offset in the
 * struct, the row length it must cover and that length's name ("din"), and
 * the most rows a plan call addresses through it. */
typedef struct bptt__ld_field {
    const char *name;
    size_t offset;
    size_t cols;
    const char *cols_name;
    size_t rows;
} bptt__ld_field;

/* Resolve the layout struct `layout` (NULL: all dense) of n members
 * described by f into `out` (a struct of the same type): a member 0
 * becomes its row length; a member smaller than its row length is
 * BPTT_ELD, one above INT_MAX or whose rows x ld extent of elem-byte
 * elements is not addressable BPTT_EOVERFLOW, the detail naming the member
 * ("layout->ldx").  out is written only on success. */
BPTT_HIDDEN bptt_status bptt__layout_resolve(const char *fn,
                                             const void *layout, void *out,
                                             size_t size,
                                             const bptt__ld_field *f, size_t n,
                                             size_t elem);

/* A plan's Tmax and Bmax (> 0: BPTT_ESIZE) and its algorithm code (below
 * nalgo: BPTT_EALGO), checked when it is made. */
BPTT_HIDDEN bptt_status bptt__check_capacity(const char *fn, size_t Tmax,
                                             size_t Bmax, unsigned algo,
                                             unsigned nalgo);

/* The member of a resolved layout at a field's offset. */
static inline size_t bptt__ld(const void *layout, size_t offset)
{
    return *(const size_t *)(const void *)((const char *)layout + offset);
}

#endif /* BPTT_PLAN_LAYOUT_H */
