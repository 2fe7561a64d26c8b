/*
 * onednn_rnn.c — the oneDNN peer of bptt-bench: Network A with tanh units
 * as oneDNN's vanilla RNN primitive (2.6, C API), forward_training then
 * backward, f32 only, on the data of a peer input file (protocol.h).
 *
 *     usage: bptt-peer-onednn INPUT OUTPUT
 *
 * oneDNN computes h(t) = tanh(W_layer·x(t) + W_iter·h(t-1) + bias) with
 * weights in "ldigo" order, element [i][o] acting from input i to unit o:
 * W_layer = Wxᵀ and W_iter = Wyᵀ of our W = [Wx | Wy].  The bias is an
 * explicit zero: 2.6 has no implementation with a NULL bias ("unimplemented"
 * at primitive creation), so the backward also computes a diff_bias, a sum
 * of T·B·dout deltas the flop count ignores.
 *
 * Two traps of oneDNN 2.6, both caught by the check against bptt's naive
 * form (peer_check.c):
 *   - the backward ADDS into diff_weights, so they are zeroed before every
 *     repetition (outside the timed region);
 *   - with a NULL initial state (src_iter) diff_weights_iter comes out
 *     wrong, so an explicit zero src_iter is passed (and therefore a
 *     diff_src_iter, which the API requires with it).
 * Weights and weight gradients use the layouts the primitives choose
 * ("any"); the reorders from and to ldigo are done outside the timed
 * region.  Only the primitive executions and stream waits are timed.
 */
#define _POSIX_C_SOURCE 200809L
#include "protocol.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "onednn: %s: %s\n", what, why);
    exit(PEER_EXIT_FAILED);
}

#define DNNL(call)                                                            \
    do {                                                                      \
        dnnl_status_t st_ = (call);                                           \
        if (st_ != dnnl_success)                                              \
            fail(#call, dnnl_status2str(st_));                                \
    } while (0)

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        fail("malloc", "out of memory");
    return p;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The primitives' engine and stream. */
typedef struct ctx {
    dnnl_engine_t eng;
    dnnl_stream_t s;
} ctx;

static dnnl_memory_desc_t md_of(int nd, const dnnl_dims_t dims,
                                dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t md;
    DNNL(dnnl_memory_desc_init_by_tag(&md, nd, dims, dnnl_f32, tag));
    return md;
}

/* A memory object over the caller's buffer, or one oneDNN allocates
 * (buf NULL). */
static dnnl_memory_t mem_of(const ctx *c, const dnnl_memory_desc_t *md,
                            void *buf)
{
    dnnl_memory_t m;
    DNNL(dnnl_memory_create(&m, md, c->eng, buf ? buf : DNNL_MEMORY_ALLOCATE));
    return m;
}

static void run(const ctx *c, dnnl_primitive_t p, int nargs,
                const dnnl_exec_arg_t *args)
{
    DNNL(dnnl_primitive_execute(p, c->s, nargs, args));
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
    const dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    run(c, p, 2, args);
    DNNL(dnnl_primitive_destroy(p));
    DNNL(dnnl_primitive_desc_destroy(pd));
}

/* The memory a primitive wants for argument `what` (index idx): the user's
 * memory itself if the layouts agree, else a new one filled by a reorder
 * from it (copy_in) or left for a reorder back after the run. */
static dnnl_memory_t as_wanted(const ctx *c, const_dnnl_primitive_desc_t pd,
                               dnnl_query_t what, int idx, dnnl_memory_t user,
                               int copy_in)
{
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, what,
                                                                  idx);
    const dnnl_memory_desc_t *have;
    DNNL(dnnl_memory_get_memory_desc(user, &have));
    if (!want)
        fail("dnnl_primitive_desc_query_md", "no such argument");
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

static FILE *open_or_die(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        fprintf(stderr, "onednn: cannot open %s\n", path);
        exit(PEER_EXIT_FAILED);
    }
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
        return PEER_EXIT_USAGE;
    }
    char err[256];
    peer_header h;
    FILE *in = open_or_die(argv[1], "rb");
    if (peer_header_read(in, 0, &h, err, sizeof err))
        fail(argv[1], err);
    if (h.precision != 4) {
        fprintf(stderr, "onednn: precision %u unsupported: oneDNN's RNN "
                "primitive is f32 only\n", (unsigned)h.precision);
        return PEER_EXIT_UNSUPPORTED;
    }
#ifdef _OPENMP
    /* oneDNN's Debian build runs on OpenMP; the harness also sets
     * OMP_NUM_THREADS in our environment. */
    omp_set_num_threads(h.threads ? (int)h.threads : 1);
