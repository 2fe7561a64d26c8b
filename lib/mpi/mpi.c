/*
 * mpi/mpi.c — data-parallel gradients (bptt/mpi.h), compiled once per
 * precision (real.h).  Only libbptt's public API is used: the local shard
 * runs on a workspace through bptt_forward/bptt_backward (Network A) or the
 * Elman calls (Network B); the gradient-ready hook (bptt/hook.h) reports
 * each final panel of dW, whose MPI_Iallreduce is posted at once.
 *
 * One call, on every rank:
 *   1. local forward and loss (and, with BPTT_MPI_FIXED_ORDER, the whole
 *      backward of each sequence alone);
 *   2. agreement on the ranks' status — nothing has been reduced yet;
 *   3. the backward, posting the reduction of each finished part of the
 *      contiguous buffer G (or, fixed order, the chain through the ranks);
 *   4. a second agreement, folded into the last reduction (a failure flag
 *      summed with the loss), so success costs no extra message;
 *   5. only then are the caller's gradients and loss written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mpi/mpi_impl.h"
#include "real.h"

#ifdef BPTT_SINGLE
#define MPI_R MPI_FLOAT
#else
#define MPI_R MPI_DOUBLE
#endif

/* Tags of the fixed-order chain. */
enum { TAG_ACC = 1401, TAG_LOSS = 1402 };

struct X(mpi) {
    MPI_Comm comm;              /* the caller's, duplicated */
    int rank, size;
    unsigned flags;
    const bptt_net *net;        /* Network A, or Network B's core */
    const bptt_elman *el;       /* Network B; NULL for Network A */
    size_t Tmax, Bmax;
    X(workspace) *ws;           /* Network A's local workspace */
    X(elman_workspace) *ews;    /* Network B's */
    size_t npar;                /* elements of G */
    size_t offw;                /* where dW starts in G */
    R *G;                       /* [dW | db] or [dWo | dbo | dW | dbh] */
    R *Gseq;                    /* fixed order: Bmax per-sequence G's */
    double *loss1;              /* fixed order: per-sequence losses */
    R *Y, *dY;                  /* Network A: the shard's y and dL/dy */
    unsigned char *mask1;       /* fixed order: one sequence's mask */
    int *labels1;               /* fixed order: one sequence's labels */
    MPI_Request *req;           /* posted reductions */
    int nreq, maxreq;
    size_t posted;              /* G[0 .. posted) is posted */
    size_t npanels;             /* 0: halving panels (panel_rows) */
    int check_finite;
    bptt_grad_hook hook;
    double t_total, t_compute, t_exposed;
};

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

static void destroy(X(mpi) *c)
{
    if (!c)
        return;
    X(workspace_free)(c->ws);
    X(elman_workspace_free)(c->ews);
    free(c->G);
    free(c->Gseq);
    free(c->loss1);
    free(c->Y);
    free(c->dY);
    free(c->mask1);
    free(c->labels1);
    free(c->req);
    free(c);
}

static void *zalloc(size_t n, size_t size, int *ok)
{
    if (!*ok)
        return NULL;
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *ok = 0;
    return p;
}

