#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double tu_uniform(tu_rng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(r->s >> 11) / 9007199254740992.0 * 2 - 1;
}

double *tu_random(size_t n, double scale, tu_rng *r)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = scale * tu_uniform(r);
    return a;
}

static double custom_f(double z, void *user)
{
    return *(double *)user * sin(z);
}

static double custom_df(double z, void *user)
{
    return *(double *)user * cos(z);
}

static double custom_gain = 0.75; /* proves the user pointer is passed */

bptt_net *tu_mixed_net(size_t din, size_t dout)
{
    static const bptt_activation cycle[6] = {
        BPTT_ACT_IDENTITY, BPTT_ACT_TANH,     BPTT_ACT_LOGISTIC,
        BPTT_ACT_RELU,     BPTT_ACT_SOFTPLUS, BPTT_ACT_CUSTOM};
    bptt_activation *act = malloc(dout * sizeof *act);
    for (size_t i = 0; i < dout; i++)
        act[i] = cycle[i % 6];
    bptt_custom_activation custom = {custom_f, custom_df, &custom_gain};
    bptt_net *net = NULL;
    if (bptt_net_create(din, dout, act, &custom, &net) != BPTT_OK)
        net = NULL;
    free(act);
    return net;
}

double tu_activation(bptt_activation act, double z, double *df)
{
    double f;
    switch (act) {
    case BPTT_ACT_TANH:
        f = tanh(z);
        *df = 1 - f * f;
        return f;
    case BPTT_ACT_LOGISTIC:
        f = 1 / (1 + exp(-z));
        *df = f * (1 - f);
        return f;
    case BPTT_ACT_RELU:
        *df = z > 0;
        return z > 0 ? z : 0;
    case BPTT_ACT_SOFTPLUS:
        *df = 1 / (1 + exp(-z));
        return log1p(exp(z));
    case BPTT_ACT_CUSTOM:
        *df = custom_df(z, &custom_gain);
        return custom_f(z, &custom_gain);
    default:
        *df = 1;
        return z;
    }
}

tu_problem *tu_problem_new(bptt_net *net, size_t T, size_t B, size_t pad,
                           int flags, unsigned long long seed)
{
    tu_problem *p = calloc(1, sizeof *p);
    tu_rng r = {seed};
    p->net = net;
    p->din = bptt_net_din(net);
    p->dout = bptt_net_dout(net);
    p->m = p->din + p->dout;
    p->T = T;
    p->B = B;
    p->pad = pad;
    p->ldw = p->m + pad;
    p->ldx = p->din + pad;
    p->ldy = p->dout + pad;
    p->ldy0 = p->dout + pad;
    /* Weights of about 1/sqrt(m) keep the units away from saturation. */
    p->W = tu_random(p->dout * p->ldw, 1.5 / sqrt((double)p->m), &r);
    p->b = flags & TU_BIAS ? tu_random(p->dout, 0.5, &r) : NULL;
    p->x = tu_random(T * B * p->ldx, 1.0, &r);
    p->y0 = flags & TU_Y0 ? tu_random(B * p->ldy0, 0.8, &r) : NULL;
    p->target = tu_random(T * B * p->ldy, 0.8, &r);
    if (flags & TU_MASK) {
        p->mask = malloc(T * B);
        for (size_t k = 0; k < T * B; k++)
            p->mask[k] = tu_uniform(&r) > -0.3; /* about 65% of steps */
        p->mask[T * B - 1] = 0; /* the last step without a target */
    }
    return p;
}

void tu_problem_free(tu_problem *p)
{
    if (!p)
        return;
    bptt_net_free(p->net);
    free(p->W);
    free(p->b);
    free(p->x);
    free(p->y0);
    free(p->target);
    free(p->mask);
    free(p);
}

bptt_status tu_gradients(const tu_problem *p, bptt_algo algo, tu_grads *g)
{
    return tu_gradients_threads(p, algo, 1, g);
}

