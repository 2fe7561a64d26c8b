/*
 * gated_onednn.c — bptt-bench-gated's oneDNN peer (2.x C API, f32):
 * oneDNN's LSTM and lbr_gru primitives, forward_training then backward, on
 * the data of a gated_peer_problem, checked against bptt's naive form
 * before they are timed.
 *
 * Layouts.  oneDNN's weights are "ldigo": element [i][g][o] acts from
 * input i on unit o of gate g, i.e. W[g·n + o][i] of bptt's W (and U).
 * LSTM gates are i, f, c̃, o in both libraries and the bias is one vector,
 * bx + bh.  lbr_gru orders its gates u, r, o (update, reset, new), bptt r,
 * z, n; its bias has four blocks: b_u, b_r, b_o (input side plus, for u
 * and r, the recurrent side) and the recurrent-side bias of the new gate
 * inside the reset product (docs/gated.md (G13)).
 *
 * oneDNN 2.6's traps (as in peers/onednn_rnn.c): the backward ADDS into
 * the weight gradients, so they are zeroed before every run (outside the
 * timed region); a NULL initial state gives a wrong recurrent weight
 * gradient, so explicit zero states (and their gradients) are passed.
 * Weights use the layouts the primitives choose; reorders are not timed.
 */
#define _POSIX_C_SOURCE 200809L
#include "gated_peer.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "bptt-bench-gated: oneDNN: %s: %s\n", what, why);
    exit(1);
}

#define DNNL(call)                                                             \
    do {                                                                       \
        dnnl_status_t st_ = (call);                                            \
        if (st_ != dnnl_success)                                               \
            fail(#call, dnnl_status2str(st_));                                 \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *fcalloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p)
        fail("calloc", "out of memory");
    return p;
}

int gated_onednn_available(void)
{
    return 1;
}

typedef struct ctx {
    dnnl_engine_t eng;
    dnnl_stream_t s;
} ctx;

static dnnl_memory_desc_t md_of(int nd, const dnnl_dims_t d,
                                dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t md;
    DNNL(dnnl_memory_desc_init_by_tag(&md, nd, d, dnnl_f32, tag));
    return md;
}

static dnnl_memory_t mem_of(const ctx *c, const dnnl_memory_desc_t *md,
                            void *buf)
{
    dnnl_memory_t m;
    DNNL(dnnl_memory_create(&m, md, c->eng, buf ? buf : DNNL_MEMORY_ALLOCATE));
    return m;
}

static void exec(const ctx *c, dnnl_primitive_t p, int n,
                 const dnnl_exec_arg_t *a)
{
    DNNL(dnnl_primitive_execute(p, c->s, n, a));
    DNNL(dnnl_stream_wait(c->s));
}

static void reorder(const ctx *c, dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    DNNL(dnnl_memory_get_memory_desc(from, &fmd));
    DNNL(dnnl_memory_get_memory_desc(to, &tmd));
    DNNL(dnnl_reorder_primitive_desc_create(&pd, fmd, c->eng, tmd, c->eng,
                                            NULL));
    DNNL(dnnl_primitive_create(&p, pd));
    const dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    exec(c, p, 2, a);
    DNNL(dnnl_primitive_destroy(p));
    DNNL(dnnl_primitive_desc_destroy(pd));
}

/* The primitive's memory for an argument: the user's if layouts agree,
 * else a new one (filled from the user's if copy_in). */
static dnnl_memory_t as_wanted(const ctx *c, const_dnnl_primitive_desc_t pd,
                               dnnl_query_t what, int idx, dnnl_memory_t user,
                               int copy_in)
{
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, what,
                                                                  idx);
    const dnnl_memory_desc_t *have;
    DNNL(dnnl_memory_get_memory_desc(user, &have));
    if (dnnl_memory_desc_equal(want, have))
        return user;
    dnnl_memory_t m = mem_of(c, want, NULL);
    if (copy_in)
        reorder(c, user, m);
    return m;
}

static void zero(dnnl_memory_t m)
{
    const dnnl_memory_desc_t *md;
    void *p;
    DNNL(dnnl_memory_get_memory_desc(m, &md));
    DNNL(dnnl_memory_get_data_handle(m, &p));
    memset(p, 0, dnnl_memory_desc_get_size(md));
}

/* One oneDNN set-up for T steps: primitives, memories, arguments. */
typedef struct run {
    dnnl_primitive_t fwd, bwd;
    dnnl_exec_arg_t fa[16], ba[24];
    int nf, nb;
    dnnl_memory_t b_dwl, b_dwi, m_dwl, m_dwi, m_db;
    float *h, *dwl, *dwi, *dx;
} run;

/* bptt's gate g of oneDNN's gate gd. */
static size_t perm(bptt_cell cell, size_t gd)
{
    static const size_t gru[3] = {1, 0, 2}; /* u, r, o <- z, r, n */
    return cell == BPTT_CELL_GRU ? gru[gd] : gd;
}