/* The local part of create: checks and allocations, no communication. */
static bptt_status build(const char *fn, const bptt_net *net,
                         const bptt_elman *el, size_t Tmax, size_t Bmax,
                         unsigned flags, X(mpi) **out)
{
    if (!net)
        return bptt__mpi_fail(BPTT_ENULL, fn, el ? "el's core is NULL"
                                                 : "net is NULL");
    if (flags & ~(unsigned)(BPTT_MPI_FIXED_ORDER | BPTT_MPI_NO_OVERLAP))
        return bptt__mpi_fail(BPTT_EINVAL, fn, "unknown flags 0x%x", flags);
    if (Tmax == 0 || Bmax == 0)
        return bptt__mpi_fail(BPTT_ESIZE, fn,
                              "Tmax (%zu) and Bmax (%zu) must be > 0", Tmax,
                              Bmax);
    const size_t din = bptt_net_din(net), dout = bptt_net_dout(net);
    const size_t m = din + dout, nout = el ? bptt_elman_nout(el) : 0;
    const int fixed = (flags & BPTT_MPI_FIXED_ORDER) != 0;
    int ok = 1;
    size_t offw = bptt__add(bptt__mul(nout, dout, &ok), nout, &ok);
    size_t npar = bptt__add(offw, bptt__add(bptt__mul(dout, m, &ok), dout,
                                            &ok), &ok);
    size_t wsB = fixed ? 1 : Bmax; /* fixed order runs one sequence a time */
    size_t rows = bptt__mul(Tmax, wsB, &ok);
    size_t seq = fixed ? bptt__mul(Bmax, npar, &ok) : 0;
    bptt__mul(rows, dout, &ok);
    bptt__mul(seq, sizeof(R), &ok);
    if (!ok || npar > (size_t)INT_MAX)
        return bptt__mpi_fail(BPTT_EOVERFLOW, fn,
                              "the gradient buffer (%zu elements) or the "
                              "shard's arrays do not fit", npar);

    X(mpi) *c = calloc(1, sizeof *c);
    if (!c)
        return bptt__mpi_fail(BPTT_ENOMEM, fn, "allocating the context");
    c->flags = flags;
    c->net = net;
    c->el = el;
    c->Tmax = Tmax;
    c->Bmax = Bmax;
    c->npar = npar;
    c->offw = offw;
    c->maxreq = (int)(dout + 4 < (size_t)INT_MAX ? dout + 4 : INT_MAX);
    c->npanels = 1; /* dW in one GEMM: splitting it cost more than the
                       whole reduction on the machines measured (docs) */
    bptt_status st = el ? X(elman_workspace_alloc)(el, Tmax, wsB, &c->ews)
                        : X(workspace_alloc)(net, Tmax, wsB, &c->ws);
    if (st != BPTT_OK) {
        destroy(c);
        return bptt__mpi_keep(st, bptt_error_detail());
    }
    c->G = zalloc(npar, sizeof(R), &ok);
    c->req = zalloc((size_t)c->maxreq, sizeof(MPI_Request), &ok);
    if (!el) {
        c->Y = zalloc(rows * dout, sizeof(R), &ok);
        c->dY = zalloc(rows * dout, sizeof(R), &ok);
    }
    if (fixed) {
        c->Gseq = zalloc(seq, sizeof(R), &ok);
        c->loss1 = zalloc(Bmax, sizeof(double), &ok);
        c->mask1 = zalloc(Tmax, 1, &ok);
        c->labels1 = zalloc(Tmax, sizeof(int), &ok);
    }
    if (!ok) {
        destroy(c);
        return bptt__mpi_fail(BPTT_ENOMEM, fn, "allocating the buffers");
    }
    *out = c;
    return BPTT_OK;
}

static bptt_status create(const char *fn, MPI_Comm comm, const bptt_net *net,
                          const bptt_elman *el, size_t Tmax, size_t Bmax,
                          unsigned flags, X(mpi) **ctx)
{
    if (comm == MPI_COMM_NULL)
        return bptt__mpi_fail(BPTT_EINVAL, fn, "comm is MPI_COMM_NULL");
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    X(mpi) *c = NULL;
    bptt_status st = !ctx ? bptt__mpi_fail(BPTT_ENULL, fn, "ctx is NULL")
                          : build(fn, net, el, Tmax, Bmax, flags, &c);
    /* The ranks' collectives match only if their buckets do: the same
     * flags and the same gradient buffer (network shape) everywhere. */
    long mine[4] = {(long)flags, c ? (long)c->npar : -1, 0, 0}, lo[4], hi[4];
    mine[2] = -mine[0];
    mine[3] = -mine[1];
    MPI_Allreduce(mine, hi, 4, MPI_LONG, MPI_MAX, comm);
    for (int i = 0; i < 4; i++)
        lo[i] = -hi[i ^ 2]; /* min x = -max(-x) */
    if (st == BPTT_OK && hi[1] >= 0 && lo[1] >= 0 &&
        (lo[0] != hi[0] || lo[1] != hi[1]))
        st = bptt__mpi_fail(BPTT_EINVAL, fn,
                            lo[0] != hi[0]
                                ? "flags differ between the ranks (0x%lx .. "
                                  "0x%lx)"
                                : "the network differs between the ranks "
                                  "(%ld .. %ld gradient elements)",
                            lo[lo[0] != hi[0] ? 0 : 1],
                            hi[lo[0] != hi[0] ? 0 : 1]);
    st = bptt__mpi_agree(comm, rank, size, st, fn, bptt__mpi_detail());
    if (st != BPTT_OK) {
        destroy(c);
        return st;
    }
    MPI_Comm_dup(comm, &c->comm);
    c->rank = rank;
    c->size = size;
    *ctx = c;
    return BPTT_OK;
}

