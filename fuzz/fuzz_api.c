/*
 * fuzz_api.c — a libFuzzer harness that drives bptt's public API from
 * bytes.  The first byte picks an operation from ops[] (the table at the
 * end); the remaining bytes are that operation's arguments: sizes, leading
 * dimensions, activation codes, algorithm codes, T and B against the
 * workspace's capacity, NULL pointers, and values that are bounded or
 * hostile (NaN, ±Inf, the largest finite, denormal, -0).
 *
 * Every operation asserts, and aborts with the reason on stderr (which
 * libFuzzer reports as a crash) when an assertion fails:
 *   - a call the harness knows to be invalid is rejected with a status that
 *     one of its faults allows, a detail naming the called function, and
 *     every array it was given — inputs, outputs, the workspace's buffer —
 *     bytewise unchanged;
 *   - a valid call is accepted and leaves its inputs and the padding of its
 *     outputs (between a row's end and the leading dimension) unchanged;
 *   - on finite, bounded inputs the outputs are finite and equal, to a
 *     stated tolerance, to those of the naive algorithm (forward, backward)
 *     or of the harness's own loop (workspace size, loss, SGD);
 *   - with the non-finite check on, a NaN or ±Inf input gives
 *     BPTT_ENONFINITE with nothing written, and an accepted call's results
 *     are finite.
 * Built with -fsanitize=fuzzer,address,undefined, so a memory error or
 * undefined behaviour anywhere is a crash too.  fuzz/README.md says how to
 * build, run and extend it (one op function per module).
 */
#include <bptt.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Failing, reading bytes, tracking buffers                                  */
/* ------------------------------------------------------------------------ */

#define BPTT_FUZZ_PRINTF __attribute__((format(printf, 1, 2)))

#define REQUIRE(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            fail(__LINE__, #cond, __VA_ARGS__);                                \
    } while (0)

static void fail(int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_api.c:%d: REQUIRE(%s) failed: ", line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  last bptt_error_detail(): \"%s\"\n",
            bptt_error_detail());
    abort();
}

/* FUZZ_TRACE=1 in the environment prints each call's arguments (to
 * understand a reproducer: fuzz_api crash-...). */
static void trace(const char *fmt, ...) BPTT_FUZZ_PRINTF;
static void trace(const char *fmt, ...)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_TRACE") != NULL;
    if (!on)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* FUZZ_STATS=1 prints at exit how often each outcome was reached, to see
 * what a corpus exercises: fuzz_api -runs=0 fuzz/corpus. */
enum hit {
    H_FWD_REJECTED, H_FWD_NONFINITE_IN, H_FWD_ACCEPTED, H_FWD_NONFINITE_OUT,
    H_FWD_COMPARED, H_BWD_REJECTED, H_BWD_NONFINITE_IN, H_BWD_ACCEPTED,
    H_BWD_NONFINITE_OUT, H_BWD_COMPARED, H_BWD_KINK, H_OTHER_REJECTED,
    H_OTHER_CHECKED, NHIT
};
static const char *const hit_name[NHIT] = {
    "forward rejected", "forward NaN/Inf input refused", "forward accepted",
    "forward NaN/Inf result reported", "forward compared with naive",
    "backward rejected", "backward NaN/Inf input refused",
    "backward accepted", "backward NaN/Inf result reported",
    "backward compared with naive", "backward not compared (ReLU kink)",
    "other calls rejected", "other calls checked against the harness",
};
static unsigned long hits[NHIT];
#define HIT(h) (hits[h]++)

static void print_hits(void)
{
    for (int i = 0; i < NHIT; i++)
        fprintf(stderr, "fuzz_api: %-40s %lu\n", hit_name[i], hits[i]);
}

/* The operation's argument bytes; past the end every byte reads as 0. */
typedef struct bytes {
    const uint8_t *p;
    size_t n;
} bytes;

static unsigned u8(bytes *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* Every buffer a call is given, so that one snapshot and one comparison
 * prove that a rejected call wrote nothing.  Buffers are malloc'd at their
 * exact size, so ASan catches any access past them. */
enum { MAXBUF = 48 };
typedef struct arena {
    unsigned char *p[MAXBUF], *snap[MAXBUF];
    size_t n[MAXBUF];
    int k;
} arena;

static void *arena_new(arena *a, size_t n)
{
    REQUIRE(a->k < MAXBUF, "arena full");
    a->p[a->k] = malloc(n ? n : 1);
    a->snap[a->k] = malloc(n ? n : 1);
    a->n[a->k] = n;
    REQUIRE(a->p[a->k] && a->snap[a->k], "malloc(%zu)", n);
    memset(a->p[a->k], 0x5A, n);
    return a->p[a->k++];
}

static void arena_snapshot(arena *a)
{
    for (int i = 0; i < a->k; i++)
        memcpy(a->snap[i], a->p[i], a->n[i]);
}

/* The index of the first buffer that differs from the snapshot, or -1;
 * skip (NULL or a buffer) is not compared. */
static int arena_changed(const arena *a, const void *skip1, const void *skip2)
{
    for (int i = 0; i < a->k; i++)
        if (a->p[i] != skip1 && a->p[i] != skip2 &&
            memcmp(a->snap[i], a->p[i], a->n[i]) != 0)
            return i;
    return -1;
}

static const unsigned char *arena_snap_of(const arena *a, const void *p)
{
    for (int i = 0; i < a->k; i++)
        if (a->p[i] == p)
            return a->snap[i];
    return NULL;
}

static void arena_free(arena *a)
{
    for (int i = 0; i < a->k; i++) {
        free(a->p[i]);
        free(a->snap[i]);
    }
    a->k = 0;
}

/* Leave a known detail, so that a rejected call is seen to set its own. */
static void mark_detail(void)
{
    REQUIRE(bptt_workspace_check_finite(NULL, 0) == BPTT_ENULL, "marker");
}

/* A rejected call: status allowed by the faults, own detail, nothing
 * written. */
static void require_rejected(bptt_status st, unsigned allowed, const char *fn,
                             const arena *a)
{
    REQUIRE(st != BPTT_OK && (unsigned)st < BPTT_NSTATUS &&
                (allowed >> st & 1u),
            "%s: status %d (%s), allowed mask 0x%x", fn, (int)st,
            bptt_strerror(st), allowed);
    REQUIRE(strncmp(bptt_error_detail(), fn, strlen(fn)) == 0,
            "%s: detail \"%s\" does not name the function", fn,
            bptt_error_detail());
    int i = arena_changed(a, NULL, NULL);
    REQUIRE(i < 0, "%s: rejected call (%s) wrote buffer %d", fn,
            bptt_strerror(st), i);
}

#define BIT(s) (1u << (s))

/* ------------------------------------------------------------------------ */
/* Sizes, leading dimensions, codes                                          */
/* ------------------------------------------------------------------------ */

/* Sizes no real array has: each is above INT_MAX, and any count of
 * elements of 8 bytes with one of them overflows size_t except the first. */
static const size_t huge_sizes[] = {
    (size_t)INT_MAX + 1, SIZE_MAX / 8 + 1, SIZE_MAX / 2, SIZE_MAX - 63,
    SIZE_MAX,
};
#define NHUGE (sizeof huge_sizes / sizeof huge_sizes[0])

/* A count for a call whose workspace holds max: mostly 1..max, sometimes
 * 0, max+1, max+2 or huge. */
static size_t pick_count(bytes *r, size_t max)
{
    unsigned v = u8(r) % 32;
    if (v < 24)
        return 1 + v % max;
    if (v == 24)
        return 0;
    if (v < 27)
        return max + (v - 24);
    return huge_sizes[(v - 27) % NHUGE];
}

/* A leading dimension for rows of cols: mostly cols..cols+3, sometimes
 * cols−1, 0 or huge; INT_MAX, the largest valid one, for a single row
 * (more rows at that stride would need gigabytes). */
static size_t pick_ld(bytes *r, size_t rows, size_t cols)
{
    unsigned v = u8(r) % 16;
    if (v < 11)
        return cols + v % 4;
    if (v == 11)
        return cols - 1;
    if (v == 12)
        return rows == 1 ? (size_t)INT_MAX : 0;
    return huge_sizes[(v - 13) % NHUGE];
}

/* The status a leading dimension earns (BPTT_OK if it is fine). */
static unsigned ld_fault(size_t ld, size_t cols)
{
    if (ld < cols)
        return BIT(BPTT_ELD);
    if (ld > (size_t)INT_MAX)
        return BIT(BPTT_EOVERFLOW);
    return 0;
}

static bptt_algo pick_algo(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_algo)(v % BPTT_NALGO);
    static const int bad[] = {BPTT_NALGO, -1, 1000, INT_MIN};
    return (bptt_algo)bad[v - 12];
}