bptt_status tu_gradients_threads(const tu_problem *p, bptt_algo algo,
                                 int nthreads, tu_grads *g)
{
    const size_t T = p->T, B = p->B;
    bptt_workspace *ws = NULL;
    bptt_status st = bptt_workspace_alloc(p->net, T, B, &ws);
    if (st == BPTT_OK && nthreads != 1)
        st = bptt_workspace_set_threads(ws, nthreads);
    if (st != BPTT_OK) {
        bptt_workspace_free(ws);
        return st;
    }
    g->y = calloc(T * B * p->ldy, sizeof(double));
    g->dW = calloc(p->dout * p->ldw, sizeof(double));
    g->db = calloc(p->dout, sizeof(double));
    g->dx = calloc(T * B * p->ldx, sizeof(double));
    g->dy0 = calloc(B * p->ldy0, sizeof(double));
    double *dy = calloc(T * B * p->ldy, sizeof(double));
    st = bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx, p->y0,
                      p->ldy0, g->y, p->ldy, algo, ws);
    if (st == BPTT_OK)
        st = bptt_loss_squared(T, B, p->dout, g->y, p->ldy, p->target, p->ldy,
                               p->mask, &g->loss, dy, p->ldy);
    if (st == BPTT_OK)
        st = bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0.0, g->dW,
                           p->ldw, g->db, g->dx, p->ldx, g->dy0, p->ldy0, algo,
                           ws);
    free(dy);
    bptt_workspace_free(ws);
    return st;
}

bptt_status tu_rtrl_gradients(const tu_problem *p, bptt_rtrl_algo algo,
                              size_t Bmax, tu_grads *g)
{
    const size_t T = p->T, B = p->B;
    bptt_rtrl *st = NULL;
    bptt_status s = bptt_rtrl_alloc(p->net, Bmax, &st);
    if (s != BPTT_OK)
        return s;
    g->y = calloc(T * B * p->ldy, sizeof(double));
    g->dW = calloc(p->dout * p->ldw, sizeof(double));
    g->db = calloc(p->dout, sizeof(double));
    s = bptt_rtrl_sequence(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx,
                           p->y0, p->ldy0, p->target, p->ldy, p->mask, g->y,
                           p->ldy, &g->loss, 0.0, g->dW, p->ldw, g->db, algo,
                           st);
    bptt_rtrl_free(st);
    return s;
}

void tu_grads_free(tu_grads *g)
{
    free(g->y);
    free(g->dW);
    free(g->db);
    free(g->dx);
    free(g->dy0);
    memset(g, 0, sizeof *g);
}

double tu_loss(const tu_problem *p)
{
    tu_grads g = {0};
    tu_gradients(p, BPTT_ALGO_NAIVE, &g);
    double loss = g.loss;
    tu_grads_free(&g);
    return loss;
}

double tu_loss_fn_problem(const void *problem)
{
    return tu_loss(problem);
}

double tu_fd_block(tu_loss_fn loss, const void *problem, double *a,
                   size_t rows, size_t cols, size_t ld, const double *grad,
                   size_t ldg)
{
    double *fd = calloc(rows * ld, sizeof *fd);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double *th = &a[i * ld + j], keep = *th;
            double h = TU_FD_STEP * fmax(1.0, fabs(keep));
            *th = keep + h;
            double lp = loss(problem);
            *th = keep - h;
            double lm = loss(problem);
            *th = keep;
            fd[i * ld + j] = (lp - lm) / (2 * h);
        }
    double e = tu_relerr(rows, cols, grad, ldg, fd, ld);
    free(fd);
    return e;
}

/* Set every block to a0 + step·v (a0: the saved copies). */
static void fd_move(const tu_fd_dir *b, size_t nb, double *const *a0,
                    double step)
{
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < b[k].rows; i++)
            for (size_t j = 0; j < b[k].cols; j++) {
                const size_t e = i * b[k].ld + j;
                b[k].a[e] = a0[k][e] + step * b[k].v[e];
            }
}