static void setup(const ctx *c, const gated_peer_problem *p, size_t Tn,
                  run *R)
{
    const int lstm = p->cell == BPTT_CELL_LSTM;
    const size_t G = lstm ? 4 : 3, n = p->n, din = p->din, TB = Tn * p->B;
    const size_t GB = lstm ? 4 : 4; /* bias blocks: LSTM 4, lbr_gru G+1 */
    /* user layouts: ldigo weights, ldgo bias */
    float *wl = fcalloc(din * G * n), *wi = fcalloc(n * G * n);
    float *bias = fcalloc(GB * n);
    for (size_t gd = 0; gd < G; gd++) {
        const size_t g = perm(p->cell, gd);
        for (size_t o = 0; o < n; o++) {
            for (size_t i = 0; i < din; i++)
                wl[(i * G + gd) * n + o] = p->W[(g * n + o) * din + i];
            for (size_t j = 0; j < n; j++)
                wi[(j * G + gd) * n + o] = p->U[(g * n + o) * n + j];
            bias[gd * n + o] = p->bx[g * n + o] +
                               (lstm || gd < 2 ? p->bh[g * n + o] : 0);
        }
    }
    if (!lstm)
        for (size_t o = 0; o < n; o++)
            bias[3 * n + o] = p->bh[2 * n + o];
    R->h = fcalloc(TB * n), R->dx = fcalloc(TB * din);
    R->dwl = fcalloc(din * G * n), R->dwi = fcalloc(n * G * n);
    float *h0 = fcalloc(p->B * n), *c0 = fcalloc(p->B * n);
    float *dh0 = fcalloc(p->B * n), *dc0 = fcalloc(p->B * n);
    float *db = fcalloc(GB * n);

    const dnnl_dim_t T = (dnnl_dim_t)Tn, B = (dnnl_dim_t)p->B,
                     I = (dnnl_dim_t)din, O = (dnnl_dim_t)n,
                     Gd = (dnnl_dim_t)G;
    const dnnl_dims_t d_src = {T, B, I}, d_dst = {T, B, O},
                      d_it = {1, 1, B, O}, d_wl = {1, 1, I, Gd, O},
                      d_wi = {1, 1, O, Gd, O},
                      d_b = {1, 1, (dnnl_dim_t)GB, O};
    const dnnl_memory_desc_t src = md_of(3, d_src, dnnl_tnc),
                             dst = md_of(3, d_dst, dnnl_tnc),
                             it = md_of(4, d_it, dnnl_ldnc),
                             wl_md = md_of(5, d_wl, dnnl_ldigo),
                             wi_md = md_of(5, d_wi, dnnl_ldigo),
                             b_md = md_of(4, d_b, dnnl_ldgo),
                             wl_any = md_of(5, d_wl, dnnl_format_tag_any),
                             wi_any = md_of(5, d_wi, dnnl_format_tag_any);
    dnnl_rnn_desc_t fd, bd;
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;
    if (lstm) {
        DNNL(dnnl_lstm_forward_desc_init(&fd, dnnl_forward_training, dir, &src,
                                         &it, &it, &wl_any, &wi_any, &b_md,
                                         &dst, NULL, NULL, 0));
        DNNL(dnnl_lstm_backward_desc_init(&bd, dnnl_backward, dir, &src, &it,
                                          &it, &wl_any, &wi_any, &b_md, &dst,
                                          NULL, NULL, &src, &it, &it, &wl_any,
                                          &wi_any, &b_md, &dst, NULL, NULL,
                                          0));
    } else {
        DNNL(dnnl_lbr_gru_forward_desc_init(&fd, dnnl_forward_training, dir,
                                            &src, &it, &wl_any, &wi_any,
                                            &b_md, &dst, NULL, 0));
        DNNL(dnnl_lbr_gru_backward_desc_init(&bd, dnnl_backward, dir, &src,
                                             &it, &wl_any, &wi_any, &b_md,
                                             &dst, NULL, &src, &it, &wl_any,
                                             &wi_any, &b_md, &dst, NULL, 0));
    }
    dnnl_primitive_desc_t fpd, bpd;
    DNNL(dnnl_primitive_desc_create(&fpd, &fd, NULL, c->eng, NULL));
    DNNL(dnnl_primitive_desc_create(&bpd, &bd, NULL, c->eng, fpd));
    dnnl_memory_t m_x = mem_of(c, &src, (void *)p->x),
                  m_h = mem_of(c, &dst, R->h),
                  m_dh = mem_of(c, &dst, (void *)p->dh),
                  m_dx = mem_of(c, &src, R->dx), m_h0 = mem_of(c, &it, h0),
                  m_c0 = mem_of(c, &it, c0), m_dh0 = mem_of(c, &it, dh0),
                  m_dc0 = mem_of(c, &it, dc0),
                  m_wl = mem_of(c, &wl_md, wl), m_wi = mem_of(c, &wi_md, wi),
                  m_b = mem_of(c, &b_md, bias);
    R->m_dwl = mem_of(c, &wl_md, R->dwl);
    R->m_dwi = mem_of(c, &wi_md, R->dwi);
    R->m_db = mem_of(c, &b_md, db);
    dnnl_memory_t f_wl = as_wanted(c, fpd, dnnl_query_weights_md, 0, m_wl, 1),
                  f_wi = as_wanted(c, fpd, dnnl_query_weights_md, 1, m_wi, 1),
                  b_wl = as_wanted(c, bpd, dnnl_query_weights_md, 0, m_wl, 1),
                  b_wi = as_wanted(c, bpd, dnnl_query_weights_md, 1, m_wi, 1);
    R->b_dwl = as_wanted(c, bpd, dnnl_query_diff_weights_md, 0, R->m_dwl, 0);
    R->b_dwi = as_wanted(c, bpd, dnnl_query_diff_weights_md, 1, R->m_dwi, 0);
    dnnl_memory_t m_ws = mem_of(
        c, dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0),
        NULL);
    DNNL(dnnl_primitive_create(&R->fwd, fpd));
    DNNL(dnnl_primitive_create(&R->bwd, bpd));
    int k = 0;
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_LAYER, m_x};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER, m_h0};
    if (lstm)
        R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER_C, m_c0};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_LAYER, f_wl};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_ITER, f_wi};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, m_b};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_DST_LAYER, m_h};
    R->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, m_ws};
    R->nf = k;
    k = 0;
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_LAYER, m_x};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER, m_h0};
    if (lstm)
        R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER_C, m_c0};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_LAYER, b_wl};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_ITER, b_wi};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, m_b};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DST_LAYER, m_h};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, m_ws};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST_LAYER, m_dh};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_LAYER, m_dx};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_ITER, m_dh0};
    if (lstm)
        R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_ITER_C, m_dc0};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS_LAYER, R->b_dwl};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS_ITER, R->b_dwi};
    R->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, R->m_db};
    R->nb = k;
    /* The memories and user buffers live until the process ends, as in
     * the vanilla peer: a benchmark's few set-ups. */
    (void)wl, (void)wi, (void)bias;
}

