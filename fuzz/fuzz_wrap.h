/*
 * fuzz_wrap.h — the harness's typeless entry points of the later modules
 * (Elman, RTRL, init, spectral, flow, clip) for one precision, so that one
 * op body drives both through the api table of fuzz_main.c.  Included twice
 * by fuzz_main.c, with
 *
 *   FR          the real type (double, float)
 *   FW(name)    the wrapper's name (d_name, f_name)
 *   FL(name)    the library's name (bptt_name, bpttf_name)
 *   FEWS, FRT   the Elman workspace and RTRL state types
 *   FBLOCK      the clip block type
 *
 * Each wrapper only converts pointers (void * to FR *, an output handle
 * through a typed temporary, beta and alpha to FR) and calls the library.
 */

static bptt_status FW(el_size)(const void *el, size_t T, size_t B,
                               size_t *bytes)
{
    return FL(elman_workspace_size)(el, T, B, bytes);
}
static bptt_status FW(el_alloc)(const void *el, size_t T, size_t B, void **ws)
{
    FEWS *w = ws ? (FEWS *)*ws : NULL;
    bptt_status st = FL(elman_workspace_alloc)(el, T, B, ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static bptt_status FW(el_init)(const void *el, size_t T, size_t B, void *buf,
                               size_t bytes, void **ws)
{
    FEWS *w = ws ? (FEWS *)*ws : NULL;
    bptt_status st = FL(elman_workspace_init)(el, T, B, buf, bytes,
                                              ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static void FW(el_free)(void *ws) { FL(elman_workspace_free)(ws); }
static bptt_status FW(el_forward)(const bptt_elman *el, size_t T, size_t B,
                                  const void *W, size_t ldw, const void *bh,
                                  const void *Wo, size_t ldwo, const void *bo,
                                  const void *x, size_t ldx, const void *h0,
                                  size_t ldh0, const int *labels,
                                  const void *L, size_t ldl, double *E,
                                  void *h, size_t ldh, void *y, size_t ldy,
                                  bptt_algo algo, void *ws)
{
    return FL(elman_forward)(el, T, B, W, ldw, bh, Wo, ldwo, bo, x, ldx, h0,
                             ldh0, labels, L, ldl, E, h, ldh, y, ldy, algo,
                             ws);
}
static bptt_status FW(el_backward)(const bptt_elman *el, size_t T, size_t B,
                                   const void *W, size_t ldw, const void *Wo,
                                   size_t ldwo, const int *labels,
                                   const void *L, size_t ldl, double beta,
                                   void *dW, size_t lddw, void *dbh,
                                   void *dWo, size_t lddwo, void *dbo,
                                   void *dx, size_t lddx, void *dh0,
                                   size_t lddh0, bptt_algo algo, void *ws)
{
    return FL(elman_backward)(el, T, B, W, ldw, Wo, ldwo, labels, L, ldl,
                              (FR)beta, dW, lddw, dbh, dWo, lddwo, dbo, dx,
                              lddx, dh0, lddh0, algo, ws);
}

/* RTRL: the state's queries take (net, T, Bmax) like the workspaces' (T is
 * not used), so that one helper checks all three families. */
static bptt_status FW(rt_size)(const void *net, size_t T, size_t B,
                               size_t *bytes)
{
    (void)T;
    return FL(rtrl_size)(net, B, bytes);
}
static bptt_status FW(rt_alloc)(const void *net, size_t T, size_t B, void **st)
{
    (void)T;
    FRT *s = st ? (FRT *)*st : NULL;
    bptt_status ret = FL(rtrl_alloc)(net, B, st ? &s : NULL);
    if (st)
        *st = s;
    return ret;
}
static bptt_status FW(rt_init)(const void *net, size_t T, size_t B, void *buf,
                               size_t bytes, void **st)
{
    (void)T;
    FRT *s = st ? (FRT *)*st : NULL;
    bptt_status ret = FL(rtrl_init)(net, B, buf, bytes, st ? &s : NULL);
    if (st)
        *st = s;
    return ret;
}
static void FW(rt_free)(void *st) { FL(rtrl_free)(st); }
static bptt_status FW(rt_reset)(const bptt_net *net, size_t B, const void *y0,
                                size_t ldy0, void *st)
{
    return FL(rtrl_reset)(net, B, y0, ldy0, st);
}
static bptt_status FW(rt_advance)(const bptt_net *net, size_t B,
                                  const void *W, size_t ldw, const void *b,
                                  const void *x, size_t ldx, void *y,
                                  size_t ldy, bptt_rtrl_algo algo, void *st)
{
    return FL(rtrl_advance)(net, B, W, ldw, b, x, ldx, y, ldy, algo, st);
}
static bptt_status FW(rt_accumulate)(const bptt_net *net, size_t B,
                                     const void *dy, size_t lddy, double beta,
                                     void *dW, size_t lddw, void *db,
                                     bptt_rtrl_algo algo, void *st)
{
    return FL(rtrl_accumulate)(net, B, dy, lddy, (FR)beta, dW, lddw, db, algo,
                               st);
}
static bptt_status FW(rt_step)(const bptt_net *net, size_t B, const void *W,
                               size_t ldw, const void *b, const void *x,
                               size_t ldx, const void *target, size_t ldt,
                               const unsigned char *mask, void *y, size_t ldy,
                               double *loss, double beta, void *dW,
                               size_t lddw, void *db, bptt_rtrl_algo algo,
                               void *st)
{
    return FL(rtrl_step)(net, B, W, ldw, b, x, ldx, target, ldt, mask, y, ldy,
                         loss, (FR)beta, dW, lddw, db, algo, st);
}
static bptt_status FW(rt_sequence)(const bptt_net *net, size_t T, size_t B,
                                   const void *W, size_t ldw, const void *b,
                                   const void *x, size_t ldx, const void *y0,
                                   size_t ldy0, const void *target,
                                   size_t ldt, const unsigned char *mask,
                                   void *y, size_t ldy, double *loss,
                                   double beta, void *dW, size_t lddw,
                                   void *db, bptt_rtrl_algo algo, void *st)
{
    return FL(rtrl_sequence)(net, T, B, W, ldw, b, x, ldx, y0, ldy0, target,
                             ldt, mask, y, ldy, loss, (FR)beta, dW, lddw, db,
                             algo, st);
}

/* init */
static bptt_status FW(init_random)(size_t rows, size_t cols, bptt_dist dist,
                                   double sigma, uint64_t seed, void *W,
                                   size_t ldw)
{
    return FL(init_random)(rows, cols, dist, sigma, seed, W, ldw);
}
static bptt_status FW(init_glorot)(size_t rows, size_t cols, bptt_dist dist,
                                   double gain, uint64_t seed, void *W,
                                   size_t ldw)
{
    return FL(init_glorot)(rows, cols, dist, gain, seed, W, ldw);
}
static bptt_status FW(init_orthogonal)(size_t rows, size_t cols, double gain,
                                       uint64_t seed, void *W, size_t ldw)
{
    return FL(init_orthogonal)(rows, cols, gain, seed, W, ldw);
}
static bptt_status FW(init_rescale)(size_t n, double radius, void *Wy,
                                    size_t ldw, double *before)
{
    return FL(init_rescale_radius)(n, radius, Wy, ldw, before);
}

/* spectral diagnostics and error flow */
static bptt_status FW(radius)(size_t n, const void *A, size_t lda,
                              double *radius)
{
    return FL(spectral_radius)(n, A, lda, radius);
}
static bptt_status FW(norm)(size_t rows, size_t cols, const void *A,
                            size_t lda, double *norm)
{
    return FL(spectral_norm)(rows, cols, A, lda, norm);
}
static bptt_status FW(record_flow)(void *ws, double *gnorm, double *dnorm)
{
    return FL(workspace_record_flow)(ws, gnorm, dnorm);
}
static bptt_status FW(lag_profile)(const bptt_net *net, size_t T, size_t B,
                                   const void *W, size_t ldw, const void *dyT,
                                   size_t lddyT, double *gnorm, double *dnorm,
                                   void *ws)
{
    return FL(flow_lag_profile)(net, T, B, W, ldw, dyT, lddyT, gnorm, dnorm,
                                ws);
}

/* clip: the harness's blocks (gblock, void *a) become the library's; g NULL
 * stays NULL.  nblocks is at most MAXBLK (the harness never passes more
 * blocks than it has). */
static void FW(blocks)(size_t n, const gblock *g, FBLOCK *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (FBLOCK){g[i].rows, g[i].cols, g[i].a, g[i].ld};
}
static bptt_status FW(clip)(size_t n, const gblock *g, double max_norm,
                            double *norm, double *norms)
{
    FBLOCK b[MAXBLK];
    if (g)
        FW(blocks)(n, g, b);
    return FL(clip_global_norm)(n, g ? b : NULL, max_norm, norm, norms);
}
static bptt_status FW(sgd_clipped)(size_t n, double alpha, const gblock *dW,
                                   double max_norm, const gblock *W,
                                   double *norm, double *norms)
{
    FBLOCK bd[MAXBLK], bw[MAXBLK];
    if (dW)
        FW(blocks)(n, dW, bd);
    if (W)
        FW(blocks)(n, W, bw);
    return FL(sgd_step_clipped)(n, (FR)alpha, dW ? bd : NULL, max_norm,
                                W ? bw : NULL, norm, norms);
}
