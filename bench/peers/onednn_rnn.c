/*
 * onednn_rnn.c — the oneDNN peer of bptt-bench: Network A with tanh units
 * as oneDNN's vanilla RNN primitive, the LSTM cell as its LSTM primitive and
 * the GRU cell as its lbr_gru primitive (2.6, C API), forward_training then
 * backward, f32 only, on the data of a peer input file (protocol.h).
 *
 *     usage: bptt-peer-onednn INPUT OUTPUT
 *
 * oneDNN computes h(t) = tanh(W_layer·x(t) + W_iter·h(t-1) + bias) with
 * weights in "ldigo" order, element [i][g][o] acting from input i on unit o
 * of gate g: W_layer = Wxᵀ and W_iter = Wyᵀ of our W = [Wx | Wy] (one
 * gate), and for a gated cell W[g·n + o][i] of bptt's W (and U).  Network
 * A's bias is an explicit zero: 2.6 has no implementation with a NULL bias
 * ("unimplemented" at primitive creation), so the backward also computes a
 * diff_bias, a sum of T·B·dout deltas the flop count ignores.
 *
 * The gated cells' gates: LSTM i, f, c̃, o in both libraries, one bias
 * bx + bh.  lbr_gru orders its gates u, r, o (update, reset, new), bptt r,
 * z, n; its bias has four blocks: b_u, b_r, b_o (input side plus, for u and
 * r, the recurrent side) and the recurrent-side bias of the new gate inside
 * the reset product (docs/gated.md (G13)).
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

/* bptt's gate of oneDNN's gate gd: lbr_gru's u, r, o are bptt's z, r, n. */
static size_t perm(uint32_t cell, size_t gd)
{
    static const size_t gru[3] = {1, 0, 2};
    return cell == 2 ? gru[gd] : gd;
}

/* The primitives of one case with their arguments, and where the weight
 * gradients land. */
typedef struct prims {
    dnnl_primitive_t fwd, bwd;
    dnnl_exec_arg_t fa[16], ba[24];
    int nf, nb;
    dnnl_memory_t b_dwl, b_dwi, m_dwl, m_dwi, m_db;
    float *dwl, *dwi; /* ldigo user layouts of the weight gradients */
} prims;

/* The forward_training and backward descriptors of the cell. */
static void descs(uint32_t cell, dnnl_rnn_desc_t *fd, dnnl_rnn_desc_t *bd,
                  const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *it,
                  const dnnl_memory_desc_t *wl, const dnnl_memory_desc_t *wi,
                  const dnnl_memory_desc_t *b, const dnnl_memory_desc_t *dst)
{
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;
    if (cell == 0) {
        DNNL(dnnl_vanilla_rnn_forward_desc_init(fd, dnnl_forward_training,
            dnnl_eltwise_tanh, dir, src, it, wl, wi, b, dst, NULL,
            dnnl_rnn_flags_undef, 0, 0));
        DNNL(dnnl_vanilla_rnn_backward_desc_init(bd, dnnl_backward,
            dnnl_eltwise_tanh, dir, src, it, wl, wi, b, dst, NULL, src, it,
            wl, wi, b, dst, NULL, dnnl_rnn_flags_undef, 0, 0));
    } else if (cell == 1) {
        DNNL(dnnl_lstm_forward_desc_init(fd, dnnl_forward_training, dir, src,
                                         it, it, wl, wi, b, dst, NULL, NULL,
                                         0));
        DNNL(dnnl_lstm_backward_desc_init(bd, dnnl_backward, dir, src, it, it,
                                          wl, wi, b, dst, NULL, NULL, src, it,
                                          it, wl, wi, b, dst, NULL, NULL, 0));
    } else {
        DNNL(dnnl_lbr_gru_forward_desc_init(fd, dnnl_forward_training, dir,
                                            src, it, wl, wi, b, dst, NULL, 0));
        DNNL(dnnl_lbr_gru_backward_desc_init(bd, dnnl_backward, dir, src, it,
                                             wl, wi, b, dst, NULL, src, it, wl,
                                             wi, b, dst, NULL, 0));
    }
}