double tu_fd_direction(tu_loss_fn loss, const void *problem,
                       const tu_fd_dir *blocks, size_t nblocks, double *fd,
                       double *dot)
{
    double *a0[16], d = 0;
    if (nblocks > 16)
        abort(); /* more blocks than a network has */
    for (size_t k = 0; k < nblocks; k++) {
        const tu_fd_dir *b = &blocks[k];
        const size_t n = (b->rows - 1) * b->ld + b->cols;
        a0[k] = malloc(n * sizeof *a0[k]);
        memcpy(a0[k], b->a, n * sizeof *a0[k]);
        for (size_t i = 0; i < b->rows; i++)
            for (size_t j = 0; j < b->cols; j++)
                d += b->grad[i * b->ld + j] * b->v[i * b->ld + j];
    }
    const double h = TU_FD_STEP;
    fd_move(blocks, nblocks, a0, h);
    const double lp = loss(problem);
    fd_move(blocks, nblocks, a0, -h);
    const double lm = loss(problem);
    for (size_t k = 0; k < nblocks; k++) {
        const tu_fd_dir *b = &blocks[k];
        memcpy(b->a, a0[k], ((b->rows - 1) * b->ld + b->cols) * sizeof *a0[k]);
        free(a0[k]);
    }
    const double f = (lp - lm) / (2 * h);
    if (fd)
        *fd = f;
    if (dot)
        *dot = d;
    return fabs(f - d) / fabs(d);
}

double tu_relerr(size_t rows, size_t cols, const double *a, size_t lda,
                 const double *b, size_t ldb)
{
    double diff = 0, ref = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double d = fabs(a[i * lda + j] - b[i * ldb + j]);
            if (!(d <= diff)) /* NaN propagates as a failure */
                diff = d;
            if (fabs(b[i * ldb + j]) > ref)
                ref = fabs(b[i * ldb + j]);
        }
    return ref > 0 ? diff / ref : diff;
}

float *tu_to_float(const double *a, size_t n)
{
    if (!a)
        return NULL;
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)a[i];
    return f;
}

void tu_from_float(const float *f, size_t n, double *a)
{
    for (size_t i = 0; i < n; i++)
        a[i] = f[i];
}

void tu_snap_add(tu_snap *s, const void *p, size_t bytes)
{
    if (!p)
        return;
    if (s->n == 16)
        abort(); /* a test adds more buffers than tu_snap holds */
    s->p[s->n] = p;
    s->bytes[s->n] = bytes;
    s->copy[s->n] = malloc(bytes ? bytes : 1);
    memcpy(s->copy[s->n], p, bytes);
    s->n++;
}

void tu_snap_retake(tu_snap *s)
{
    for (int i = 0; i < s->n; i++)
        memcpy(s->copy[i], s->p[i], s->bytes[i]);
}

int tu_snap_changed(const tu_snap *s)
{
    for (int i = 0; i < s->n; i++)
        if (memcmp(s->copy[i], s->p[i], s->bytes[i]) != 0)
            return i;
    return -1;
}

void tu_snap_free(tu_snap *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->copy[i]);
    s->n = 0;
}

void tu_assert_unwritten(const tu_snap *s, const char *what)
{
    const int changed = tu_snap_changed(s);
    ck_assert_msg(changed < 0, "%s: wrote buffer %d of the snapshot", what,
                  changed);
}

void tu_assert_refused(bptt_status got, bptt_status want, const tu_snap *s,
                       const char *what)
{
    ck_assert_msg(got == want, "%s: status %d (%s), want %d (%s)", what,
                  (int)got, bptt_strerror(got), (int)want,
                  bptt_strerror(want));
    ck_assert_msg(bptt_error_detail()[0] != '\0', "%s: no detail", what);
    if (s)
        tu_assert_unwritten(s, what);
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