/* One forward_training + backward; returns the two times. */
static void once(const ctx *c, run *R, double *tf, double *tb)
{
    zero(R->b_dwl); /* the backward accumulates into these (see top) */
    zero(R->b_dwi);
    zero(R->m_db);
    const double t0 = now_ms();
    exec(c, R->fwd, R->nf, R->fa);
    const double t1 = now_ms();
    exec(c, R->bwd, R->nb, R->ba);
    const double t2 = now_ms();
    *tf = t1 - t0, *tb = t2 - t1;
}

void gated_onednn_run(const gated_peer_problem *p, gated_peer_result *r)
{
    ctx c;
    DNNL(dnnl_engine_create(&c.eng, dnnl_cpu, 0));
    DNNL(dnnl_stream_create(&c.s, c.eng, dnnl_stream_default_flags));
    const int lstm = p->cell == BPTT_CELL_LSTM;
    const size_t G = lstm ? 4 : 3, n = p->n, din = p->din;
    r->ran = 1;

    /* the check over the first Tc steps, against bptt's naive */
    run R;
    double tf, tb;
    setup(&c, p, p->Tc, &R);
    once(&c, &R, &tf, &tb);
    if (R.b_dwl != R.m_dwl)
        reorder(&c, R.b_dwl, R.m_dwl);
    if (R.b_dwi != R.m_dwi)
        reorder(&c, R.b_dwi, R.m_dwi);
    float *dW = fcalloc(G * n * din), *dU = fcalloc(G * n * n);
    for (size_t gd = 0; gd < G; gd++) {
        const size_t g = perm(p->cell, gd);
        for (size_t o = 0; o < n; o++) {
            for (size_t i = 0; i < din; i++)
                dW[(g * n + o) * din + i] = R.dwl[(i * G + gd) * n + o];
            for (size_t j = 0; j < n; j++)
                dU[(g * n + o) * n + j] = R.dwi[(j * G + gd) * n + o];
        }
    }
    const problem_view v = {din, n, G, p->Tc, p->B};
    r->err = gated_outs_err(1, &v, R.h, dW, dU, R.dx, p->rh, p->rdW, p->rdU,
                            p->rdx);
    free(dW), free(dU);
    if (!(r->err <= 1e-3))
        return;

    /* the timing at T */
    run F;
    setup(&c, p, p->T, &F);
    enum { MAXREP = 64 };
    double sf[MAXREP], sb[MAXREP], spent = 0;
    int k = 0;
    once(&c, &F, &tf, &tb); /* warm-up */
    while (k < MAXREP && (k < 3 || spent < p->budget_ms)) {
        once(&c, &F, &sf[k], &sb[k]);
        spent += sf[k] + sb[k];
        k++;
    }
    qsort(sf, (size_t)k, sizeof *sf, cmp);
    qsort(sb, (size_t)k, sizeof *sb, cmp);
    r->fwd = sf[k / 2], r->bwd = sb[k / 2];
}