bptt_status X(mpi_create)(MPI_Comm comm, const bptt_net *net, size_t Tmax,
                          size_t Bmax, unsigned flags, X(mpi) **ctx)
{
    return create(PREFIX "mpi_create", comm, net, NULL, Tmax, Bmax, flags,
                  ctx);
}

bptt_status X(mpi_create_elman)(MPI_Comm comm, const bptt_elman *el,
                                size_t Tmax, size_t Bmax, unsigned flags,
                                X(mpi) **ctx)
{
    static const char fn[] = PREFIX "mpi_create_elman";
    const bptt_net *net = bptt_elman_net(el);
    if (!el && comm != MPI_COMM_NULL) {
        int rank = 0, size = 1;
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_size(comm, &size);
        return bptt__mpi_agree(comm, rank, size,
                               bptt__mpi_fail(BPTT_ENULL, fn, "el is NULL"),
                               fn, bptt__mpi_detail());
    }
    return create(fn, comm, net, el, Tmax, Bmax, flags, ctx);
}

void X(mpi_free)(X(mpi) *ctx)
{
    if (!ctx)
        return;
    MPI_Comm_free(&ctx->comm);
    destroy(ctx);
}

int X(mpi_rank)(const X(mpi) *ctx)
{
    return ctx ? ctx->rank : -1;
}

int X(mpi_size)(const X(mpi) *ctx)
{
    return ctx ? ctx->size : 0;
}

bptt_status X(mpi_check_finite)(X(mpi) *ctx, int on)
{
    if (!ctx)
        return bptt__mpi_fail(BPTT_ENULL, PREFIX "mpi_check_finite",
                              "ctx is NULL");
    ctx->check_finite = on != 0;
    return BPTT_OK;
}

bptt_status X(mpi_set_panels)(X(mpi) *ctx, size_t npanels)
{
    static const char fn[] = PREFIX "mpi_set_panels";
    if (!ctx)
        return bptt__mpi_fail(BPTT_ENULL, fn, "ctx is NULL");
    const size_t dout = bptt_net_dout(ctx->net);
    if (npanels > dout)
        return bptt__mpi_fail(BPTT_EINVAL, fn,
                              "npanels (%zu) is not in 0..%zu", npanels, dout);
    ctx->npanels = npanels;
    return BPTT_OK;
}