/* Set up the primitives for the case of h on W ([Wx | Wy] or [W | U]), b
 * (2 x G·dout: bx, bh; NULL for Network A: a zero bias), x, dy, writing
 * the output y and dx.  The initial states are explicit zeros (see top);
 * memories live until the process ends. */
static void setup(const ctx *c, const peer_header *h, const float *W,
                  const float *b, float *x, float *dy, float *y, float *dx,
                  prims *P)
{
    const uint32_t cell = h->cell;
    const size_t G = peer_gates(h), n = h->dout, din = h->din, m = din + n;
    const size_t GB = cell == 0 ? 1 : 4; /* bias blocks: lbr_gru has G + 1 */
    float *wl = xmalloc(din * G * n * 4), *wi = xmalloc(n * G * n * 4);
    float *bias = calloc(GB * n, 4), *db = xmalloc(GB * n * 4);
    float *h0 = calloc(h->B * n, 4), *c0 = calloc(h->B * n, 4);
    float *dh0 = xmalloc(h->B * n * 4), *dc0 = xmalloc(h->B * n * 4);
    if (!bias || !h0 || !c0)
        fail("calloc", "out of memory");
    for (size_t gd = 0; gd < G; gd++) {
        const size_t g = perm(cell, gd);
        for (size_t o = 0; o < n; o++) {
            const float *row = W + (g * n + o) * m;
            for (size_t i = 0; i < din; i++)
                wl[(i * G + gd) * n + o] = row[i];
            for (size_t j = 0; j < n; j++)
                wi[(j * G + gd) * n + o] = row[din + j];
            /* LSTM and lbr_gru's u, r: bx + bh; the new gate: bx only */
            if (b)
                bias[gd * n + o] = b[g * n + o]
                    + (cell == 1 || gd < 2 ? b[G * n + g * n + o] : 0);
        }
    }
    if (cell == 2)
        for (size_t o = 0; o < n; o++)
            bias[3 * n + o] = b[G * n + 2 * n + o];
    P->dwl = xmalloc(din * G * n * 4);
    P->dwi = xmalloc(n * G * n * 4);

    const dnnl_dim_t T = (dnnl_dim_t)h->T, B = (dnnl_dim_t)h->B,
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
    descs(cell, &fd, &bd, &src, &it, &wl_any, &wi_any, &b_md, &dst);
    dnnl_primitive_desc_t fpd, bpd;
    DNNL(dnnl_primitive_desc_create(&fpd, &fd, NULL, c->eng, NULL));
    DNNL(dnnl_primitive_desc_create(&bpd, &bd, NULL, c->eng, fpd));
    dnnl_memory_t m_x = mem_of(c, &src, x), m_y = mem_of(c, &dst, y),
                  m_dy = mem_of(c, &dst, dy), m_dx = mem_of(c, &src, dx),
                  m_h0 = mem_of(c, &it, h0), m_c0 = mem_of(c, &it, c0),
                  m_dh0 = mem_of(c, &it, dh0), m_dc0 = mem_of(c, &it, dc0),
                  m_wl = mem_of(c, &wl_md, wl), m_wi = mem_of(c, &wi_md, wi),
                  m_b = mem_of(c, &b_md, bias);
    P->m_dwl = mem_of(c, &wl_md, P->dwl);
    P->m_dwi = mem_of(c, &wi_md, P->dwi);
    P->m_db = mem_of(c, &b_md, db);
    dnnl_memory_t f_wl = as_wanted(c, fpd, dnnl_query_weights_md, 0, m_wl, 1),
                  f_wi = as_wanted(c, fpd, dnnl_query_weights_md, 1, m_wi, 1),
                  b_wl = as_wanted(c, bpd, dnnl_query_weights_md, 0, m_wl, 1),
                  b_wi = as_wanted(c, bpd, dnnl_query_weights_md, 1, m_wi, 1);
    P->b_dwl = as_wanted(c, bpd, dnnl_query_diff_weights_md, 0, P->m_dwl, 0);
    P->b_dwi = as_wanted(c, bpd, dnnl_query_diff_weights_md, 1, P->m_dwi, 0);
    dnnl_memory_t m_ws = mem_of(
        c, dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0),
        NULL);
    DNNL(dnnl_primitive_create(&P->fwd, fpd));
    DNNL(dnnl_primitive_create(&P->bwd, bpd));
    const int lstm = cell == 1;
    int k = 0;
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_LAYER, m_x};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER, m_h0};
    if (lstm)
        P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER_C, m_c0};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_LAYER, f_wl};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_ITER, f_wi};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, m_b};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_DST_LAYER, m_y};
    P->fa[k++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, m_ws};
    P->nf = k;
    k = 0;
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_LAYER, m_x};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER, m_h0};
    if (lstm)
        P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_ITER_C, m_c0};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_LAYER, b_wl};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS_ITER, b_wi};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, m_b};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DST_LAYER, m_y};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, m_ws};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST_LAYER, m_dy};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_LAYER, m_dx};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_ITER, m_dh0};
    if (lstm)
        P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC_ITER_C, m_dc0};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS_LAYER, P->b_dwl};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS_ITER, P->b_dwi};
    P->ba[k++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, P->m_db};
    P->nb = k;
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
                "primitives are f32 only\n", (unsigned)h.precision);
        return PEER_EXIT_UNSUPPORTED;
    }