#endif
    const size_t din = h.din, dout = h.dout, m = din + dout;
    const size_t nw = peer_count_w(&h), nx = peer_count_x(&h),
                 ny = peer_count_y(&h);
    float *W = xmalloc(nw * 4), *x = xmalloc(nx * 4), *dy = xmalloc(ny * 4);
    if (peer_array_read(in, W, 4, nw) || peer_array_read(in, x, 4, nx)
        || peer_array_read(in, dy, 4, ny))
        fail(argv[1], "truncated arrays");
    fclose(in);

    /* ldigo user layouts: wl[i][o] = Wx[o][i], wi[j][o] = Wy[o][j]. */
    float *wl = xmalloc(din * dout * 4), *wi = xmalloc(dout * dout * 4);
    for (size_t o = 0; o < dout; o++) {
        for (size_t i = 0; i < din; i++)
            wl[i * dout + o] = W[o * m + i];
        for (size_t j = 0; j < dout; j++)
            wi[j * dout + o] = W[o * m + din + j];
    }
    float *y = xmalloc(ny * 4), *dx = xmalloc(nx * 4);
    float *dwl = xmalloc(din * dout * 4), *dwi = xmalloc(dout * dout * 4);
    float *h0 = calloc(h.B * dout, 4), *dh0 = xmalloc(h.B * dout * 4);
    float *bias = calloc(dout, 4), *dbias = xmalloc(dout * 4);
    if (!h0 || !bias)
        fail("calloc", "out of memory");

    ctx c;
    DNNL(dnnl_engine_create(&c.eng, dnnl_cpu, 0));
    DNNL(dnnl_stream_create(&c.s, c.eng, dnnl_stream_default_flags));

    const dnnl_dim_t T = (dnnl_dim_t)h.T, B = (dnnl_dim_t)h.B,
                     I = (dnnl_dim_t)din, O = (dnnl_dim_t)dout;
    const dnnl_dims_t d_src = {T, B, I}, d_dst = {T, B, O},
                      d_iter = {1, 1, B, O}, d_wl = {1, 1, I, 1, O},
                      d_wi = {1, 1, O, 1, O}, d_b = {1, 1, 1, O};
    const dnnl_memory_desc_t src_md = md_of(3, d_src, dnnl_tnc),
                             dst_md = md_of(3, d_dst, dnnl_tnc),
                             iter_md = md_of(4, d_iter, dnnl_ldnc),
                             wl_md = md_of(5, d_wl, dnnl_ldigo),
                             wi_md = md_of(5, d_wi, dnnl_ldigo),
                             b_md = md_of(4, d_b, dnnl_ldgo),
                             wl_any = md_of(5, d_wl, dnnl_format_tag_any),
                             wi_any = md_of(5, d_wi, dnnl_format_tag_any);

    /* Forward, training: keeps in its workspace what backward needs. */
    dnnl_rnn_desc_t fd, bd;
    DNNL(dnnl_vanilla_rnn_forward_desc_init(&fd, dnnl_forward_training,
        dnnl_eltwise_tanh, dnnl_unidirectional_left2right, &src_md, &iter_md,
        &wl_any, &wi_any, &b_md, &dst_md, NULL, dnnl_rnn_flags_undef, 0, 0));
    dnnl_primitive_desc_t fpd, bpd;
    DNNL(dnnl_primitive_desc_create(&fpd, &fd, NULL, c.eng, NULL));
    DNNL(dnnl_vanilla_rnn_backward_desc_init(&bd, dnnl_backward,
        dnnl_eltwise_tanh, dnnl_unidirectional_left2right, &src_md, &iter_md,
        &wl_any, &wi_any, &b_md, &dst_md, NULL, &src_md, &iter_md, &wl_any,
        &wi_any, &b_md, &dst_md, NULL, dnnl_rnn_flags_undef, 0, 0));
    DNNL(dnnl_primitive_desc_create(&bpd, &bd, NULL, c.eng, fpd));

    dnnl_memory_t m_x = mem_of(&c, &src_md, x), m_y = mem_of(&c, &dst_md, y),
                  m_h0 = mem_of(&c, &iter_md, h0),
                  m_dh0 = mem_of(&c, &iter_md, dh0),
                  m_dy = mem_of(&c, &dst_md, dy), m_dx = mem_of(&c, &src_md, dx),
                  m_wl = mem_of(&c, &wl_md, wl), m_wi = mem_of(&c, &wi_md, wi),
                  m_dwl = mem_of(&c, &wl_md, dwl),
                  m_dwi = mem_of(&c, &wi_md, dwi),
                  m_b = mem_of(&c, &b_md, bias), m_db = mem_of(&c, &b_md, dbias);
    dnnl_memory_t f_wl = as_wanted(&c, fpd, dnnl_query_weights_md, 0, m_wl, 1),
                  f_wi = as_wanted(&c, fpd, dnnl_query_weights_md, 1, m_wi, 1),
                  b_wl = as_wanted(&c, bpd, dnnl_query_weights_md, 0, m_wl, 1),
                  b_wi = as_wanted(&c, bpd, dnnl_query_weights_md, 1, m_wi, 1),
                  b_dwl = as_wanted(&c, bpd, dnnl_query_diff_weights_md, 0,
                                    m_dwl, 0),
                  b_dwi = as_wanted(&c, bpd, dnnl_query_diff_weights_md, 1,
                                    m_dwi, 0);
    dnnl_memory_t m_ws = mem_of(&c,
        dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0), NULL);

    dnnl_primitive_t fwd, bwd;
    DNNL(dnnl_primitive_create(&fwd, fpd));
    DNNL(dnnl_primitive_create(&bwd, bpd));
    const dnnl_exec_arg_t fargs[] = {
        {DNNL_ARG_SRC_LAYER, m_x},       {DNNL_ARG_SRC_ITER, m_h0},
        {DNNL_ARG_WEIGHTS_LAYER, f_wl},  {DNNL_ARG_WEIGHTS_ITER, f_wi},
        {DNNL_ARG_BIAS, m_b},
        {DNNL_ARG_DST_LAYER, m_y},       {DNNL_ARG_WORKSPACE, m_ws},
    };
    const dnnl_exec_arg_t bargs[] = {
        {DNNL_ARG_SRC_LAYER, m_x},       {DNNL_ARG_SRC_ITER, m_h0},
        {DNNL_ARG_WEIGHTS_LAYER, b_wl},  {DNNL_ARG_WEIGHTS_ITER, b_wi},
        {DNNL_ARG_BIAS, m_b},
        {DNNL_ARG_DST_LAYER, m_y},       {DNNL_ARG_WORKSPACE, m_ws},
        {DNNL_ARG_DIFF_DST_LAYER, m_dy}, {DNNL_ARG_DIFF_SRC_LAYER, m_dx},
        {DNNL_ARG_DIFF_SRC_ITER, m_dh0},
        {DNNL_ARG_DIFF_WEIGHTS_LAYER, b_dwl},
        {DNNL_ARG_DIFF_WEIGHTS_ITER, b_dwi}, {DNNL_ARG_DIFF_BIAS, m_db},
    };
    const int nf = (int)(sizeof fargs / sizeof *fargs),
              nb = (int)(sizeof bargs / sizeof *bargs);

    double *samples = xmalloc(3 * h.cap * sizeof *samples);
    double *tf = samples, *tb = samples + h.cap, *tfb = samples + 2 * h.cap;
    size_t reps = 0;
    double spent = 0;
    for (uint64_t r = 0; reps < h.cap; r++) {
        zero(b_dwl); /* the backward accumulates into these (see top) */
        zero(b_dwi);
        zero(m_db);
        const double t0 = now_ms();
        run(&c, fwd, nf, fargs);
        const double t1 = now_ms();
        run(&c, bwd, nb, bargs);
        const double t2 = now_ms();
        if (r < h.warmup)
            continue;
        tf[reps] = t1 - t0;
        tb[reps] = t2 - t1;
        tfb[reps] = t2 - t0;
        spent += tfb[reps++];
        /* as bench/timing.h: 5 samples while they fit in 10 budgets */
        if (spent >= h.budget_ms && (reps >= 5 || spent >= 10 * h.budget_ms))
            break;
    }

    if (b_dwl != m_dwl)
        reorder(&c, b_dwl, m_dwl);
    if (b_dwi != m_dwi)
        reorder(&c, b_dwi, m_dwi);
    float *dW = xmalloc(nw * 4);
    for (size_t o = 0; o < dout; o++) {
        for (size_t i = 0; i < din; i++)
            dW[o * m + i] = dwl[i * dout + o];
        for (size_t j = 0; j < dout; j++)
            dW[o * m + din + j] = dwi[j * dout + o];
    }

    const dnnl_version_t *v = dnnl_version();
    h.reps = reps;
    snprintf(h.name, sizeof h.name, "oneDNN %d.%d.%d", v->major, v->minor,
             v->patch);
    double sum[9], *scratch = xmalloc(reps * sizeof *scratch);
    peer_summary(tf, reps, scratch, sum);
    peer_summary(tb, reps, scratch, sum + 3);
    peer_summary(tfb, reps, scratch, sum + 6);
    FILE *out = open_or_die(argv[2], "wb");
    if (peer_header_write(out, 1, &h) || peer_array_write(out, y, 4, ny)
        || peer_array_write(out, dW, 4, nw) || peer_array_write(out, dx, 4, nx)
        || peer_array_write(out, sum, 8, 9)
        || peer_array_write(out, tf, 8, reps)
        || peer_array_write(out, tb, 8, reps)
        || peer_array_write(out, tfb, 8, reps) || fclose(out))
        fail(argv[2], "write failed");
    /* The process ends here: the OS reclaims the memory and oneDNN
     * objects. */
    return PEER_EXIT_OK;
}