bptt_status X(mpi_last_times)(const X(mpi) *ctx, double *total,
                              double *compute, double *exposed)
{
    if (!ctx)
        return bptt__mpi_fail(BPTT_ENULL, PREFIX "mpi_last_times",
                              "ctx is NULL");
    if (total)
        *total = ctx->t_total;
    if (compute)
        *compute = ctx->t_compute;
    if (exposed)
        *exposed = ctx->t_exposed;
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Reduction                                                                 */
/* ------------------------------------------------------------------------ */

/* The rows of the panel of dW that starts at row r0: npanels equal panels
 * if set, else half of what is left, at least MIN_PANEL rows: large panels
 * first (each panel's product reads all of S, so thin ones cost), small
 * ones last, so that little is left to wait for after the backward. */
enum { MIN_PANEL = 64 };
static size_t panel_rows(const X(mpi) *c, size_t r0)
{
    const size_t dout = bptt_net_dout(c->net), left = dout - r0;
    size_t pr = c->npanels ? (dout + c->npanels - 1) / c->npanels
                           : (left + 1) / 2;
    if (!c->npanels && pr < MIN_PANEL)
        pr = MIN_PANEL;
    return pr < left ? pr : left;
}

/* The end of the bucket of G that starts at pos.  The buckets are the same
 * on every rank whatever its shard (collectives must match in count and
 * order): Network B's [dWo | dbo], each panel of dW's rows, the last bias;
 * or all of G at once without the overlap. */
static size_t bucket_end(const X(mpi) *c, size_t pos)
{
    const size_t dout = bptt_net_dout(c->net);
    const size_t m = bptt_net_din(c->net) + dout, wend = c->offw + dout * m;
    if (c->flags & BPTT_MPI_NO_OVERLAP)
        return c->npar;
    if (pos < c->offw)
        return c->offw;
    if (pos < wend) {
        size_t r0 = (pos - c->offw) / m;
        return c->offw + (r0 + panel_rows(c, r0)) * m;
    }
    return c->npar;
}

/* Post the sum over the ranks of G[posted .. end), in place, bucket by
 * bucket. */
static void post(X(mpi) *c, size_t end)
{
    while (c->posted < end && c->nreq < c->maxreq) {
        size_t e = bucket_end(c, c->posted);
        MPI_Iallreduce(MPI_IN_PLACE, c->G + c->posted, (int)(e - c->posted),
                       MPI_R, MPI_SUM, c->comm, &c->req[c->nreq++]);
        c->posted = e;
    }
}

/* The hook (bptt/hook.h): a part of G is final, send it on its way, and
 * let MPI move the parts already posted (Open MPI progresses non-blocking
 * collectives only inside MPI calls). */
static void ready(void *user, bptt_grad_part part, size_t r0, size_t r1)
{
    X(mpi) *c = user;
    (void)r0;
    const size_t dout = bptt_net_dout(c->net);
    if (part == BPTT_GRAD_WO) {
        post(c, c->offw);
    } else {
        post(c, c->offw + r1 * (bptt_net_din(c->net) + dout));
        if (r1 < dout)
            c->hook.panel_rows = panel_rows(c, r1);
    }
    int done = 0;
    MPI_Testall(c->nreq, c->req, &done, MPI_STATUSES_IGNORE);
}

/* The first non-finite entry of a rows x cols block, or BPTT_OK. */
static bptt_status scan(const char *fn, const char *name, size_t rows,
                        size_t cols, const R *A, size_t lda)
{
    if (!A || lda < cols) /* absent or malformed: the forward reports it */
        return BPTT_OK;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            R v = A[i * lda + j];
            if (!isfinite(v))
                return bptt__mpi_fail(BPTT_ENONFINITE, fn,
                                      "%s[%zu][%zu] is %s", name, i, j,
                                      isnan(v) ? "NaN" : v > 0 ? "+Inf"
                                                               : "-Inf");
        }
    return BPTT_OK;
}

/* out = beta·out + G's rows (rows x cols, dense in G). */
static void deliver(size_t rows, size_t cols, R beta, const R *g, R *out,
                    size_t ld)
{
    if (!out)
        return;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            out[i * ld + j] = beta == 0 ? g[i * cols + j]
                                        : beta * out[i * ld + j] + g[i * cols + j];
}

/* The fixed-order sum: the shards' per-sequence gradients (Gseq, loss1)
 * added in global sequence order, rank 0's first, passed along the ranks;
 * the last rank's total to every rank.  Into G and *loss. */
static void chain(X(mpi) *c, size_t B, double *loss)
{
    const size_t n = c->npar;
    double acc[2] = {0, 0}; /* the loss, and whether any sequence is in */
    if (c->rank > 0) {
        MPI_Recv(c->G, (int)n, MPI_R, c->rank - 1, TAG_ACC, c->comm,
                 MPI_STATUS_IGNORE);
        MPI_Recv(acc, 2, MPI_DOUBLE, c->rank - 1, TAG_LOSS, c->comm,
                 MPI_STATUS_IGNORE);
    }
    for (size_t j = 0; j < B; j++) {
        const R *g = c->Gseq + j * n;
        if (acc[1] == 0) { /* the first sequence: a copy, keeping -0 */
            memcpy(c->G, g, n * sizeof(R));
            acc[0] = c->loss1[j];
            acc[1] = 1;
        } else {
            for (size_t k = 0; k < n; k++)
                c->G[k] += g[k];
            acc[0] += c->loss1[j];
        }
    }
    if (c->rank + 1 < c->size) {
        MPI_Send(c->G, (int)n, MPI_R, c->rank + 1, TAG_ACC, c->comm);
        MPI_Send(acc, 2, MPI_DOUBLE, c->rank + 1, TAG_LOSS, c->comm);
    }
    MPI_Bcast(c->G, (int)n, MPI_R, c->size - 1, c->comm);
    MPI_Bcast(acc, 2, MPI_DOUBLE, c->size - 1, c->comm);
    if (acc[1] == 0) /* no rank had a sequence */
        memset(c->G, 0, n * sizeof(R));
    *loss = acc[0];
}

