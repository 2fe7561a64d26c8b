/*
 * mpi/agree.c — the ranks' agreement on a status, the module's error
 * detail, its clock (MPI_Wtime).  Precision-independent.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mpi/mpi_impl.h"

/* Long enough for the failing rank's own detail (libbptt's are < 256). */
#define DETAIL 512

static _Thread_local char detail[DETAIL];

const char *bptt_mpi_error_detail(void)
{
    return detail;
}

const char *bptt__mpi_detail(void)
{
    return detail;
}

bptt_status bptt__mpi_fail(bptt_status status, const char *fn,
                           const char *fmt, ...)
{
    int n = snprintf(detail, sizeof detail, "%s: ", fn);
    if (n < 0 || (size_t)n >= sizeof detail)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail + n, sizeof detail - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}

bptt_status bptt__mpi_keep(bptt_status status, const char *text)
{
    if (text != detail)
        snprintf(detail, sizeof detail, "%s", text ? text : "");
    return status;
}

bptt_status bptt__mpi_agree(MPI_Comm comm, int rank, int size, bptt_status st,
                            const char *fn, const char *local)
{
    /* The lowest failing rank, INT_MAX if none: one small all-reduce, the
     * whole cost on success. */
    int mine = st == BPTT_OK ? INT_MAX : rank, first = INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return BPTT_OK;
    /* Its status and detail, to every rank. */
    struct {
        int status;
        char text[DETAIL];
    } msg;
    memset(&msg, 0, sizeof msg);
    if (rank == first) {
        msg.status = (int)st;
        snprintf(msg.text, sizeof msg.text, "%s", local ? local : "");
    }
    MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, first, comm);
    msg.text[DETAIL - 1] = '\0';
    return bptt__mpi_fail((bptt_status)msg.status, fn,
                          "rank %d of %d failed: %s", first, size, msg.text);
}

double bptt__mpi_now(void)
{
    return MPI_Wtime();
}