static int algo_ok(bptt_algo a)
{
    return (unsigned)a < BPTT_NALGO;
}

/* The caller's activation of BPTT_ACT_CUSTOM units: gain·sin, |f'| <= 1 so
 * bounded inputs stay bounded. */
static double gain = 0.9;
static double custom_f(double z, void *user)
{
    return *(double *)user * sin(z);
}
static double custom_df(double z, void *user)
{
    return *(double *)user * cos(z);
}
static const bptt_custom_activation custom = {custom_f, custom_df, &gain};

/* A hostile pair: NaN for z < 0, 10^300·z above (+Inf in float, and
 * soon in double), a derivative that is infinite at 0.  Runs with it are
 * not compared with the naive algorithm, only held to the other rules. */
static double wild_f(double z, void *user)
{
    (void)user;
    return z < 0 ? NAN : 1e300 * z;
}
static double wild_df(double z, void *user)
{
    (void)user;
    return z == 0 ? INFINITY : 1e300;
}
static const bptt_custom_activation wild = {wild_f, wild_df, NULL};

/* ------------------------------------------------------------------------ */
/* One precision: the API's entry points and its values                      */
/* ------------------------------------------------------------------------ */

typedef struct api {
    const char *prefix; /* "bptt_" or "bpttf_" */
    size_t r;           /* sizeof(R) */
    double tol;         /* fast algorithm against naive, normwise */
    double special[10]; /* hostile values, representable in R */
    bptt_status (*size)(const bptt_net *, size_t, size_t, size_t *);
    bptt_status (*alloc)(const bptt_net *, size_t, size_t, void **);
    bptt_status (*init)(const bptt_net *, size_t, size_t, void *, size_t,
                        void **);
    void (*free)(void *);
    bptt_status (*check_finite)(void *, int);
    bptt_status (*forward)(const bptt_net *, size_t, size_t, const void *,
                           size_t, const void *, const void *, size_t,
                           const void *, size_t, void *, size_t, bptt_algo,
                           void *);
    bptt_status (*backward)(const bptt_net *, size_t, size_t, const void *,
                            size_t, const void *, size_t, double, void *,
                            size_t, void *, void *, size_t, void *, size_t,
                            bptt_algo, void *);
    bptt_status (*loss)(size_t, size_t, size_t, const void *, size_t,
                        const void *, size_t, const unsigned char *, double *,
                        void *, size_t);
    bptt_status (*sgd)(size_t, size_t, double, const void *, size_t, void *,
                       size_t);
    double (*get)(const void *, size_t);
    void (*set)(void *, size_t, double);
} api;

