/*
 * mpi/mpi_impl.h — what the MPI module's sources share: the agreement on a
 * status between the ranks and the module's own error detail.  The module
 * is a separate library over libbptt's public API: it cannot reach
 * libbptt's hidden functions (bptt__fail, the workspace's layout).
 */
#ifndef BPTT_MPI_IMPL_H
#define BPTT_MPI_IMPL_H

#include <stddef.h>

#include "bptt/mpi.h"

#if defined(__GNUC__)
#define BPTT_MPI_HIDDEN __attribute__((visibility("hidden")))
#define BPTT_MPI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BPTT_MPI_HIDDEN
#define BPTT_MPI_PRINTF(a, b)
#endif

/* Record this thread's detail for bptt_mpi_error_detail() and return
 * status; fn is the public function's name. */
BPTT_MPI_HIDDEN bptt_status bptt__mpi_fail(bptt_status status, const char *fn,
                                           const char *fmt, ...)
    BPTT_MPI_PRINTF(3, 4);

/* Record text verbatim as this thread's detail (e.g. libbptt's own
 * bptt_error_detail()) and return status. */
BPTT_MPI_HIDDEN bptt_status bptt__mpi_keep(bptt_status status,
                                           const char *text);

/* This thread's detail buffer (bptt__mpi_fail writes it). */
BPTT_MPI_HIDDEN const char *bptt__mpi_detail(void);

/* Collective over comm: every rank passes the status of its local work
 * (BPTT_OK or an error whose detail is detail, this rank's text).  Returns
 * BPTT_OK on every rank if every rank passed BPTT_OK; otherwise, on every
 * rank, the status of the lowest failing rank, with the module's detail
 * "fn: rank r of p failed: <its detail>".  One MPI_Allreduce of an int on
 * success; a broadcast of the detail on failure. */
BPTT_MPI_HIDDEN bptt_status bptt__mpi_agree(MPI_Comm comm, int rank, int size,
                                            bptt_status st, const char *fn,
                                            const char *detail);

/* Seconds on MPI's wall clock (MPI_Wtime). */
BPTT_MPI_HIDDEN double bptt__mpi_now(void);

#endif /* BPTT_MPI_IMPL_H */