#ifdef _OPENMP
    /* oneDNN's Debian build runs on OpenMP: exactly the harness's thread
     * count (it also sets OMP_NUM_THREADS in our environment), so that a
     * "1 thread" case does not give oneDNN every core. */
    omp_set_num_threads(h.threads ? (int)h.threads : 1);
#endif
    const size_t din = h.din, n = h.dout, m = din + n, G = peer_gates(&h);
    const size_t nw = peer_count_w(&h), nb = peer_count_b(&h),
                 nx = peer_count_x(&h), ny = peer_count_y(&h);
    float *W = xmalloc(nw * 4), *b = nb ? xmalloc(nb * 4) : NULL,
          *x = xmalloc(nx * 4), *dy = xmalloc(ny * 4);
    if (peer_array_read(in, W, 4, nw) || peer_array_read(in, b, 4, nb)
        || peer_array_read(in, x, 4, nx) || peer_array_read(in, dy, 4, ny))
        fail(argv[1], "truncated arrays");
    fclose(in);

    ctx c;
    DNNL(dnnl_engine_create(&c.eng, dnnl_cpu, 0));
    DNNL(dnnl_stream_create(&c.s, c.eng, dnnl_stream_default_flags));
    float *y = xmalloc(ny * 4), *dx = xmalloc(nx * 4);
    prims P;
    setup(&c, &h, W, b, x, dy, y, dx, &P);

    double *samples = xmalloc(3 * h.cap * sizeof *samples);
    double *tf = samples, *tb = samples + h.cap, *tfb = samples + 2 * h.cap;
    size_t reps = 0;
    double spent = 0;
    for (uint64_t r = 0; reps < h.cap; r++) {
        zero(P.b_dwl); /* the backward accumulates into these (see top) */
        zero(P.b_dwi);
        zero(P.m_db);
        const double t0 = now_ms();
        run(&c, P.fwd, P.nf, P.fa);
        const double t1 = now_ms();
        run(&c, P.bwd, P.nb, P.ba);
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

    if (P.b_dwl != P.m_dwl)
        reorder(&c, P.b_dwl, P.m_dwl);
    if (P.b_dwi != P.m_dwi)
        reorder(&c, P.b_dwi, P.m_dwi);
    float *dW = xmalloc(nw * 4); /* back to bptt's rows and gate order */
    for (size_t gd = 0; gd < G; gd++) {
        const size_t g = perm(h.cell, gd);
        for (size_t o = 0; o < n; o++) {
            float *row = dW + (g * n + o) * m;
            for (size_t i = 0; i < din; i++)
                row[i] = P.dwl[(i * G + gd) * n + o];
            for (size_t j = 0; j < n; j++)
                row[din + j] = P.dwi[(j * G + gd) * n + o];
        }
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