/* double */
static bptt_status d_alloc(const bptt_net *n, size_t T, size_t B, void **ws)
{
    bptt_workspace *w = ws ? (bptt_workspace *)*ws : NULL;
    bptt_status st = bptt_workspace_alloc(n, T, B, ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static bptt_status d_init(const bptt_net *n, size_t T, size_t B, void *buf,
                          size_t bytes, void **ws)
{
    bptt_workspace *w = ws ? (bptt_workspace *)*ws : NULL;
    bptt_status st = bptt_workspace_init(n, T, B, buf, bytes, ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static void d_free(void *ws) { bptt_workspace_free(ws); }
static bptt_status d_check(void *ws, int on)
{
    return bptt_workspace_check_finite(ws, on);
}
static bptt_status d_forward(const bptt_net *net, size_t T, size_t B,
                             const void *W, size_t ldw, const void *b,
                             const void *x, size_t ldx, const void *y0,
                             size_t ldy0, void *y, size_t ldy, bptt_algo algo,
                             void *ws)
{
    return bptt_forward(net, T, B, W, ldw, b, x, ldx, y0, ldy0, y, ldy, algo,
                        ws);
}
static bptt_status d_backward(const bptt_net *net, size_t T, size_t B,
                              const void *W, size_t ldw, const void *dy,
                              size_t lddy, double beta, void *dW, size_t lddw,
                              void *db, void *dx, size_t lddx, void *dy0,
                              size_t lddy0, bptt_algo algo, void *ws)
{
    return bptt_backward(net, T, B, W, ldw, dy, lddy, beta, dW, lddw, db, dx,
                         lddx, dy0, lddy0, algo, ws);
}
static bptt_status d_loss(size_t T, size_t B, size_t dout, const void *y,
                          size_t ldy, const void *t, size_t ldt,
                          const unsigned char *mask, double *loss, void *dy,
                          size_t lddy)
{
    return bptt_loss_squared(T, B, dout, y, ldy, t, ldt, mask, loss, dy, lddy);
}
static bptt_status d_sgd(size_t rows, size_t cols, double alpha,
                         const void *dW, size_t lddw, void *W, size_t ldw)
{
    return bptt_sgd_step(rows, cols, alpha, dW, lddw, W, ldw);
}
static double d_get(const void *a, size_t i) { return ((const double *)a)[i]; }
static void d_set(void *a, size_t i, double v) { ((double *)a)[i] = v; }

/* float */
static bptt_status f_alloc(const bptt_net *n, size_t T, size_t B, void **ws)
{
    bpttf_workspace *w = ws ? (bpttf_workspace *)*ws : NULL;
    bptt_status st = bpttf_workspace_alloc(n, T, B, ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static bptt_status f_init(const bptt_net *n, size_t T, size_t B, void *buf,
                          size_t bytes, void **ws)
{
    bpttf_workspace *w = ws ? (bpttf_workspace *)*ws : NULL;
    bptt_status st = bpttf_workspace_init(n, T, B, buf, bytes, ws ? &w : NULL);
    if (ws)
        *ws = w;
    return st;
}
static void f_free(void *ws) { bpttf_workspace_free(ws); }
static bptt_status f_check(void *ws, int on)
{
    return bpttf_workspace_check_finite(ws, on);
}
static bptt_status f_forward(const bptt_net *net, size_t T, size_t B,
                             const void *W, size_t ldw, const void *b,
                             const void *x, size_t ldx, const void *y0,
                             size_t ldy0, void *y, size_t ldy, bptt_algo algo,
                             void *ws)
{
    return bpttf_forward(net, T, B, W, ldw, b, x, ldx, y0, ldy0, y, ldy, algo,
                         ws);
}
static bptt_status f_backward(const bptt_net *net, size_t T, size_t B,
                              const void *W, size_t ldw, const void *dy,
                              size_t lddy, double beta, void *dW, size_t lddw,
                              void *db, void *dx, size_t lddx, void *dy0,
                              size_t lddy0, bptt_algo algo, void *ws)
{
    return bpttf_backward(net, T, B, W, ldw, dy, lddy, (float)beta, dW, lddw,
                          db, dx, lddx, dy0, lddy0, algo, ws);
}
static bptt_status f_loss(size_t T, size_t B, size_t dout, const void *y,
                          size_t ldy, const void *t, size_t ldt,
                          const unsigned char *mask, double *loss, void *dy,
                          size_t lddy)
{
    return bpttf_loss_squared(T, B, dout, y, ldy, t, ldt, mask, loss, dy, lddy);
}
static bptt_status f_sgd(size_t rows, size_t cols, double alpha,
                         const void *dW, size_t lddw, void *W, size_t ldw)
{
    return bpttf_sgd_step(rows, cols, (float)alpha, dW, lddw, W, ldw);
}
static double f_get(const void *a, size_t i) { return ((const float *)a)[i]; }
static void f_set(void *a, size_t i, double v) { ((float *)a)[i] = (float)v; }

static const api apis[2] = {
    {"bptt_", sizeof(double), 1e-9,
     {NAN, -NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, 1e300, DBL_TRUE_MIN,
      -DBL_MIN / 4, -0.0},
     bptt_workspace_size, d_alloc, d_init, d_free, d_check, d_forward,
     d_backward, d_loss, d_sgd, d_get, d_set},
    {"bpttf_", sizeof(float), 2e-3,
     {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e30, FLT_TRUE_MIN,
      -FLT_MIN / 4, -0.0},
     bpttf_workspace_size, f_alloc, f_init, f_free, f_check, f_forward,
     f_backward, f_loss, f_sgd, f_get, f_set},
};

static const char *fname(const api *A, const char *name, char buf[64])
{
    snprintf(buf, 64, "%s%s", A->prefix, name);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Arrays of R                                                               */
/* ------------------------------------------------------------------------ */

/* A rows x cols matrix with leading dimension ld, as the call sees it;
 * stored with leading dimension sld (ld itself when ld is usable). */
typedef struct mat {
    void *p;
    size_t rows, cols, ld, sld;
} mat;

/* Allocate a matrix in the arena: (rows−1)·ld + cols elements when ld is
 * usable, else rows·cols (the call must refuse it without reading).
 * Every element, padding included, gets a value: bounded,
 * scale·[-1, 1], or with hostile set sometimes a special value. */
static mat mat_new(arena *a, const api *A, bytes *r, size_t rows, size_t cols,
                   size_t ld, double scale, int hostile)
{
    const size_t sld = ld_fault(ld, cols) ? cols : ld;
    const size_t n = (rows - 1) * sld + cols;
    mat M = {arena_new(a, n * A->r), rows, cols, ld, sld};
    for (size_t i = 0; i < n; i++) {
        unsigned v = u8(r);
        if (hostile && v >= 224)
            A->set(M.p, i, A->special[(v - 224) % 10]);
        else
            A->set(M.p, i, scale * ((double)v - 127.5) / 127.5);
    }
    return M;
}

static int mat_finite(const api *A, mat M)
{
    if (!M.p)
        return 1;
    for (size_t i = 0; i < M.rows; i++)
        for (size_t j = 0; j < M.cols; j++)
            if (!isfinite(A->get(M.p, i * M.sld + j)))
                return 0;
    return 1;
}

/* The elements outside the rows x cols block (the padding) equal those of
 * the snapshot. */
static int padding_kept(const api *A, const arena *a, mat M)
{
    if (!M.p)
        return 1;
    const unsigned char *s = arena_snap_of(a, M.p);
    for (size_t i = 0; i + 1 < M.rows; i++)
        for (size_t j = M.cols; j < M.sld; j++) {
            size_t off = (i * M.sld + j) * A->r;
            if (memcmp(s + off, (unsigned char *)M.p + off, A->r) != 0)
                return 0;
        }
    return 1;
}

/* Normwise: every |a − b| <= tol·(1 + max|b|) over the block; b is the
 * reference.  NaN anywhere fails.  A failure is described in why. */
static char why[160];
static int mat_close(const api *A, mat X, mat Ref, double tol)
{
    double big = 0;
    for (size_t i = 0; i < Ref.rows; i++)
        for (size_t j = 0; j < Ref.cols; j++)
            big = fmax(big, fabs(A->get(Ref.p, i * Ref.sld + j)));
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) {
            double got = A->get(X.p, i * X.sld + j);
            double want = A->get(Ref.p, i * Ref.sld + j);
            if (!(fabs(got - want) <= tol * (1 + big))) {
                snprintf(why, sizeof why, "[%zu][%zu] = %.17g, naive %.17g "
                         "(max %.3g)", i, j, got, want, big);
                return 0;
            }
        }
    return 1;
}

/* A copy of M in another arena buffer (same layout). */
static mat mat_copy(arena *a, const api *A, mat M)
{
    if (!M.p)
        return M;
    size_t n = (M.rows - 1) * M.sld + M.cols;
    mat C = M;
    C.p = arena_new(a, n * A->r);
    memcpy(C.p, M.p, n * A->r);
    return C;
}

/* ------------------------------------------------------------------------ */
/* op: forward and backward of Network A, every algorithm                    */
/* ------------------------------------------------------------------------ */

static double mat_get(const api *A, mat M, size_t i, size_t j)
{
    return A->get(M.p, i * M.sld + j);
}

/* Whether some ReLU unit's z(t+1) is within rounding of 0: there f' jumps
 * from 0 to 1, so two correct algorithms may differ by O(1) in every
 * gradient (a kink, not a bug), and the gradients are not compared.  z is
 * recomputed from W, b, x, y0 and the forward's y; the margin,
 * 1024·eps·(1 + Σ|terms|), covers the rounding of y's earlier steps too. */
static int relu_kink(const api *A, const bptt_activation *act, size_t din,
                     size_t dout, size_t T, size_t B, mat W, mat b, mat x,
                     mat y0, mat y)
{
    const double eps = A->r == sizeof(float) ? FLT_EPSILON : DBL_EPSILON;
    for (size_t t = 0; t < T; t++)
        for (size_t bb = 0; bb < B; bb++)
            for (size_t i = 0; i < dout; i++) {
                if (act[i] != BPTT_ACT_RELU)
                    continue;
                double z = b.p ? mat_get(A, b, 0, i) : 0, mag = fabs(z);
                for (size_t j = 0; j < din + dout; j++) {
                    double sj = j < din ? mat_get(A, x, t * B + bb, j)
                                : t > 0 ? mat_get(A, y, (t - 1) * B + bb, j - din)
                                : y0.p  ? mat_get(A, y0, bb, j - din)
                                        : 0;
                    double term = mat_get(A, W, i, j) * sj;
                    z += term;
                    mag += fabs(term);
                }
                if (fabs(z) <= 1024 * eps * (1 + mag))
                    return 1;
            }
    return 0;
}

/* Flag bits of a round: forward's byte, then backward's byte. */
enum {
    F_CHECK = 1,       /* forward: non-finite check on */
    F_HOSTILE = 4,     /* forward: special values among the inputs (and in
                          backward's dy and beta) */
    F_BIAS = 8,        /* forward: b given */
    F_Y0 = 16,         /* forward: y0 given */
    F_MISMATCH_F = 64, /* forward: called with another descriptor */
    F_CHECK_B = 2,     /* backward: non-finite check on */
    F_GARBAGE = 32,    /* backward: outputs start as NaN/Inf (beta = 0 must
                          not read them) */
    F_MISMATCH_B = 128 /* backward: called with another descriptor */
};

/* The inputs of the forward kept in the workspace, to recompute it with
 * the naive algorithm for a later backward's reference. */
typedef struct kept {
    int have, bounded;
    size_t T, B, ldw, ldx, ldy0;
    mat W, b, x, y0, y;
} kept;

/* A run of 1 to 3 rounds, each a forward and a backward with fresh
 * arguments on one workspace: a rejected call must leave the forward kept
 * by an earlier round intact, and any backward may follow any forward. */
static void train(bytes *r, const api *A)
{
    char fnf[64], fnb[64];
    fname(A, "forward", fnf);
    fname(A, "backward", fnb);
    arena a = {0}, ref = {0};

    /* A valid network and workspace, the workspace in a buffer of exactly
     * its size at any alignment. */
    const size_t din = 1 + u8(r) % 8, dout = 1 + u8(r) % 8, m = din + dout;
    bptt_activation act[8];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    const int is_wild = (u8(r) & 7) == 7;
    int wild_units = 0;
    for (size_t i = 0; i < dout; i++)
        wild_units |= is_wild && act[i] == BPTT_ACT_CUSTOM;
    const bptt_custom_activation *cu = is_wild ? &wild : &custom;
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, cu, &net) == BPTT_OK, "net");
    REQUIRE(bptt_net_create(din, dout, act, cu, &other) == BPTT_OK, "net");
    const size_t Tmax = 1 + u8(r) % 6, Bmax = 1 + u8(r) % 5;
    size_t bytes_ws = 0;
    REQUIRE(A->size(net, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->init(net, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->alloc(net, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    kept k = {0};
    const unsigned rounds = 1 + u8(r) % 3;

    for (unsigned round = 0; round < rounds; round++) {
    const unsigned flags = u8(r);
    const int hostile = (flags & F_HOSTILE) != 0;
    /* results are held to the naive algorithm's only when all is tame */
    const int tame = !hostile && !wild_units;
    REQUIRE(A->check_finite(ws, flags & F_CHECK) == BPTT_OK, "check");
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;

    /* ---- forward ---- */
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t Ta = T < 1 ? 1 : T > Tmax ? Tmax : T;
    const size_t Ba = B < 1 ? 1 : B > Bmax ? Bmax : B;
    const size_t ldw = pick_ld(r, dout, m), ldx = pick_ld(r, Ta * Ba, din);
    const size_t ldy0 = pick_ld(r, Ba, dout), ldy = pick_ld(r, Ta * Ba, dout);
    const bptt_algo fa = pick_algo(r);
    mat W = mat_new(&a, A, r, dout, m, ldw, 1.0 / (double)m, hostile);
    mat b = {0}, y0 = {0};
    if (flags & F_BIAS)
        b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
    mat x = mat_new(&a, A, r, Ta * Ba, din, ldx, 1, hostile);
    if (flags & F_Y0)
        y0 = mat_new(&a, A, r, Ba, dout, ldy0, 1, hostile);
    mat y = mat_new(&a, A, r, Ta * Ba, dout, ldy, 1, 1);

    const bptt_net *cnet = nulls & 1 ? NULL : flags & F_MISMATCH_F ? other : net;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p, *cx = nulls & 8 ? NULL : x.p;
    void *cy = nulls & 16 ? NULL : y.p;
    unsigned faults = 0;
    if (!cnet || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (T == 0 || B == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (T > Tmax || B > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!algo_ok(fa))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    faults |= cy ? ld_fault(ldy, dout) : BIT(BPTT_ENULL);
    if (y0.p)
        faults |= ld_fault(ldy0, dout);
    const int finite_in = mat_finite(A, W) && mat_finite(A, b) &&
                          mat_finite(A, x) && mat_finite(A, y0);

    trace("round %u %s: net din %zu dout %zu, ws Tmax %zu Bmax %zu, flags "
          "0x%x, nulls 0x%x\n  T %zu B %zu ldw %zu ldx %zu ldy0 %zu ldy %zu "
          "algo %d\n", round, fnf, din, dout, Tmax, Bmax, flags, nulls, T, B,
          ldw, ldx, ldy0, ldy, (int)fa);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->forward(cnet, T, B, cW, ldw, b.p, cx, ldx, y0.p, ldy0,
                                cy, ldy, fa, cws);
    if (faults) {
        require_rejected(st, faults, fnf, &a);
        HIT(H_FWD_REJECTED);
    } else if ((flags & F_CHECK) && !finite_in) {
        require_rejected(st, BIT(BPTT_ENONFINITE), fnf, &a);
        HIT(H_FWD_NONFINITE_IN);
    } else {
        HIT(st == BPTT_OK ? H_FWD_ACCEPTED : H_FWD_NONFINITE_OUT);
        REQUIRE(st == BPTT_OK || ((flags & F_CHECK) && st == BPTT_ENONFINITE),
                "%s: valid call gave %s", fnf, bptt_strerror(st));
        int i = arena_changed(&a, y.p, wsbuf);
        REQUIRE(i < 0, "%s wrote input buffer %d", fnf, i);
        REQUIRE(padding_kept(A, &a, y), "%s wrote y's padding", fnf);
        if (flags & F_CHECK)
            REQUIRE((st == BPTT_OK) == mat_finite(A, y),
                    "%s: status %s but y %s finite", fnf, bptt_strerror(st),
                    mat_finite(A, y) ? "is" : "is not");
        if (tame) {
            REQUIRE(st == BPTT_OK && mat_finite(A, y),
                    "%s: bounded inputs, status %s, y finite %d", fnf,
                    bptt_strerror(st), mat_finite(A, y));
            mat yr = mat_copy(&ref, A, y);
            REQUIRE(A->forward(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0,
                               yr.p, ldy, BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward");
            if (fa == BPTT_ALGO_NAIVE)
                REQUIRE(memcmp(yr.p, y.p, ((Ta * Ba - 1) * ldy + dout) * A->r)
                            == 0, "naive forward is not deterministic");
            REQUIRE(mat_close(A, y, yr, A->tol),
                    "%s (%s) y%s", fnf, bptt_algo_name(fa), why);
            HIT(H_FWD_COMPARED);
        }
        k = (kept){1, tame, T, B, ldw, ldx, ldy0, W, b, x, y0, y};
    }

    /* ---- backward, after the forward kept in ws (or none) ---- */
    const unsigned bflags = u8(r);
    REQUIRE(A->check_finite(ws, (bflags & F_CHECK_B) != 0) == BPTT_OK, "check");
    const unsigned same = u8(r) % 4;
    const size_t Tb = same ? T : pick_count(r, Tmax);
    const size_t Bb = same ? B : pick_count(r, Bmax);
    const size_t Tba = Tb < 1 ? 1 : Tb > Tmax ? Tmax : Tb;
    const size_t Bba = Bb < 1 ? 1 : Bb > Bmax ? Bmax : Bb;
    const size_t lddy = pick_ld(r, Tba * Bba, dout);
    const size_t lddw = pick_ld(r, dout, m);
    const size_t lddx = pick_ld(r, Tba * Bba, din);
    const size_t lddy0 = pick_ld(r, Bba, dout);
    const bptt_algo ba = pick_algo(r);
    const unsigned opt = u8(r), bsel = u8(r), bnulls = nulls >> 5;
    static const double betas[] = {0, 1, 0.5, -1.5, 0, 2, 0, 1};
    double beta = betas[bsel % 8];
    if (hostile && bsel >= 224)
        beta = A->special[(bsel - 224) % 10];
    mat dy = mat_new(&a, A, r, Tba * Bba, dout, lddy, 1, hostile);
    /* outputs: bounded starting values, or NaN/Inf garbage */
    const int garbage = (bflags & F_GARBAGE) != 0;
    mat dW = {0}, db = {0}, dx = {0}, dy0 = {0};
    if (!(opt & 1))
        dW = mat_new(&a, A, r, dout, m, lddw, 1, garbage);
    if (!(opt & 2))
        db = mat_new(&a, A, r, 1, dout, dout, 1, garbage);
    if (!(opt & 4))
        dx = mat_new(&a, A, r, Tba * Bba, din, lddx, 1, garbage);
    if (!(opt & 8))
        dy0 = mat_new(&a, A, r, Bba, dout, lddy0, 1, garbage);

    cnet = bnulls & 1 ? NULL : bflags & F_MISMATCH_B ? other : net;
    cws = bnulls & 2 ? NULL : ws;
    cW = bnulls & 4 ? NULL : W.p;
    const void *cdy = nulls & 32 ? NULL : dy.p;
    faults = 0;
    if (!cnet || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (Tb == 0 || Bb == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (Tb > Tmax || Bb > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!algo_ok(ba))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cdy ? ld_fault(lddy, dout) : BIT(BPTT_ENULL);
    if (dW.p)
        faults |= ld_fault(lddw, m);
    if (dx.p)
        faults |= ld_fault(lddx, din);
    if (dy0.p)
        faults |= ld_fault(lddy0, dout);
    if (!k.have || Tb != k.T || Bb != k.B)
        faults |= BIT(BPTT_ENOFORWARD);
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);
    const int finite_bin = mat_finite(A, W) && mat_finite(A, dy);

    trace("round %u %s: T %zu B %zu lddy %zu lddw %zu lddx %zu lddy0 %zu "
          "algo %d beta %g, flags 0x%x, outputs%s%s%s%s\n", round, fnb, Tb, Bb,
          lddy, lddw, lddx, lddy0, (int)ba, beta, bflags, dW.p ? " dW" : "",
          db.p ? " db" : "", dx.p ? " dx" : "", dy0.p ? " dy0" : "");
    arena_snapshot(&a);
    mark_detail();
    st = A->backward(cnet, Tb, Bb, cW, ldw, cdy, lddy, beta, dW.p, lddw, db.p,
                     dx.p, lddx, dy0.p, lddy0, ba, cws);
    if (faults) {
        require_rejected(st, faults, fnb, &a);
        HIT(H_BWD_REJECTED);
    } else if ((bflags & F_CHECK_B) && !finite_bin) {
        require_rejected(st, BIT(BPTT_ENONFINITE), fnb, &a);
        HIT(H_BWD_NONFINITE_IN);
    } else {
        HIT(st == BPTT_OK ? H_BWD_ACCEPTED : H_BWD_NONFINITE_OUT);
        const int fin = mat_finite(A, dW) && mat_finite(A, db) &&
                        mat_finite(A, dx) && mat_finite(A, dy0);
        REQUIRE(st == BPTT_OK ||
                    ((bflags & F_CHECK_B) && st == BPTT_ENONFINITE && !fin),
                "%s: valid call gave %s", fnb, bptt_strerror(st));
        if (bflags & F_CHECK_B)
            REQUIRE(st != BPTT_OK || fin, "%s: OK with non-finite results",
                    fnb);
        /* only the outputs and the workspace may change */
        for (int i = 0; i < a.k; i++) {
            void *p = a.p[i];
            if (p == dW.p || p == db.p || p == dx.p || p == dy0.p ||
                p == wsbuf)
                continue;
            REQUIRE(memcmp(a.snap[i], p, a.n[i]) == 0,
                    "%s wrote input buffer %d", fnb, i);
        }
        REQUIRE(padding_kept(A, &a, dW) && padding_kept(A, &a, dx) &&
                    padding_kept(A, &a, dy0),
                "%s wrote an output's padding", fnb);
        const int bounded = k.bounded && tame && (!garbage || beta == 0);
        /* the kept forward's ReLU kinks (relu_kink) make gradients of two
         * correct algorithms differ */
        const int kink = bounded && relu_kink(A, act, din, dout, k.T, k.B,
                                              k.W, k.b, k.x, k.y0, k.y);
        if (bounded)
            REQUIRE(st == BPTT_OK && fin, "%s: bounded inputs, status %s, "
                    "results finite %d", fnb, bptt_strerror(st), fin);
        if (kink)
            HIT(H_BWD_KINK);
        if (bounded && !kink) {
            HIT(H_BWD_COMPARED);
            /* the naive forward of the kept inputs, then the naive backward
             * from the same starting outputs */
            mat ry = mat_copy(&ref, A, k.y);
            REQUIRE(A->forward(net, k.T, k.B, k.W.p, k.ldw, k.b.p, k.x.p,
                               k.ldx, k.y0.p, k.ldy0, ry.p, k.y.ld,
                               BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward");
            mat rdW = mat_copy(&ref, A, dW), rdb = mat_copy(&ref, A, db);
            mat rdx = mat_copy(&ref, A, dx), rdy0 = mat_copy(&ref, A, dy0);
            const unsigned char *s;
            if (rdW.p && (s = arena_snap_of(&a, dW.p)))
                memcpy(rdW.p, s, ((dout - 1) * lddw + m) * A->r);
            if (rdb.p && (s = arena_snap_of(&a, db.p)))
                memcpy(rdb.p, s, dout * A->r);
            if (rdx.p && (s = arena_snap_of(&a, dx.p)))
                memcpy(rdx.p, s, ((Tb * Bb - 1) * lddx + din) * A->r);
            if (rdy0.p && (s = arena_snap_of(&a, dy0.p)))
                memcpy(rdy0.p, s, ((Bb - 1) * lddy0 + dout) * A->r);
            REQUIRE(A->backward(net, Tb, Bb, W.p, ldw, dy.p, lddy, beta,
                                rdW.p, lddw, rdb.p, rdx.p, lddx, rdy0.p, lddy0,
                                BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive backward: %s", bptt_error_detail());
            if (dW.p)
                REQUIRE(mat_close(A, dW, rdW, A->tol), "%s (%s) dW%s", fnb,
                        bptt_algo_name(ba), why);
            if (db.p)
                REQUIRE(mat_close(A, db, rdb, A->tol), "%s (%s) db%s", fnb,
                        bptt_algo_name(ba), why);
            if (dx.p)
                REQUIRE(mat_close(A, dx, rdx, A->tol), "%s (%s) dx%s", fnb,
                        bptt_algo_name(ba), why);
            if (dy0.p)
                REQUIRE(mat_close(A, dy0, rdy0, A->tol), "%s (%s) dy0%s", fnb,
                        bptt_algo_name(ba), why);
        }
    }
    }

    A->free(ws); /* placed in wsbuf: frees nothing */
    A->free(rws);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}

static void op_train_double(bytes *r) { train(r, &apis[0]); }
static void op_train_float(bytes *r) { train(r, &apis[1]); }

/* ------------------------------------------------------------------------ */
/* op: the network descriptor                                                */
/* ------------------------------------------------------------------------ */

/* Sizes for a descriptor: small, large, or past INT_MAX. */
static size_t pick_dim(bytes *r)
{
    static const size_t dims[] = {0, 1, 2, 3, 5, 8, 13, 64, 1000, 65536,
                                  (size_t)INT_MAX - 1, (size_t)INT_MAX};
    unsigned v = u8(r) % 20;
    if (v < 12)
        return dims[v];
    return huge_sizes[(v - 12) % NHUGE];
}

static bptt_activation pick_act(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_activation)(v % BPTT_NACTIVATION);
    static const int bad[] = {BPTT_NACTIVATION, -1, 77, INT_MAX};
    return (bptt_activation)bad[v - 12];
}

static const bptt_custom_activation *pick_custom(bytes *r)
{
    static const bptt_custom_activation no_f = {NULL, custom_df, &gain};
    static const bptt_custom_activation no_df = {custom_f, NULL, &gain};
    unsigned v = u8(r) % 8;
    return v < 5 ? &custom : v == 5 ? NULL : v == 6 ? &no_f : &no_df;
}

/* Largest dout for which the harness supplies a full act[] array. */
enum { MAXACT = 65536 };

static void op_net_create(bytes *r)
{
    const size_t din = pick_dim(r), dout = pick_dim(r);
    const bptt_custom_activation *cu = pick_custom(r);
    const unsigned nulls = u8(r);
    /* the codes: a pattern of up to 8 repeated over dout */
    bptt_activation pat[8];
    const size_t np = 1 + u8(r) % 8;
    for (size_t i = 0; i < np; i++)
        pat[i] = pick_act(r);
    const int sizes_ok = din && dout && din <= (size_t)INT_MAX &&
                         dout <= (size_t)INT_MAX - din;
    /* A valid dout beyond MAXACT would need that many codes: pass none. */
    const int have_act = !(nulls & 2) && (!sizes_ok || dout <= MAXACT);
    const size_t nact = dout < MAXACT ? dout : MAXACT;
    bptt_activation *act = have_act ? malloc((nact ? nact : 1) * sizeof *act)
                                    : NULL;
    int codes_ok = 1, needs_custom = 0;
    for (size_t i = 0; act && i < nact; i++) {
        act[i] = pat[i % np];
        codes_ok &= (unsigned)act[i] < BPTT_NACTIVATION;
        needs_custom |= act[i] == BPTT_ACT_CUSTOM;
    }
    unsigned faults = 0;
    if ((nulls & 1) || !act)
        faults |= BIT(BPTT_ENULL);
    if (!din || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (!sizes_ok)
        faults |= BIT(BPTT_EOVERFLOW);
    /* codes are read only once the sizes are known to be sane */
    if (sizes_ok && (!codes_ok || (needs_custom &&
                                   (!cu || !cu->f || !cu->df))))
        faults |= BIT(BPTT_EACTIVATION);

    bptt_net *sentinel = (bptt_net *)&faults, *net = sentinel;
    mark_detail();
    bptt_status st = bptt_net_create(din, dout, act, cu,
                                     nulls & 1 ? NULL : &net);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_net_create: status %s, faults 0x%x", bptt_strerror(st),
                faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_net_create", 15) == 0,
                "detail");
        REQUIRE(net == sentinel, "bptt_net_create wrote *net on error");
    } else {
        REQUIRE(st == BPTT_OK, "bptt_net_create: %s", bptt_strerror(st));
        REQUIRE(bptt_net_din(net) == din && bptt_net_dout(net) == dout,
                "sizes");
        /* the codes were copied */
        for (size_t i = 0; i < nact; i++)
            act[i] = BPTT_ACT_RELU;
        for (size_t i = 0; i < dout; i++)
            REQUIRE(bptt_net_activation(net, i) == pat[i % np], "act[%zu]", i);
        REQUIRE(bptt_net_activation(net, dout) == BPTT_NACTIVATION, "range");
        bptt_net_free(net);
    }
    free(act);
}

static void op_net_create_uniform(bytes *r)
{
    const size_t din = pick_dim(r), dout = pick_dim(r);
    const bptt_activation act = pick_act(r);
    const bptt_custom_activation *cu = pick_custom(r);
    const unsigned nulls = u8(r);
    const int sizes_ok = din && dout && din <= (size_t)INT_MAX &&
                         dout <= (size_t)INT_MAX - din;
    /* A valid network of 2^31 units is legal but needs gigabytes: the
     * harness does not ask for one (libFuzzer's malloc limit). */
    if (sizes_ok && dout > MAXACT)
        return;
    unsigned faults = 0;
    if (nulls & 1)
        faults |= BIT(BPTT_ENULL);
    if (!din || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (!sizes_ok)
        faults |= BIT(BPTT_EOVERFLOW);
    if (sizes_ok && ((unsigned)act >= BPTT_NACTIVATION ||
                     (act == BPTT_ACT_CUSTOM && (!cu || !cu->f || !cu->df))))
        faults |= BIT(BPTT_EACTIVATION);
    bptt_net *sentinel = (bptt_net *)&faults, *net = sentinel;
    mark_detail();
    bptt_status st = bptt_net_create_uniform(din, dout, act, cu,
                                             nulls & 1 ? NULL : &net);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_net_create_uniform: status %s, faults 0x%x",
                bptt_strerror(st), faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_net_create", 15) == 0,
                "detail");
        REQUIRE(net == sentinel, "wrote *net on error");
    } else {
        REQUIRE(st == BPTT_OK, "bptt_net_create_uniform: %s",
                bptt_strerror(st));
        REQUIRE(bptt_net_activation(net, dout - 1) == act, "act");
        bptt_net_free(net);
    }
}

/* ------------------------------------------------------------------------ */
/* op: workspace size, alloc, init                                           */
/* ------------------------------------------------------------------------ */

__extension__ typedef unsigned __int128 u128;

/* The documented formula, in 128 bits: 256 + up(r·T·B·m) + 2·up(r·T·B·dout)
 * + up(r·B·m); 0 if T·B > INT_MAX or the total exceeds SIZE_MAX. */
static size_t formula(size_t r, size_t T, size_t B, size_t m, size_t dout)
{
    u128 rows = (u128)T * B;
    if (rows > (u128)INT_MAX)
        return 0;
#define UP(n) ((((u128)(n)) + 63) / 64 * 64)
    u128 total = 256 + UP(rows * m * r) + 2 * UP(rows * dout * r) +
                 UP((u128)B * m * r);
#undef UP
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

static void op_workspace(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    /* a small net, or one with m = din + dout up to INT_MAX */
    const unsigned v = u8(r);
    const size_t dout = 1 + u8(r) % 16;
    const size_t din = v & 1 ? (size_t)INT_MAX - dout - u8(r) : 1 + u8(r) % 16;
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t Tmax = pick_count(r, 8), Bmax = pick_count(r, 8);
    const unsigned nulls = (u8(r) & 0xF0) == 0xF0 ? u8(r) : 0;
    const bptt_net *cnet = nulls & 1 ? NULL : net;

    unsigned faults = 0;
    if (!cnet)
        faults |= BIT(BPTT_ENULL);
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = formula(A->r, Tmax, Bmax, din + dout, dout);
    if (Tmax && Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);

    size_t bytes = 12345;
    mark_detail();
    bptt_status st = A->size(cnet, Tmax, Bmax, nulls & 2 ? NULL : &bytes);
    fname(A, "workspace_size", fn);
    if (faults || (nulls & 2)) {
        REQUIRE(st != BPTT_OK && ((faults | BIT(BPTT_ENULL)) >> st & 1u),
                "%s: %s, faults 0x%x", fn, bptt_strerror(st), faults);
        REQUIRE(strncmp(bptt_error_detail(), fn, strlen(fn)) == 0, "detail");
        REQUIRE(bytes == 12345, "%s wrote bytes on error", fn);
    } else {
        REQUIRE(st == BPTT_OK && bytes == want,
                "%s: %s, %zu bytes, formula %zu", fn, bptt_strerror(st), bytes,
                want);
    }

    /* alloc and init agree with the size query */
    void *sentinel = &bytes, *ws = sentinel;
    if (faults || want > ((size_t)64 << 20)) {
        if (faults) {
            st = A->alloc(cnet, Tmax, Bmax, &ws);
            REQUIRE(st != BPTT_OK && ws == sentinel, "alloc on error");
            unsigned char small[64];
            memset(small, 0x33, sizeof small);
            st = A->init(cnet, Tmax, Bmax, small, sizeof small, &ws);
            REQUIRE(st != BPTT_OK && ws == sentinel, "init on error");
            for (size_t i = 0; i < sizeof small; i++)
                REQUIRE(small[i] == 0x33, "init wrote the buffer on error");
        }
        bptt_net_free(net);
        return;
    }
    REQUIRE(A->alloc(cnet, Tmax, Bmax, nulls & 4 ? NULL : &ws) ==
                (nulls & 4 ? BPTT_ENULL : BPTT_OK), "alloc");
    if (!(nulls & 4)) {
        REQUIRE(ws != sentinel && ws != NULL, "alloc gave no workspace");
        A->free(ws);
    }
    /* the caller's buffer at any alignment, exactly big enough; one byte
     * short is refused without a write */
    const size_t off = u8(r) % 64;
    arena a = {0};
    unsigned char *buf = arena_new(&a, want + off);
    arena_snapshot(&a);
    ws = sentinel;
    mark_detail();
    st = A->init(cnet, Tmax, Bmax, buf + off, want - 1, &ws);
    fname(A, "workspace_init", fn);
    require_rejected(st, BIT(BPTT_EBUFFER), fn, &a);
    REQUIRE(ws == sentinel, "init wrote *ws on error");
    REQUIRE(A->init(cnet, Tmax, Bmax, buf + off, want, &ws) == BPTT_OK,
            "init: %s", bptt_error_detail());
    REQUIRE((unsigned char *)ws >= buf + off &&
                (unsigned char *)ws < buf + off + want, "ws outside buf");
    A->free(ws);
    arena_free(&a);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: the squared-error loss                                                */
/* ------------------------------------------------------------------------ */

/* A count for loss and SGD, whose arrays the harness allocates: small, 0,
 * or so large (>= SIZE_MAX/2) that any extent of 4-byte elements
 * overflows — never a size that would fit and need gigabytes. */
static size_t pick_small(bytes *r, size_t max)
{
    unsigned v = u8(r) % 32;
    if (v < 28)
        return 1 + v % max;
    if (v == 28)
        return 0;
    return huge_sizes[2 + (v - 29) % (NHUGE - 2)];
}

static size_t pick_small_ld(bytes *r, size_t cols)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return cols + v % 4;
    if (v == 12)
        return cols - 1;
    return huge_sizes[2 + (v - 13) % (NHUGE - 2)];
}

/* rows x cols at ld fit in memory (the call's own overflow rule). */
static int extent_ok(const api *A, size_t rows, size_t ld)
{
    return (u128)rows * ld * A->r <= (u128)SIZE_MAX;
}

static int same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static void op_loss(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    fname(A, "loss_squared", fn);
    const size_t T = pick_small(r, 6), B = pick_small(r, 4);
    const size_t dout = pick_small(r, 9);
    const size_t ldy = pick_small_ld(r, dout), ldt = pick_small_ld(r, dout);
    const size_t lddy = pick_small_ld(r, dout);
    const unsigned flags = u8(r), nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, with_dy = !(flags & 2),
              with_mask = flags & 4;
    /* arrays for the call's shape when it is small, else a token 1 x 1 */
    const int small = T <= 6 && B <= 4 && dout <= 9;
    const size_t rows = small && T * B ? T * B : 1;
    const size_t cols = small && dout ? dout : 1;
    arena a = {0};
    mat y = mat_new(&a, A, r, rows, cols, ldy, 1, hostile);
    mat t = mat_new(&a, A, r, rows, cols, ldt, 1, hostile);
    mat dy = {0};
    if (with_dy)
        dy = mat_new(&a, A, r, rows, cols, lddy, 1, 1);
    unsigned char *mask = NULL;
    if (with_mask) {
        mask = arena_new(&a, rows);
        for (size_t k = 0; k < rows; k++)
            mask[k] = (unsigned char)(u8(r) & 1);
    }
    double *loss = arena_new(&a, sizeof(double));
    *loss = 4321;
    const void *cy = nulls & 1 ? NULL : y.p, *ct = nulls & 2 ? NULL : t.p;
    double *cl = nulls & 4 ? NULL : loss;

    unsigned faults = 0;
    if (!cy || !ct || !cl)
        faults |= BIT(BPTT_ENULL);
    if (!T || !B || !dout)
        faults |= BIT(BPTT_ESIZE);
    else if (ldy < dout || ldt < dout || (with_dy && lddy < dout))
        faults |= BIT(BPTT_ELD);
    else if ((u128)T * B > (u128)SIZE_MAX || !extent_ok(A, T * B, ldy) ||
             !extent_ok(A, T * B, ldt) ||
             (with_dy && !extent_ok(A, T * B, lddy)))
        faults |= BIT(BPTT_EOVERFLOW);
    REQUIRE(faults || small, "harness: a large valid loss call");

    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->loss(T, B, dout, cy, ldy, ct, ldt, mask, cl, dy.p,
                             lddy);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_OTHER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_OTHER_CHECKED);
    REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_strerror(st));
    REQUIRE(arena_changed(&a, dy.p, loss) < 0, "%s wrote an input", fn);
    REQUIRE(padding_kept(A, &a, dy), "%s wrote dy's padding", fn);
    /* eqs. (1)-(3) by the harness: dy = y − ŷ rounded to R (bitwise), the
     * loss summed in double in the same order */
    double sum = 0;
    for (size_t k = 0; k < T * B; k++)
        for (size_t i = 0; i < dout; i++) {
            double e = 0;
            if (!mask || mask[k]) {
                double yi = A->get(y.p, k * ldy + i);
                double ti = A->get(t.p, k * ldt + i);
                e = A->r == sizeof(float) ? (double)((float)yi - (float)ti)
                                          : yi - ti;
            }
            sum += 0.5 * e * e;
            if (dy.p)
                REQUIRE(same_value(A->get(dy.p, k * lddy + i), e),
                        "%s: dy[%zu][%zu] = %g, want %g", fn, k, i,
                        A->get(dy.p, k * lddy + i), e);
        }
    REQUIRE(same_value(*loss, sum) || fabs(*loss - sum) <= 1e-12 * fabs(sum),
            "%s: loss %.17g, want %.17g", fn, *loss, sum);
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: the SGD step of eq. (13)                                              */
/* ------------------------------------------------------------------------ */

static void op_sgd(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fn[64];
    fname(A, "sgd_step", fn);
    const size_t rows = pick_small(r, 8), cols = pick_small(r, 12);
    const size_t lddw = pick_small_ld(r, cols), ldw = pick_small_ld(r, cols);
    const unsigned flags = u8(r), asel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    static const double alphas[] = {0.1, 0, 1, -0.5, 1e-3, 3};
    double alpha = alphas[asel % 6];
    if (asel >= 224)
        alpha = A->special[(asel - 224) % 10];
    const int small = rows <= 8 && cols <= 12;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0};
    mat dW = mat_new(&a, A, r, rr, cc, lddw, 1, hostile);
    mat W = mat_new(&a, A, r, rr, cc, ldw, 1, hostile);
    const void *cdW = nulls & 1 ? NULL : dW.p;
    void *cW = nulls & 2 ? NULL : W.p;
    unsigned faults = 0;
    if (!cdW || !cW)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else if (lddw < cols || ldw < cols)
        faults |= BIT(BPTT_ELD);
    else if (!extent_ok(A, rows, lddw) || !extent_ok(A, rows, ldw))
        faults |= BIT(BPTT_EOVERFLOW);
    if (!isfinite(alpha))
        faults |= BIT(BPTT_EINVAL);
    REQUIRE(faults || small, "harness: a large valid sgd call");

    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->sgd(rows, cols, alpha, cdW, lddw, cW, ldw);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_OTHER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_OTHER_CHECKED);
    REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_strerror(st));
    REQUIRE(arena_changed(&a, W.p, NULL) < 0, "%s wrote dW", fn);
    REQUIRE(padding_kept(A, &a, W), "%s wrote W's padding", fn);
    /* eq. (13) by the harness, in R: W − α·dW, bitwise */
    const unsigned char *w0 = arena_snap_of(&a, W.p);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double w = A->get(w0, i * ldw + j), d = A->get(dW.p, i * lddw + j);
            double want = A->r == sizeof(float)
                              ? (double)((float)w - (float)alpha * (float)d)
                              : w - alpha * d;
            double got = A->get(W.p, i * ldw + j);
            REQUIRE(same_value(got, want), "%s: W[%zu][%zu] = %g, want %g", fn,
                    i, j, got, want);
        }
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: the small functions                                                   */
/* ------------------------------------------------------------------------ */

static void op_misc(bytes *r)
{
    const int code = (int)(int8_t)u8(r);
    const char *s = bptt_strerror((bptt_status)code);
    REQUIRE(s && s[0], "strerror(%d)", code);
    if (code < 0 || code >= BPTT_NSTATUS)
        REQUIRE(strcmp(s, "unknown status") == 0, "strerror(%d)", code);
    REQUIRE((bptt_algo_name((bptt_algo)code) != NULL) ==
                (code >= 0 && code < BPTT_NALGO), "algo_name(%d)", code);
    REQUIRE((bptt_activation_name((bptt_activation)code) != NULL) ==
                (code >= 0 && code < BPTT_NACTIVATION),
            "activation_name(%d)", code);
    REQUIRE(bptt_net_din(NULL) == 0 && bptt_net_dout(NULL) == 0, "NULL net");
    REQUIRE(bptt_net_activation(NULL, (size_t)code) == BPTT_NACTIVATION, "");
    const bptt_algo a = bptt_algo_resolve(NULL, pick_count(r, 9),
                                          pick_count(r, 9));
    REQUIRE(a > BPTT_ALGO_AUTO && a < BPTT_NALGO, "resolve gave %d", (int)a);
    REQUIRE(bpttf_workspace_check_finite(NULL, 1) == BPTT_ENULL, "check");
    bptt_workspace_free(NULL);
    bpttf_workspace_free(NULL);
    bptt_net_free(NULL);
    REQUIRE(bptt_version() && bptt_version()[0], "version");
}

/* ------------------------------------------------------------------------ */
/* The dispatch table: one op per module of the API (fuzz/README.md)        */
/* ------------------------------------------------------------------------ */

typedef struct op {
    const char *name;
    void (*run)(bytes *r);
} op;

static const op ops[] = {
    {"net_create", op_net_create},
    {"net_create_uniform", op_net_create_uniform},
    {"workspace", op_workspace},
    {"train_double", op_train_double},
    {"train_float", op_train_float},
    {"loss", op_loss},
    {"sgd", op_sgd},
    {"misc", op_misc},
};
#define NOPS (sizeof ops / sizeof ops[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (getenv("FUZZ_STATS"))
        atexit(print_hits);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bytes r = {data + 1, size - 1};
    ops[data[0] % NOPS].run(&r);
    return 0;
}