/* ------------------------------------------------------------------------ */
/* The local work                                                            */
/* ------------------------------------------------------------------------ */

/* The arguments of one call, for either network. */
typedef struct call {
    size_t T, B;
    const R *W, *b, *Wo, *bo, *x, *y0, *target;
    size_t ldw, ldwo, ldx, ldy0, ldt;
    const unsigned char *mask;
    const int *labels;
} call;

/* One sequence j of a time-major call: rows t*B + j, i.e. the arrays from
 * row j with B times their leading dimension (mask and labels copied). */
static call sequence(const X(mpi) *c, const call *a, size_t j)
{
    call s = *a;
    s.B = 1;
    if (a->x) /* NULL stays NULL: the forward reports it */
        s.x = a->x + j * a->ldx;
    s.ldx = a->ldx * a->B;
    if (a->y0)
        s.y0 = a->y0 + j * a->ldy0;
    if (a->target) {
        s.target = a->target + j * a->ldt;
        s.ldt = a->ldt * a->B;
    }
    if (a->mask) {
        for (size_t t = 0; t < a->T; t++)
            c->mask1[t] = a->mask[t * a->B + j];
        s.mask = c->mask1;
    }
    if (a->labels) {
        for (size_t t = 0; t < a->T; t++)
            c->labels1[t] = a->labels[t * a->B + j];
        s.labels = c->labels1;
    }
    return s;
}

/* Forward and loss of the shard a; Network A keeps y and dL/dy. */
static bptt_status forward(const char *fn, X(mpi) *c, const call *a,
                           double *loss)
{
    const bptt_net *net = c->net;
    const size_t din = bptt_net_din(net), dout = bptt_net_dout(net);
    const size_t TB = a->T * a->B;
    bptt_status st;
    *loss = 0;
    if (!c->el) {
        X(workspace_check_finite)(c->ws, c->check_finite);
        st = X(forward)(net, a->T, a->B, a->W, a->ldw, a->b, a->x, a->ldx,
                        a->y0, a->ldy0, c->Y, dout, BPTT_ALGO_AUTO, c->ws);
        if (st == BPTT_OK)
            st = X(loss_squared)(a->T, a->B, dout, c->Y, dout, a->target,
                                 a->ldt, a->mask, loss, c->dY, dout);
        if (st != BPTT_OK)
            return bptt__mpi_keep(st, bptt_error_detail());
        if (c->check_finite)
            for (size_t k = 0; k < TB; k++)
                for (size_t i = 0; i < dout; i++)
                    if (!isfinite(c->dY[k * dout + i]))
                        return bptt__mpi_fail(
                            BPTT_ENONFINITE, fn,
                            "dL/dy(%zu) of sequence %zu, element %zu, is not "
                            "finite (a target is NaN or infinite)",
                            k / a->B + 1, k % a->B, i);
        return BPTT_OK;
    }
    const size_t nout = bptt_elman_nout(c->el), m = din + dout;
    if (c->check_finite && TB > 0) {
        /* the Elman calls have no scan of their own: ours, inputs first */
        CHECK(scan(fn, "W", dout, m, a->W, a->ldw));
        CHECK(scan(fn, "bh", 1, dout, a->b, dout));
        CHECK(scan(fn, "Wo", nout, dout, a->Wo, a->ldwo));
        CHECK(scan(fn, "bo", 1, nout, a->bo, nout));
        CHECK(scan(fn, "x", TB, din, a->x, a->ldx));
        CHECK(scan(fn, "h0", a->B, dout, a->y0, a->ldy0));
        CHECK(scan(fn, "L", TB, nout, a->target, a->ldt));
    }
    st = X(elman_forward)(c->el, a->T, a->B, a->W, a->ldw, a->b, a->Wo,
                          a->ldwo, a->bo, a->x, a->ldx, a->y0, a->ldy0,
                          a->labels, a->target, a->ldt, loss, NULL, dout,
                          NULL, nout, BPTT_ALGO_AUTO, c->ews);
    if (st != BPTT_OK)
        return bptt__mpi_keep(st, bptt_error_detail());
    if (c->check_finite && !isfinite(*loss))
        return bptt__mpi_fail(BPTT_ENONFINITE, fn, "the loss is %s",
                              isnan(*loss) ? "NaN" : "infinite");
    return BPTT_OK;
}

