/*
 * diag/finite.h — the scan behind every opt-in non-finite check (finite.c),
 * for the cells and heads that scan arrays of their own.
 * Precision-dependent.
 */
#ifndef BPTT_DIAG_FINITE_H
#define BPTT_DIAG_FINITE_H

#include "internal.h"
#include "real.h"

/* BPTT_ENONFINITE with the detail "fn: name[i][j] is NaN" (or ±Inf) at the
 * first NaN or ±Inf of the rows x cols block a (ld), in row order;
 * BPTT_OK when there is none or a is NULL.  A row is tested branch-free
 * first, so that the common, finite case vectorises. */
BPTT_HIDDEN bptt_status XI(finite_block)(const char *fn, const char *name,
                                         const R *a, size_t rows, size_t cols,
                                         size_t ld);

#endif /* BPTT_DIAG_FINITE_H */