/* Backward of the shard a's last forward into g (npar, the G layout). */
static bptt_status backward(X(mpi) *c, const call *a, R *g)
{
    const bptt_net *net = c->net;
    const size_t dout = bptt_net_dout(net), m = bptt_net_din(net) + dout;
    R *dW = g + c->offw, *db = dW + dout * m;
    bptt_status st;
    if (!c->el) {
        /* Our own scan covers the reduced result; the workspace's would
         * read panels that the reduction is overwriting. */
        X(workspace_check_finite)(c->ws, 0);
        st = X(backward)(net, a->T, a->B, a->W, a->ldw, c->dY, dout, 0, dW,
                         m, db, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, c->ws);
    } else {
        const size_t nout = bptt_elman_nout(c->el);
        st = X(elman_backward)(c->el, a->T, a->B, a->W, a->ldw, a->Wo,
                               a->ldwo, a->labels, a->target, a->ldt, 0, dW,
                               m, db, g, dout, g + nout * dout, NULL, 0, NULL,
                               0, BPTT_ALGO_AUTO, c->ews);
    }
    return st == BPTT_OK ? st : bptt__mpi_keep(st, bptt_error_detail());
}

static bptt_status set_hook(X(mpi) *c, const bptt_grad_hook *h)
{
    return c->el ? X(elman_workspace_set_grad_hook)(c->ews, h)
                 : X(workspace_set_grad_hook)(c->ws, h);
}

/* Checks of what the module itself reads or writes.  The rest is checked
 * by the forward. */
static bptt_status check(const char *fn, const X(mpi) *c, const call *a,
                         R beta, const R *dW, size_t lddw, const R *dWo,
                         size_t lddwo)
{
    const size_t dout = bptt_net_dout(c->net);
    const size_t m = bptt_net_din(c->net) + dout;
    if (!dW)
        return bptt__mpi_fail(BPTT_ENULL, fn, "dW is NULL");
    if (lddw < m)
        return bptt__mpi_fail(BPTT_ELD, fn, "lddw (%zu) < din+dout (%zu)",
                              lddw, m);
    if (c->el) {
        if (!dWo)
            return bptt__mpi_fail(BPTT_ENULL, fn, "dWo is NULL");
        if (lddwo < dout)
            return bptt__mpi_fail(BPTT_ELD, fn, "lddwo (%zu) < dh (%zu)",
                                  lddwo, dout);
    }
    if (!isfinite(beta))
        return bptt__mpi_fail(BPTT_EINVAL, fn, "beta is not finite");
    /* Fixed order reads sequence j from row j with B times the leading
     * dimension, which would hide a leading dimension too small: these
     * are checked here, the same in both modes. */
    const size_t din = bptt_net_din(c->net);
    const size_t nt = c->el ? bptt_elman_nout(c->el) : dout;
    if (a->ldx < din)
        return bptt__mpi_fail(BPTT_ELD, fn, "ldx (%zu) < din (%zu)", a->ldx,
                              din);
    if (a->y0 && a->ldy0 < dout)
        return bptt__mpi_fail(BPTT_ELD, fn, "%s (%zu) < %s (%zu)",
                              c->el ? "ldh0" : "ldy0", a->ldy0,
                              c->el ? "dh" : "dout", dout);
    if (a->target && a->ldt < nt)
        return bptt__mpi_fail(BPTT_ELD, fn, "%s (%zu) < %s (%zu)",
                              c->el ? "ldl" : "ldt", a->ldt,
                              c->el ? "nout" : "dout", nt);
    if (a->B > c->Bmax)
        return bptt__mpi_fail(BPTT_ECAPACITY, fn, "B (%zu) > Bmax (%zu)",
                              a->B, c->Bmax);
    if (a->B > 0 && a->T > c->Tmax)
        return bptt__mpi_fail(BPTT_ECAPACITY, fn, "T (%zu) > Tmax (%zu)",
                              a->T, c->Tmax);
    return BPTT_OK;
}

/* Steps 1-4 of the file's comment: the summed gradient in G, the summed
 * loss in *loss, the same status on every rank. */
static bptt_status run(const char *fn, X(mpi) *c, const call *a,
                       double *loss)
{
    const double t0 = bptt__mpi_now();
    const int fixed = (c->flags & BPTT_MPI_FIXED_ORDER) != 0;
    double local = 0;
    bptt_status st = BPTT_OK;
    c->t_exposed = 0;

    /* 1. local forward and loss (fixed order: each sequence's gradient) */
    if (fixed) {
        for (size_t j = 0; j < a->B && st == BPTT_OK; j++) {
            call s = sequence(c, a, j);
            st = forward(fn, c, &s, &c->loss1[j]);
            if (st == BPTT_OK)
                st = backward(c, &s, c->Gseq + j * c->npar);
            if (st != BPTT_OK) {
                char why[512];
                snprintf(why, sizeof why, "%s", bptt__mpi_detail());
                bptt__mpi_fail(st, fn, "sequence %zu: %s", j, why);
            }
        }
    } else if (a->B > 0) {
        st = forward(fn, c, a, &local);
    }
    c->t_compute = bptt__mpi_now() - t0;

    /* 2. agree before anything is reduced */
    CHECK(bptt__mpi_agree(c->comm, c->rank, c->size, st, fn,
                          bptt__mpi_detail()));

    if (fixed) { /* 3. the chain, in sequence order */
        const double t1 = bptt__mpi_now();
        chain(c, a->B, loss);
        c->t_exposed = bptt__mpi_now() - t1;
        c->t_total = bptt__mpi_now() - t0;
        return BPTT_OK;
    }

    /* 3. the backward, each final part of G posted as it comes */
    c->nreq = 0;
    c->posted = 0;
    const double t1 = bptt__mpi_now();
    c->hook.ready = ready;
    c->hook.user = c;
    c->hook.panel_rows = panel_rows(c, 0);
    if (a->B > 0) {
        int overlap = !(c->flags & BPTT_MPI_NO_OVERLAP);
        if (overlap)
            set_hook(c, &c->hook);
        st = backward(c, a, c->G);
        if (overlap)
            set_hook(c, NULL);
    } else {
        memset(c->G, 0, c->npar * sizeof(R));
    }
    const double t2 = bptt__mpi_now();
    c->t_compute += t2 - t1;
    /* the rest (the biases; everything after a failure, to keep every
     * rank's collectives matched) and, with the loss, the failure count */
    post(c, c->npar);
    double lf[2] = {local, st != BPTT_OK};
    MPI_Iallreduce(MPI_IN_PLACE, lf, 2, MPI_DOUBLE, MPI_SUM, c->comm,
                   &c->req[c->nreq++]);
    MPI_Waitall(c->nreq, c->req, MPI_STATUSES_IGNORE);
    c->t_exposed = bptt__mpi_now() - t2;
    c->t_total = bptt__mpi_now() - t0;

    /* 4. a backward that failed on some rank (not expected once the
     * forward passed): every rank learns which, the sums are dropped */
    if (lf[1] != 0)
        return bptt__mpi_agree(c->comm, c->rank, c->size, st, fn,
                               bptt__mpi_detail());
    *loss = lf[0];
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

bptt_status X(mpi_gradient)(X(mpi) *ctx, size_t T, size_t B, const R *W,
                            size_t ldw, const R *b, const R *x, size_t ldx,
                            const R *y0, size_t ldy0, const R *target,
                            size_t ldt, const unsigned char *mask,
                            double *loss, R beta, R *dW, size_t lddw, R *db)
{
    static const char fn[] = PREFIX "mpi_gradient";
    if (!ctx)
        return bptt__mpi_fail(BPTT_ENULL, fn, "ctx is NULL");
    call a = {.T = T, .B = B, .W = W, .b = b, .x = x, .y0 = y0,
              .target = target, .ldw = ldw, .ldx = ldx, .ldy0 = ldy0,
              .ldt = ldt, .mask = mask};
    bptt_status st = ctx->el ? bptt__mpi_fail(BPTT_EMISMATCH, fn,
                                              "ctx was made for Network B")
                             : check(fn, ctx, &a, beta, dW, lddw, NULL, 0);
    if (st != BPTT_OK) /* agreed, so that no rank waits for this one */
        return bptt__mpi_agree(ctx->comm, ctx->rank, ctx->size, st, fn,
                               bptt__mpi_detail());
    double sum = 0;
    CHECK(run(fn, ctx, &a, &sum));
    const size_t dout = bptt_net_dout(ctx->net);
    const size_t m = bptt_net_din(ctx->net) + dout;
    if (ctx->check_finite) {
        st = scan(fn, "the summed dW", dout, m, ctx->G, m);
        if (st == BPTT_OK)
            st = scan(fn, "the summed db", 1, dout, ctx->G + dout * m, dout);
        if (st != BPTT_OK) /* the same sums on every rank: no message */
            return st;
    }
    deliver(dout, m, beta, ctx->G, dW, lddw);
    deliver(1, dout, beta, ctx->G + dout * m, db, dout);
    if (loss)
        *loss = sum;
    return BPTT_OK;
}

bptt_status X(mpi_elman_gradient)(X(mpi) *ctx, size_t T, size_t B,
                                  const R *W, size_t ldw, const R *bh,
                                  const R *Wo, size_t ldwo, const R *bo,
                                  const R *x, size_t ldx, const R *h0,
                                  size_t ldh0, const int *labels, const R *L,
                                  size_t ldl, double *E, R beta, R *dW,
                                  size_t lddw, R *dbh, R *dWo, size_t lddwo,
                                  R *dbo)
{
    static const char fn[] = PREFIX "mpi_elman_gradient";
    if (!ctx)
        return bptt__mpi_fail(BPTT_ENULL, fn, "ctx is NULL");
    call a = {.T = T, .B = B, .W = W, .b = bh, .Wo = Wo, .bo = bo, .x = x,
              .y0 = h0, .target = L, .ldw = ldw, .ldwo = ldwo, .ldx = ldx,
              .ldy0 = ldh0, .ldt = ldl, .labels = labels};
    bptt_status st = !ctx->el ? bptt__mpi_fail(BPTT_EMISMATCH, fn,
                                               "ctx was made for Network A")
                              : check(fn, ctx, &a, beta, dW, lddw, dWo, lddwo);
    if (st != BPTT_OK)
        return bptt__mpi_agree(ctx->comm, ctx->rank, ctx->size, st, fn,
                               bptt__mpi_detail());
    double sum = 0;
    CHECK(run(fn, ctx, &a, &sum));
    const size_t dh = bptt_net_dout(ctx->net);
    const size_t m = bptt_net_din(ctx->net) + dh;
    const size_t nout = bptt_elman_nout(ctx->el);
    const R *G = ctx->G, *GW = G + ctx->offw;
    if (ctx->check_finite) {
        st = scan(fn, "the summed dWo", nout, dh, G, dh);
        if (st == BPTT_OK)
            st = scan(fn, "the summed dbo", 1, nout, G + nout * dh, nout);
        if (st == BPTT_OK)
            st = scan(fn, "the summed dW", dh, m, GW, m);
        if (st == BPTT_OK)
            st = scan(fn, "the summed dbh", 1, dh, GW + dh * m, dh);
        if (st != BPTT_OK)
            return st;
    }
    deliver(nout, dh, beta, G, dWo, lddwo);
    deliver(1, nout, beta, G + nout * dh, dbo, nout);
    deliver(dh, m, beta, GW, dW, lddw);
    deliver(1, dh, beta, GW + dh * m, dbh, dh);
    if (E)
        *E = sum;
    return BPTT_OK;
}
