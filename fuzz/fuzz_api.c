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
 *     stated tolerance, to those of the naive algorithm (forward, backward,
 *     Elman, RTRL), of another route to the same result (RTRL against
 *     BPTT, clipped SGD against clip + SGD) or of the harness's own loop
 *     or bounds (sizes, loss, SGD, norms, orthogonality, spectral bounds);
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
    H_OTHER_CHECKED, H_LATER_REJECTED, H_LATER_ACCEPTED, H_LATER_COMPARED,
    H_LATER_KINK, H_RTRL_BPTT, NHIT
};
static const char *const hit_name[NHIT] = {
    "forward rejected", "forward NaN/Inf input refused", "forward accepted",
    "forward NaN/Inf result reported", "forward compared with naive",
    "backward rejected", "backward NaN/Inf input refused",
    "backward accepted", "backward NaN/Inf result reported",
    "backward compared with naive", "backward not compared (ReLU kink)",
    "other calls rejected", "other calls checked against the harness",
    "later modules: calls rejected", "later modules: calls accepted",
    "later modules: compared with a reference",
    "later modules: not compared (ReLU kink)",
    "RTRL sequence compared with BPTT",
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
enum { MAXBUF = 128 };
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

/* A block of a gradient for the clip functions, either precision. */
typedef struct gblock {
    size_t rows, cols;
    void *a;
    size_t ld;
} gblock;
enum { MAXBLK = 4 };

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
    /* The later modules, through fuzz_wrap.h.  Workspace-like families
     * (Elman workspace, RTRL state) share one signature: (object, T, B). */
    bptt_status (*el_size)(const void *, size_t, size_t, size_t *);
    bptt_status (*el_alloc)(const void *, size_t, size_t, void **);
    bptt_status (*el_init)(const void *, size_t, size_t, void *, size_t,
                           void **);
    void (*el_free)(void *);
    bptt_status (*el_forward)(const bptt_elman *, size_t, size_t, const void *,
                              size_t, const void *, const void *, size_t,
                              const void *, const void *, size_t, const void *,
                              size_t, const int *, const void *, size_t,
                              double *, void *, size_t, void *, size_t,
                              bptt_algo, void *);
    bptt_status (*el_backward)(const bptt_elman *, size_t, size_t,
                               const void *, size_t, const void *, size_t,
                               const int *, const void *, size_t, double,
                               void *, size_t, void *, void *, size_t, void *,
                               void *, size_t, void *, size_t, bptt_algo,
                               void *);
    bptt_status (*rt_size)(const void *, size_t, size_t, size_t *);
    bptt_status (*rt_alloc)(const void *, size_t, size_t, void **);
    bptt_status (*rt_init)(const void *, size_t, size_t, void *, size_t,
                           void **);
    void (*rt_free)(void *);
    bptt_status (*rt_reset)(const bptt_net *, size_t, const void *, size_t,
                            void *);
    bptt_status (*rt_advance)(const bptt_net *, size_t, const void *, size_t,
                              const void *, const void *, size_t, void *,
                              size_t, bptt_rtrl_algo, void *);
    bptt_status (*rt_accumulate)(const bptt_net *, size_t, const void *,
                                 size_t, double, void *, size_t, void *,
                                 bptt_rtrl_algo, void *);
    bptt_status (*rt_step)(const bptt_net *, size_t, const void *, size_t,
                           const void *, const void *, size_t, const void *,
                           size_t, const unsigned char *, void *, size_t,
                           double *, double, void *, size_t, void *,
                           bptt_rtrl_algo, void *);
    bptt_status (*rt_sequence)(const bptt_net *, size_t, size_t, const void *,
                               size_t, const void *, const void *, size_t,
                               const void *, size_t, const void *, size_t,
                               const unsigned char *, void *, size_t, double *,
                               double, void *, size_t, void *, bptt_rtrl_algo,
                               void *);
    bptt_status (*init_random)(size_t, size_t, bptt_dist, double, uint64_t,
                               void *, size_t);
    bptt_status (*init_glorot)(size_t, size_t, bptt_dist, double, uint64_t,
                               void *, size_t);
    bptt_status (*init_orthogonal)(size_t, size_t, double, uint64_t, void *,
                                   size_t);
    bptt_status (*init_rescale)(size_t, double, void *, size_t, double *);
    bptt_status (*radius)(size_t, const void *, size_t, double *);
    bptt_status (*norm)(size_t, size_t, const void *, size_t, double *);
    bptt_status (*record_flow)(void *, double *, double *);
    bptt_status (*lag_profile)(const bptt_net *, size_t, size_t, const void *,
                               size_t, const void *, size_t, double *,
                               double *, void *);
    bptt_status (*clip)(size_t, const gblock *, double, double *, double *);
    bptt_status (*sgd_clipped)(size_t, double, const gblock *, double,
                               const gblock *, double *, double *);
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

#define FR double
#define FW(name) d_##name
#define FL(name) bptt_##name
#define FEWS bptt_elman_workspace
#define FRT bptt_rtrl
#define FBLOCK bptt_block
#include "fuzz_wrap.h"
#undef FR
#undef FW
#undef FL
#undef FEWS
#undef FRT
#undef FBLOCK
#define FR float
#define FW(name) f_##name
#define FL(name) bpttf_##name
#define FEWS bpttf_elman_workspace
#define FRT bpttf_rtrl
#define FBLOCK bpttf_block
#include "fuzz_wrap.h"
#undef FR
#undef FW
#undef FL
#undef FEWS
#undef FRT
#undef FBLOCK

/* The later modules' entries of one precision (p: d or f). */
#define LATER(p)                                                               \
    .el_size = p##_el_size, .el_alloc = p##_el_alloc, .el_init = p##_el_init,   \
    .el_free = p##_el_free, .el_forward = p##_el_forward,                      \
    .el_backward = p##_el_backward, .rt_size = p##_rt_size,                    \
    .rt_alloc = p##_rt_alloc, .rt_init = p##_rt_init, .rt_free = p##_rt_free,  \
    .rt_reset = p##_rt_reset, .rt_advance = p##_rt_advance,                    \
    .rt_accumulate = p##_rt_accumulate, .rt_step = p##_rt_step,                \
    .rt_sequence = p##_rt_sequence, .init_random = p##_init_random,            \
    .init_glorot = p##_init_glorot, .init_orthogonal = p##_init_orthogonal,    \
    .init_rescale = p##_init_rescale, .radius = p##_radius, .norm = p##_norm,  \
    .record_flow = p##_record_flow, .lag_profile = p##_lag_profile,            \
    .clip = p##_clip, .sgd_clipped = p##_sgd_clipped

static const api apis[2] = {
    {"bptt_", sizeof(double), 1e-9,
     {NAN, -NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, 1e300, DBL_TRUE_MIN,
      -DBL_MIN / 4, -0.0},
     bptt_workspace_size, d_alloc, d_init, d_free, d_check, d_forward,
     d_backward, d_loss, d_sgd, d_get, d_set, LATER(d)},
    {"bpttf_", sizeof(float), 2e-3,
     {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e30, FLT_TRUE_MIN,
      -FLT_MIN / 4, -0.0},
     bpttf_workspace_size, f_alloc, f_init, f_free, f_check, f_forward,
     f_backward, f_loss, f_sgd, f_get, f_set, LATER(f)},
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
                snprintf(why, sizeof why, "[%zu][%zu] = %.17g, reference %.17g "
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
    const size_t rows = small && T * B != 0 ? T * B : 1;
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
    /* the later modules' names, accessors and frees */
    REQUIRE((bptt_head_name((bptt_head)code) != NULL) ==
                (code >= 0 && code < BPTT_NHEAD), "head_name(%d)", code);
    REQUIRE((bptt_rtrl_algo_name((bptt_rtrl_algo)code) != NULL) ==
                (code >= 0 && code < BPTT_RTRL_NALGO),
            "rtrl_algo_name(%d)", code);
    REQUIRE(bptt_elman_net(NULL) == NULL && bptt_elman_nout(NULL) == 0 &&
                bptt_elman_head(NULL) == BPTT_NHEAD, "NULL elman");
    bptt_elman_free(NULL);
    bptt_elman_workspace_free(NULL);
    bpttf_elman_workspace_free(NULL);
    bptt_rtrl_free(NULL);
    bpttf_rtrl_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Helpers of the later modules' ops                                         */
/* ------------------------------------------------------------------------ */

static u128 up64(u128 n)
{
    return (n + 63) / 64 * 64;
}

/* v clamped to 1..max: the rows the harness allocates for a count v. */
static size_t clampc(size_t v, size_t max)
{
    return v < 1 ? 1 : v > max ? max : v;
}

/* The status T and B earn against a capacity. */
static unsigned count_fault(size_t T, size_t B, size_t Tmax, size_t Bmax)
{
    if (!T || !B)
        return BIT(BPTT_ESIZE);
    return T > Tmax || B > Bmax ? BIT(BPTT_ECAPACITY) : 0;
}

/* A dense rows x cols matrix of zeros in an arena (a reference's output). */
static mat mat_dense(arena *a, const api *A, size_t rows, size_t cols)
{
    mat M = {arena_new(a, rows * cols * A->r), rows, cols, cols, cols};
    memset(M.p, 0, rows * cols * A->r);
    return M;
}

/* A copy of M as it was at the snapshot of arena a: the starting values of
 * an output, for a reference call that accumulates into them. */
static mat mat_snap_copy(arena *ref, const api *A, const arena *a, mat M)
{
    mat C = mat_copy(ref, A, M);
    const unsigned char *s = C.p ? arena_snap_of(a, M.p) : NULL;
    if (s)
        memcpy(C.p, s, ((M.rows - 1) * M.sld + M.cols) * A->r);
    return C;
}

/* A valid call wrote nothing but the buffers outs[0..n-1] (NULLs skipped). */
static void require_only(const arena *a, void *const *outs, int n,
                         const char *fn)
{
    for (int i = 0; i < a->k; i++) {
        int out = 0;
        for (int j = 0; j < n; j++)
            out |= outs[j] != NULL && a->p[i] == outs[j];
        REQUIRE(out || memcmp(a->snap[i], a->p[i], a->n[i]) == 0,
                "%s wrote input buffer %d", fn, i);
    }
}

/* The largest |element| of M's block (0 for an absent M). */
static double mat_amax(const api *A, mat M)
{
    double x = 0;
    for (size_t i = 0; M.p && i < M.rows; i++)
        for (size_t j = 0; j < M.cols; j++)
            x = fmax(x, fabs(mat_get(A, M, i, j)));
    return x;
}

/* Finite and bounded by 1e6 (the inputs whose results are compared). */
static int mat_tame(const api *A, mat M)
{
    return mat_finite(A, M) && mat_amax(A, M) <= 1e6;
}

/* The Frobenius norm of rows r0.. r0+rows-1 of M in long double (no
 * overflow for any double), NaN if one is NaN, +inf if one is infinite. */
static long double frob(const api *A, mat M, size_t r0, size_t rows)
{
    long double s = 0;
    for (size_t i = r0; i < r0 + rows; i++)
        for (size_t j = 0; j < M.cols; j++) {
            long double v = mat_get(A, M, i, j);
            s += v * v;
        }
    return sqrtl(s);
}

/* got is the norm want up to relative tol (and the rounding of a denormal
 * result): NaN for NaN, +inf for +inf or beyond the largest double. */
static int norm_close(double got, long double want, double tol)
{
    if (isnan(want) || isinf(want))
        return same_value(got, (double)want);
    return fabsl(got - want) <= tol * want + 4 * DBL_TRUE_MIN ||
           (want > (long double)DBL_MAX && got == INFINITY);
}

static int ralgo_ok(bptt_rtrl_algo a)
{
    return (unsigned)a < BPTT_RTRL_NALGO;
}

static bptt_rtrl_algo pick_ralgo(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_rtrl_algo)(v % BPTT_RTRL_NALGO);
    static const int bad[] = {BPTT_RTRL_NALGO, -1, 1000, INT_MIN};
    return (bptt_rtrl_algo)bad[v - 12];
}

/* beta of a backward-like call: from a list, or hostile. */
static double pick_beta(bytes *r, const api *A, int hostile)
{
    static const double betas[] = {0, 1, 0.5, -1.5, 0, 2, 0, 1};
    const unsigned v = u8(r);
    return hostile && v >= 224 ? A->special[(v - 224) % 10] : betas[v % 8];
}

/* ------------------------------------------------------------------------ */
/* The size query, alloc and init of a workspace-like family                 */
/* ------------------------------------------------------------------------ */

/* Elman workspaces and RTRL states: (object, T, Bmax) as fuzz_wrap.h
 * adapts them. */
typedef struct family {
    const char *name[3]; /* size, alloc, init, without the prefix */
    bptt_status (*size)(const void *, size_t, size_t, size_t *);
    bptt_status (*alloc)(const void *, size_t, size_t, void **);
    bptt_status (*init)(const void *, size_t, size_t, void *, size_t, void **);
    void (*free)(void *);
} family;

/* The query gives want (computed by the harness; 0: overflow) or is
 * rejected for the faults; alloc and init agree with it, init refuses one
 * byte less without a write, and nothing is written on error. */
static void check_family(bytes *r, const api *A, const family *F,
                         const void *obj, size_t T, size_t B, size_t want,
                         unsigned faults)
{
    char fn[64];
    const unsigned nulls = (u8(r) & 0xF0) == 0xF0 ? u8(r) : 0;
    size_t bytes = 12345;
    fname(A, F->name[0], fn);
    mark_detail();
    bptt_status st = F->size(obj, T, B, nulls & 1 ? NULL : &bytes);
    const unsigned allowed = faults | (nulls & 1 ? BIT(BPTT_ENULL) : 0);
    if (allowed) {
        REQUIRE(st != BPTT_OK && (allowed >> st & 1u),
                "%s: %s, faults 0x%x", fn, bptt_strerror(st), allowed);
        REQUIRE(strncmp(bptt_error_detail(), fn, strlen(fn)) == 0,
                "%s: detail \"%s\"", fn, bptt_error_detail());
        REQUIRE(bytes == 12345, "%s wrote bytes on error", fn);
        HIT(H_LATER_REJECTED);
    } else {
        REQUIRE(st == BPTT_OK && bytes == want,
                "%s: %s, %zu bytes, formula %zu", fn, bptt_strerror(st), bytes,
                want);
        HIT(H_LATER_COMPARED);
    }
    void *sentinel = &bytes, *ws = sentinel;
    arena a = {0};
    if (faults) {
        fname(A, F->name[1], fn);
        mark_detail();
        st = F->alloc(obj, T, B, &ws);
        REQUIRE(st != BPTT_OK && (faults >> st & 1u) && ws == sentinel &&
                    strncmp(bptt_error_detail(), fn, strlen(fn)) == 0,
                "%s on error: %s, detail \"%s\"", fn, bptt_strerror(st),
                bptt_error_detail());
        fname(A, F->name[2], fn);
        unsigned char *small = arena_new(&a, 64);
        arena_snapshot(&a);
        mark_detail();
        st = F->init(obj, T, B, small, 64, &ws);
        require_rejected(st, faults, fn, &a);
        REQUIRE(ws == sentinel, "%s wrote *ws on error", fn);
        arena_free(&a);
        return;
    }
    if (want > ((size_t)64 << 20))
        return;
    fname(A, F->name[1], fn);
    mark_detail();
    st = F->alloc(obj, T, B, nulls & 2 ? NULL : &ws);
    REQUIRE(st == (nulls & 2 ? BPTT_ENULL : BPTT_OK), "%s: %s", fn,
            bptt_strerror(st));
    if (!(nulls & 2)) {
        REQUIRE(ws != sentinel && ws != NULL, "%s gave nothing", fn);
        F->free(ws);
    }
    /* the caller's buffer at any alignment: one byte short and NULL are
     * refused without a write, exactly big enough is used inside */
    fname(A, F->name[2], fn);
    const size_t off = u8(r) % 64;
    unsigned char *buf = arena_new(&a, want + off);
    arena_snapshot(&a);
    ws = sentinel;
    mark_detail();
    st = F->init(obj, T, B, buf + off, want - 1, &ws);
    require_rejected(st, BIT(BPTT_EBUFFER), fn, &a);
    mark_detail();
    st = F->init(obj, T, B, NULL, want, &ws);
    require_rejected(st, BIT(BPTT_ENULL), fn, &a);
    REQUIRE(ws == sentinel, "%s wrote *ws on error", fn);
    REQUIRE(F->init(obj, T, B, buf + off, want, &ws) == BPTT_OK, "%s: %s", fn,
            bptt_error_detail());
    REQUIRE((unsigned char *)ws >= buf + off &&
                (unsigned char *)ws < buf + off + want, "%s: ws outside buf",
            fn);
    F->free(ws); /* frees nothing */
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: Network B's descriptor and workspace                                  */
/* ------------------------------------------------------------------------ */

/* The documented size (bptt/elman.h) in 128 bits, 0 if it overflows. */
static size_t elman_formula(size_t r, size_t T, size_t B, size_t m, size_t dh,
                            size_t nout)
{
    const size_t core = formula(r, T, B, m, dh);
    if (!core)
        return 0;
    const u128 rows = (u128)T * B;
    const u128 total = (u128)core + 256 + 2 * up64(rows * nout * r) +
                       2 * up64(rows * dh * r);
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

static void op_elman_ws(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    /* a small core, or one with din + dh up to INT_MAX */
    const unsigned v = u8(r);
    const size_t dh = 1 + u8(r) % 16;
    const size_t din = v & 1 ? (size_t)INT_MAX - dh - u8(r) : 1 + u8(r) % 16;
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t nout = pick_dim(r);
    const unsigned hv = u8(r) % 8, nulls = u8(r);
    static const int bad_head[] = {BPTT_NHEAD, -1};
    const bptt_head head = hv < 6 ? (bptt_head)(hv % BPTT_NHEAD)
                                  : (bptt_head)bad_head[hv - 6];
    unsigned faults = 0;
    if ((nulls & 0x0F) == 0x0F)
        faults |= BIT(BPTT_ENULL);
    if (nout == 0)
        faults |= BIT(BPTT_ESIZE);
    else if (nout > (size_t)INT_MAX)
        faults |= BIT(BPTT_EOVERFLOW);
    if ((unsigned)head >= BPTT_NHEAD)
        faults |= BIT(BPTT_EINVAL);
    bptt_elman *sentinel = (bptt_elman *)&faults, *el = sentinel;
    mark_detail();
    bptt_status st = bptt_elman_create((nulls & 0x1F) == 0x0F ? NULL : net,
                                       nout, head,
                                       (nulls & 0x1F) == 0x1F ? NULL : &el);
    if (faults) {
        REQUIRE(st != BPTT_OK && (faults >> st & 1u),
                "bptt_elman_create: %s, faults 0x%x", bptt_strerror(st),
                faults);
        REQUIRE(strncmp(bptt_error_detail(), "bptt_elman_create", 17) == 0,
                "bptt_elman_create: detail \"%s\"", bptt_error_detail());
        REQUIRE(el == sentinel, "bptt_elman_create wrote *el on error");
        HIT(H_LATER_REJECTED);
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "bptt_elman_create: %s", bptt_strerror(st));
    REQUIRE(bptt_elman_net(el) == net && bptt_elman_nout(el) == nout &&
                bptt_elman_head(el) == head, "bptt_elman accessors");
    /* the workspace of the descriptor, through the family check */
    const size_t Tmax = pick_count(r, 8), Bmax = pick_count(r, 8);
    const bptt_elman *cel = (u8(r) & 0x0F) == 0x0F ? NULL : el;
    faults = 0;
    if (!cel)
        faults |= BIT(BPTT_ENULL);
    if (!Tmax || !Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = elman_formula(A->r, Tmax, Bmax, din + dh, dh, nout);
    if (Tmax && Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);
    const family F = {{"elman_workspace_size", "elman_workspace_alloc",
                       "elman_workspace_init"},
                      A->el_size, A->el_alloc, A->el_init, A->el_free};
    check_family(r, A, &F, cel, Tmax, Bmax, want, faults);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: Network B, forward and backward (both heads, every algorithm)         */
/* ------------------------------------------------------------------------ */

/* The targets of an Elman call over rows steps — class labels, soft or
 * regression labels L, both or none, valid or not — and the statuses they
 * earn with the head (bptt/elman.h). */
typedef struct targets {
    int *labels;
    mat L;
    size_t ldl;
    unsigned faults;
    int tame; /* valid, finite and bounded */
} targets;

static targets pick_targets(bytes *r, arena *a, const api *A, bptt_head head,
                            size_t rows, size_t nout)
{
    targets tg = {0};
    const unsigned kind = u8(r), k = kind % 8;
    const int soft = head == BPTT_HEAD_SOFTMAX, hostile = (kind & 0x30) == 0x30;
    const int bad = (kind & 0xC0) == 0xC0;
    const int with_labels = soft ? k < 3 || k == 6 : k == 6;
    const int with_L = soft ? (k >= 3 && k < 6) || k == 6 : k < 6;
    tg.ldl = pick_ld(r, rows, nout);
    int labels_ok = 1;
    if (with_labels) {
        tg.labels = arena_new(a, rows * sizeof(int));
        for (size_t i = 0; i < rows; i++) {
            const unsigned v = u8(r);
            static const int wrong[] = {-2, INT_MIN, INT_MAX, 0};
            int lab = v % 8 == 7 ? BPTT_IGNORE_LABEL : (int)(v % nout);
            if (bad && v >= 224)
                lab = v % 4 == 3 ? (int)nout : wrong[v % 4];
            tg.labels[i] = lab;
            labels_ok &= lab == BPTT_IGNORE_LABEL ||
                         (lab >= 0 && (size_t)lab < nout);
        }
    }
    if (with_L) {
        tg.L = mat_new(a, A, r, rows, nout, tg.ldl, 1, hostile);
        /* soft labels: the bounded values made >= 0 (the hostile ones
         * keep their sign: −Inf, −max, NaN must be refused) */
        const size_t n = (tg.L.rows - 1) * tg.L.sld + tg.L.cols;
        for (size_t i = 0; soft && i < n; i++)
            if (fabs(A->get(tg.L.p, i)) <= 1)
                A->set(tg.L.p, i, fabs(A->get(tg.L.p, i)));
    }
    if (!soft) {
        tg.faults = tg.labels ? BIT(BPTT_EINVAL)
                    : !with_L ? BIT(BPTT_ENULL)
                              : ld_fault(tg.ldl, nout);
    } else if (tg.labels && tg.L.p) {
        tg.faults = BIT(BPTT_EINVAL);
    } else if (!tg.labels && !tg.L.p) {
        tg.faults = BIT(BPTT_ENULL);
    } else if (tg.labels) {
        tg.faults = labels_ok ? 0 : BIT(BPTT_EINVAL);
    } else if (!(tg.faults = ld_fault(tg.ldl, nout))) {
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < nout; j++) {
                const double v = mat_get(A, tg.L, i, j);
                if (!(v >= 0) || isinf(v))
                    tg.faults = BIT(BPTT_EINVAL);
            }
    }
    tg.tame = !tg.faults && (!tg.L.p || mat_amax(A, tg.L) <= 1) &&
              mat_finite(A, tg.L);
    return tg;
}

/* The loss of the head from y (bptt/elman.h), by the harness in long
 * double: −Σ lᵀ log y (softmax, labels or L) or ½ Σ ‖y − l‖² (linear). */
static double head_loss(const api *A, bptt_head head, size_t rows,
                        size_t nout, mat y, const targets *tg)
{
    long double E = 0;
    for (size_t k = 0; k < rows; k++)
        for (size_t j = 0; j < nout; j++) {
            const long double yj = mat_get(A, y, k, j);
            if (head == BPTT_HEAD_LINEAR) {
                const long double e = yj - mat_get(A, tg->L, k, j);
                E += e * e / 2;
            } else if (tg->labels) {
                E -= tg->labels[k] == (int)j ? logl(yj) : 0;
            } else {
                const long double l = mat_get(A, tg->L, k, j);
                E -= l != 0 ? l * logl(yj) : 0;
            }
        }
    return (double)E;
}

/* The inputs of the forward kept in the Elman workspace. */
typedef struct ekept {
    int have, bounded;
    size_t T, B;
    mat W, bh, Wo, bo, x, h0;
} ekept;

/* Option bits of an Elman forward round, and of its backward. */
enum {
    E_BH = 1, E_BO = 2, E_H0 = 4, E_H = 8, E_Y = 16, E_LOSS = 32,
    E_HOSTILE = 64, E_MISMATCH = 128,
    EB_NEW_TB = 3, EB_GARBAGE = 4, EB_MISMATCH = 8, EB_NO_DBH = 16,
    EB_NO_DBO = 32, EB_NO_DX = 64, EB_NO_DH0 = 128
};

/* A run of 1 to 3 rounds of Elman forward and backward on one workspace,
 * against BPTT_ALGO_NAIVE (whose readout and head are loops too), the
 * softmax's rows summing to 1 and the loss recomputed from y. */
static void elman(bytes *r, const api *A)
{
    char fnf[64], fnb[64];
    fname(A, "elman_forward", fnf);
    fname(A, "elman_backward", fnb);
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 6, dh = 1 + u8(r) % 6, m = din + dh;
    const size_t nout = 1 + u8(r) % 6;
    bptt_activation act[6];
    for (size_t i = 0; i < dh; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    const bptt_head head = (bptt_head)(u8(r) % BPTT_NHEAD);
    bptt_net *net = NULL;
    bptt_elman *el = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dh, act, &custom, &net) == BPTT_OK, "net");
    REQUIRE(bptt_elman_create(net, nout, head, &el) == BPTT_OK &&
                bptt_elman_create(net, nout, head, &other) == BPTT_OK,
            "elman");
    const size_t Tmax = 1 + u8(r) % 5, Bmax = 1 + u8(r) % 4;
    size_t bytes_ws = 0;
    REQUIRE(A->el_size(el, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->el_init(el, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->el_alloc(el, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    const double sum_tol = A->r == sizeof(float) ? 1e-5 : 1e-13;
    ekept k = {0};
    const unsigned rounds = 1 + u8(r) % 3;

    for (unsigned round = 0; round < rounds; round++) {
    /* ---- forward ---- */
    const unsigned opt = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = (opt & E_HOSTILE) != 0;
    const size_t T = pick_count(r, Tmax), B = pick_count(r, Bmax);
    const size_t TB = clampc(T, Tmax) * clampc(B, Bmax);
    const size_t ldw = pick_ld(r, dh, m), ldwo = pick_ld(r, nout, dh);
    const size_t ldx = pick_ld(r, TB, din), ldh0 = pick_ld(r, clampc(B, Bmax), dh);
    const size_t ldh = pick_ld(r, TB, dh), ldy = pick_ld(r, TB, nout);
    const bptt_algo fa = pick_algo(r);
    mat W = mat_new(&a, A, r, dh, m, ldw, 1.0 / (double)m, hostile);
    mat Wo = mat_new(&a, A, r, nout, dh, ldwo, 1, hostile);
    mat bh = {0}, bo = {0}, h0 = {0}, h = {0}, y = {0};
    if (opt & E_BH)
        bh = mat_new(&a, A, r, 1, dh, dh, 1, hostile);
    if (opt & E_BO)
        bo = mat_new(&a, A, r, 1, nout, nout, 1, hostile);
    mat x = mat_new(&a, A, r, TB, din, ldx, 1, hostile);
    if (opt & E_H0)
        h0 = mat_new(&a, A, r, clampc(B, Bmax), dh, ldh0, 1, hostile);
    if (opt & E_H)
        h = mat_new(&a, A, r, TB, dh, ldh, 1, 1);
    if (opt & E_Y)
        y = mat_new(&a, A, r, TB, nout, ldy, 1, 1);
    const targets tg = pick_targets(r, &a, A, head, TB, nout);
    double *E = opt & E_LOSS ? arena_new(&a, sizeof(double)) : NULL;
    if (E)
        *E = 4321;

    const bptt_elman *cel = nulls & 1 ? NULL : opt & E_MISMATCH ? other : el;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p, *cWo = nulls & 8 ? NULL : Wo.p;
    const void *cx = nulls & 16 ? NULL : x.p;
    unsigned faults = count_fault(T, B, Tmax, Bmax);
    if (!cel || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cel != el)
        faults |= BIT(BPTT_EMISMATCH);
    if (!algo_ok(fa))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cWo ? ld_fault(ldwo, dh) : BIT(BPTT_ENULL);
    faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    if (h0.p)
        faults |= ld_fault(ldh0, dh);
    if (h.p)
        faults |= ld_fault(ldh, dh);
    if (y.p)
        faults |= ld_fault(ldy, nout);
    if (E)
        faults |= tg.faults;

    trace("round %u %s: din %zu dh %zu nout %zu head %d, ws %zu x %zu, "
          "opt 0x%x nulls 0x%x, T %zu B %zu algo %d, targets faults 0x%x\n",
          round, fnf, din, dh, nout, (int)head, Tmax, Bmax, opt, nulls, T, B,
          (int)fa, tg.faults);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = A->el_forward(cel, T, B, cW, ldw, bh.p, cWo, ldwo, bo.p,
                                   cx, ldx, h0.p, ldh0, tg.labels, tg.L.p,
                                   tg.ldl, E, h.p, ldh, y.p, ldy, fa, cws);
    if (faults) {
        require_rejected(st, faults, fnf, &a);
        HIT(H_LATER_REJECTED);
    } else {
        HIT(H_LATER_ACCEPTED);
        REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnf,
                bptt_strerror(st));
        void *const outs[] = {h.p, y.p, E, wsbuf};
        require_only(&a, outs, 4, fnf);
        REQUIRE(padding_kept(A, &a, h) && padding_kept(A, &a, y),
                "%s wrote an output's padding", fnf);
        if (!hostile && (!E || tg.tame)) {
            REQUIRE(mat_finite(A, h) && mat_finite(A, y) &&
                        (!E || isfinite(*E)), "%s: bounded inputs, results "
                    "not finite", fnf);
            mat hr = mat_dense(&ref, A, TB, dh), yr = mat_dense(&ref, A, TB, nout);
            double Er = 0;
            REQUIRE(A->el_forward(el, T, B, W.p, ldw, bh.p, Wo.p, ldwo, bo.p,
                                  x.p, ldx, h0.p, ldh0, tg.labels, tg.L.p,
                                  tg.ldl, E ? &Er : NULL, hr.p, dh, yr.p,
                                  nout, BPTT_ALGO_NAIVE, rws) == BPTT_OK,
                    "naive forward: %s", bptt_error_detail());
            if (h.p)
                REQUIRE(mat_close(A, h, hr, A->tol), "%s (%s) h%s", fnf,
                        bptt_algo_name(fa), why);
            if (y.p)
                REQUIRE(mat_close(A, y, yr, A->tol), "%s (%s) y%s", fnf,
                        bptt_algo_name(fa), why);
            if (E) {
                REQUIRE(fabs(*E - Er) <= A->tol * (1 + fabs(Er)),
                        "%s (%s): E %.17g, naive %.17g", fnf,
                        bptt_algo_name(fa), *E, Er);
                const double Eh = head_loss(A, head, TB, nout, yr, &tg);
                REQUIRE(fabs(Er - Eh) <= A->tol * (1 + fabs(Eh)),
                        "%s: E %.17g, from y %.17g", fnf, Er, Eh);
            }
            /* a softmax row is a distribution */
            for (size_t i = 0; head == BPTT_HEAD_SOFTMAX && i < TB; i++) {
                double s = 0;
                for (size_t j = 0; j < nout; j++) {
                    const double p = mat_get(A, yr, i, j);
                    REQUIRE(p >= 0 && p <= 1, "%s: y[%zu][%zu] = %g", fnf, i,
                            j, p);
                    s += p;
                }
                REQUIRE(fabs(s - 1) <= sum_tol * (double)nout,
                        "%s: row %zu of y sums to %.17g", fnf, i, s);
            }
            HIT(H_LATER_COMPARED);
        }
        k = (ekept){1, !hostile, T, B, W, bh, Wo, bo, x, h0};
    }

    /* ---- backward, after the forward kept in ws (or none) ---- */
    const unsigned bopt = u8(r);
    const unsigned bnulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const size_t Tb = bopt & EB_NEW_TB ? T : pick_count(r, Tmax);
    const size_t Bb = bopt & EB_NEW_TB ? B : pick_count(r, Bmax);
    const size_t TBb = clampc(Tb, Tmax) * clampc(Bb, Bmax);
    const size_t lddw = pick_ld(r, dh, m), lddwo = pick_ld(r, nout, dh);
    const size_t lddx = pick_ld(r, TBb, din);
    const size_t lddh0 = pick_ld(r, clampc(Bb, Bmax), dh);
    const bptt_algo ba = pick_algo(r);
    const double beta = pick_beta(r, A, hostile);
    const targets tb = pick_targets(r, &a, A, head, TBb, nout);
    const int garbage = (bopt & EB_GARBAGE) != 0;
    mat dW = mat_new(&a, A, r, dh, m, lddw, 1, garbage);
    mat dWo = mat_new(&a, A, r, nout, dh, lddwo, 1, garbage);
    mat dbh = {0}, dbo = {0}, dx = {0}, dh0 = {0};
    if (!(bopt & EB_NO_DBH))
        dbh = mat_new(&a, A, r, 1, dh, dh, 1, garbage);
    if (!(bopt & EB_NO_DBO))
        dbo = mat_new(&a, A, r, 1, nout, nout, 1, garbage);
    if (!(bopt & EB_NO_DX))
        dx = mat_new(&a, A, r, TBb, din, lddx, 1, garbage);
    if (!(bopt & EB_NO_DH0))
        dh0 = mat_new(&a, A, r, clampc(Bb, Bmax), dh, lddh0, 1, garbage);

    cel = bnulls & 1 ? NULL : bopt & EB_MISMATCH ? other : el;
    cws = bnulls & 2 ? NULL : ws;
    cW = bnulls & 4 ? NULL : W.p;
    cWo = bnulls & 8 ? NULL : Wo.p;
    void *cdW = bnulls & 16 ? NULL : dW.p, *cdWo = bnulls & 32 ? NULL : dWo.p;
    faults = count_fault(Tb, Bb, Tmax, Bmax) | tb.faults;
    if (!cel || !cws)
        faults |= BIT(BPTT_ENULL);
    else if (cel != el)
        faults |= BIT(BPTT_EMISMATCH);
    if (!algo_ok(ba))
        faults |= BIT(BPTT_EALGO);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    faults |= cWo ? ld_fault(ldwo, dh) : BIT(BPTT_ENULL);
    faults |= cdW ? ld_fault(lddw, m) : BIT(BPTT_ENULL);
    faults |= cdWo ? ld_fault(lddwo, dh) : BIT(BPTT_ENULL);
    if (dx.p)
        faults |= ld_fault(lddx, din);
    if (dh0.p)
        faults |= ld_fault(lddh0, dh);
    if (!k.have || Tb != k.T || Bb != k.B)
        faults |= BIT(BPTT_ENOFORWARD);
    if (!isfinite(beta))
        faults |= BIT(BPTT_EINVAL);

    trace("round %u %s: T %zu B %zu algo %d beta %g, opt 0x%x nulls 0x%x, "
          "targets faults 0x%x\n", round, fnb, Tb, Bb, (int)ba, beta, bopt,
          bnulls, tb.faults);
    arena_snapshot(&a);
    mark_detail();
    st = A->el_backward(cel, Tb, Bb, cW, ldw, cWo, ldwo, tb.labels, tb.L.p,
                        tb.ldl, beta, cdW, lddw, dbh.p, cdWo, lddwo, dbo.p,
                        dx.p, lddx, dh0.p, lddh0, ba, cws);
    if (faults) {
        require_rejected(st, faults, fnb, &a);
        HIT(H_LATER_REJECTED);
        continue;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnb, bptt_strerror(st));
    void *const bouts[] = {dW.p, dWo.p, dbh.p, dbo.p, dx.p, dh0.p, wsbuf};
    require_only(&a, bouts, 7, fnb);
    REQUIRE(padding_kept(A, &a, dW) && padding_kept(A, &a, dWo) &&
                padding_kept(A, &a, dx) && padding_kept(A, &a, dh0),
            "%s wrote an output's padding", fnb);
    if (!(k.bounded && !hostile && tb.tame && (!garbage || beta == 0)))
        continue;
    REQUIRE(mat_finite(A, dW) && mat_finite(A, dWo) && mat_finite(A, dbh) &&
                mat_finite(A, dbo) && mat_finite(A, dx) && mat_finite(A, dh0),
            "%s: bounded inputs, results not finite", fnb);
    /* the naive forward of the kept inputs (its h shows the ReLU kinks),
     * then the naive backward from the same starting outputs */
    mat hr = mat_dense(&ref, A, k.T * k.B, dh);
    REQUIRE(A->el_forward(el, k.T, k.B, k.W.p, k.W.ld, k.bh.p, k.Wo.p, k.Wo.ld,
                          k.bo.p, k.x.p, k.x.ld, k.h0.p, k.h0.ld, NULL, NULL,
                          0, NULL, hr.p, dh, NULL, 0, BPTT_ALGO_NAIVE, rws) ==
                BPTT_OK, "naive forward: %s", bptt_error_detail());
    if (relu_kink(A, act, din, dh, k.T, k.B, k.W, k.bh, k.x, k.h0, hr)) {
        HIT(H_LATER_KINK);
        continue;
    }
    mat rdW = mat_snap_copy(&ref, A, &a, dW), rdWo = mat_snap_copy(&ref, A, &a, dWo);
    mat rdbh = mat_snap_copy(&ref, A, &a, dbh), rdbo = mat_snap_copy(&ref, A, &a, dbo);
    mat rdx = mat_snap_copy(&ref, A, &a, dx), rdh0 = mat_snap_copy(&ref, A, &a, dh0);
    REQUIRE(A->el_backward(el, Tb, Bb, W.p, ldw, Wo.p, ldwo, tb.labels, tb.L.p,
                           tb.ldl, beta, rdW.p, lddw, rdbh.p, rdWo.p, lddwo,
                           rdbo.p, rdx.p, lddx, rdh0.p, lddh0,
                           BPTT_ALGO_NAIVE, rws) == BPTT_OK,
            "naive backward: %s", bptt_error_detail());
    const mat got[] = {dW, dWo, dbh, dbo, dx, dh0};
    const mat want[] = {rdW, rdWo, rdbh, rdbo, rdx, rdh0};
    static const char *const names[] = {"dW", "dWo", "dbh", "dbo", "dx", "dh0"};
    for (int i = 0; i < 6; i++)
        REQUIRE(!got[i].p || mat_close(A, got[i], want[i], A->tol),
                "%s (%s) %s%s", fnb, bptt_algo_name(ba), names[i], why);
    HIT(H_LATER_COMPARED);
    }

    A->el_free(ws); /* placed in wsbuf: frees nothing */
    A->el_free(rws);
    bptt_elman_free(el);
    bptt_elman_free(other);
    bptt_net_free(net);
    arena_free(&a);
    arena_free(&ref);
}

static void op_elman_double(bytes *r) { elman(r, &apis[0]); }
static void op_elman_float(bytes *r) { elman(r, &apis[1]); }

/* ------------------------------------------------------------------------ */
/* op: the RTRL state's size, alloc and init                                 */
/* ------------------------------------------------------------------------ */

/* The documented size (bptt/rtrl.h) in 128 bits, 0 if it overflows or a
 * BLAS dimension (Bmax·n, n(m+1) + p) exceeds INT_MAX. */
static size_t rtrl_formula(size_t r, size_t Bmax, size_t n, size_t m)
{
    const u128 p = 64 / r, cols = (u128)n * (m + 1);
    const u128 cw = 64 * (n < 1024 ? 1024 / n : 1), c = cw < cols ? cw : cols;
    if ((u128)Bmax * n > (u128)INT_MAX || cols + p > (u128)INT_MAX)
        return 0;
    const u128 total = 256 + up64(r * Bmax * n * (cols + p)) +
                       up64(r * Bmax * m) + 4 * up64(r * Bmax * n) +
                       up64(r * n * n) + up64(r * n * (c + p)) + up64(r * c);
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

static void op_rtrl_state(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    /* a small net, one with n(m+1) about INT_MAX, or din + dout = INT_MAX */
    const unsigned v = u8(r);
    const size_t dout = 1 + u8(r) % 16;
    size_t din = 1 + u8(r) % 16;
    if (v % 4 == 1)
        din = (size_t)INT_MAX / dout - dout - u8(r) % 32;
    else if (v % 4 == 2)
        din = (size_t)INT_MAX - dout - u8(r);
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    const size_t Bmax = pick_count(r, 8);
    const bptt_net *cnet = (u8(r) & 0x0F) == 0x0F ? NULL : net;
    unsigned faults = 0;
    if (!cnet)
        faults |= BIT(BPTT_ENULL);
    if (!Bmax)
        faults |= BIT(BPTT_ESIZE);
    const size_t want = rtrl_formula(A->r, Bmax, dout, din + dout);
    if (Bmax && !want)
        faults |= BIT(BPTT_EOVERFLOW);
    const family F = {{"rtrl_size", "rtrl_alloc", "rtrl_init"},
                      A->rt_size, A->rt_alloc, A->rt_init, A->rt_free};
    check_family(r, A, &F, cnet, 1, Bmax, want, faults);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: RTRL's calls against the naive form and against BPTT                  */
/* ------------------------------------------------------------------------ */

/* What the harness knows of an RTRL state: what the library must accept
 * next, and whether its results can be compared. */
typedef struct rmodel {
    size_t B, steps; /* of the last reset (0: none); advances since */
    int tame;        /* every input since the reset finite and bounded */
    int kink;        /* a ReLU z within rounding of 0 since the reset */
} rmodel;

enum { R_RESET, R_ADVANCE, R_ACCUMULATE, R_STEP, R_SEQUENCE, R_NKIND };

/* Option bits of an RTRL call. */
enum {
    RO_BIAS = 1, RO_Y0 = 2, RO_Y = 4, RO_LOSS = 8, RO_DB = 16, RO_MASK = 32,
    RO_HOSTILE = 64, RO_GARBAGE = 128
};

/* 1 to 6 calls of any kind on one state, each with fresh arguments.  Every
 * accepted call is repeated with BPTT_RTRL_NAIVE on a mirror state from the
 * same starting outputs, and a whole sequence is also done by BPTT
 * (forward, squared-error loss, backward): the same y, loss, dW, db. */
static void rtrl(bytes *r, const api *A)
{
    static const char *const kind_name[R_NKIND] = {
        "rtrl_reset", "rtrl_advance", "rtrl_accumulate", "rtrl_step",
        "rtrl_sequence"};
    arena a = {0}, ref = {0};
    const size_t din = 1 + u8(r) % 5, dout = 1 + u8(r) % 5, m = din + dout;
    bptt_activation act[5];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, &custom, &net) == BPTT_OK &&
                bptt_net_create(din, dout, act, &custom, &other) == BPTT_OK,
            "net");
    const size_t Bmax = 1 + u8(r) % 4;
    size_t bytes_st = 0;
    REQUIRE(A->rt_size(net, 1, Bmax, &bytes_st) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *stbuf = arena_new(&a, bytes_st + off);
    void *st = NULL, *rst = NULL;
    REQUIRE(A->rt_init(net, 1, Bmax, stbuf + off, bytes_st, &st) == BPTT_OK,
            "init");
    REQUIRE(A->rt_alloc(net, 1, Bmax, &rst) == BPTT_OK, "alloc");
    /* y(t) of the mirror, for the ReLU kinks of the next step */
    mat yprev = mat_dense(&ref, A, Bmax, dout);
    rmodel M = {0};
    const unsigned calls = 1 + u8(r) % 6;

    for (unsigned c = 0; c < calls; c++) {
    const unsigned kind = u8(r) % R_NKIND, opt = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = (opt & RO_HOSTILE) != 0;
    const int garbage = (opt & RO_GARBAGE) != 0;
    char fn[64];
    fname(A, kind_name[kind], fn);
    const bptt_net *cnet = nulls & 1 ? NULL : (nulls & 0x81) == 0x80 ? other : net;
    void *cst = nulls & 2 ? NULL : st;
    const size_t B = pick_count(r, Bmax), Ba = clampc(B, Bmax);
    const bptt_rtrl_algo algo = kind == R_RESET ? BPTT_RTRL_AUTO : pick_ralgo(r);
    const size_t T = kind == R_SEQUENCE ? pick_small(r, 5) : 1;
    const size_t Ta = T && T <= 5 ? T : 1, rows = Ta * Ba;
    const size_t ldw = pick_ld(r, dout, m), ldx = pick_ld(r, rows, din);
    const size_t ldy = pick_ld(r, rows, dout), ldt = pick_ld(r, rows, dout);
    const size_t lddw = pick_ld(r, dout, m), ldy0 = pick_ld(r, Ba, dout);
    const double beta = pick_beta(r, A, hostile);
    mat W = {0}, b = {0}, x = {0}, y0 = {0}, t = {0}, y = {0}, dW = {0},
        db = {0};
    unsigned char *mask = NULL;
    double *loss = NULL;
    if (kind == R_ADVANCE || kind == R_STEP || kind == R_SEQUENCE) {
        W = mat_new(&a, A, r, dout, m, ldw, 1.0 / (double)m, hostile);
        if (opt & RO_BIAS)
            b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
        x = mat_new(&a, A, r, rows, din, ldx, 1, hostile);
    }
    if ((kind == R_RESET || kind == R_SEQUENCE) && (opt & RO_Y0))
        y0 = mat_new(&a, A, r, Ba, dout, ldy0, 1, hostile);
    if (kind >= R_ACCUMULATE) /* dy of accumulate, or the targets */
        t = mat_new(&a, A, r, kind == R_ACCUMULATE ? Ba : rows, dout, ldt, 1,
                    hostile);
    if (kind == R_ADVANCE || (kind >= R_STEP && (opt & RO_Y)))
        y = mat_new(&a, A, r, rows, dout, ldy, 1, 1);
    if (kind >= R_ACCUMULATE) {
        dW = mat_new(&a, A, r, dout, m, lddw, 1, garbage);
        if (opt & RO_DB)
            db = mat_new(&a, A, r, 1, dout, dout, 1, garbage);
    }
    if (kind >= R_STEP && (opt & RO_MASK)) {
        mask = arena_new(&a, rows);
        for (size_t i = 0; i < rows; i++)
            mask[i] = (unsigned char)(u8(r) & 1);
    }
    if (kind >= R_STEP && (opt & RO_LOSS)) {
        loss = arena_new(&a, sizeof(double));
        *loss = 4321;
    }
    const void *cW = nulls & 4 ? NULL : W.p, *cx = nulls & 8 ? NULL : x.p;
    const void *ct = nulls & 16 ? NULL : t.p;
    void *cy = kind == R_ADVANCE && (nulls & 32) ? NULL : y.p;
    void *cdW = nulls & 64 ? NULL : dW.p;

    unsigned faults = 0;
    if (!cnet || !cst)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    if (!B)
        faults |= BIT(BPTT_ESIZE);
    else if (B > Bmax)
        faults |= BIT(BPTT_ECAPACITY);
    if (!ralgo_ok(algo))
        faults |= BIT(BPTT_EALGO);
    if (W.p)
        faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    if (x.p)
        faults |= cx ? ld_fault(ldx, din) : BIT(BPTT_ENULL);
    if (y0.p)
        faults |= ld_fault(ldy0, dout);
    if (t.p)
        faults |= ct ? ld_fault(ldt, dout) : BIT(BPTT_ENULL);
    if (y.p)
        faults |= cy ? ld_fault(ldy, dout) : BIT(BPTT_ENULL);
    if (dW.p)
        faults |= cdW ? ld_fault(lddw, m) : BIT(BPTT_ENULL);
    if ((kind == R_ADVANCE || kind == R_STEP) && (!M.B || B != M.B))
        faults |= BIT(BPTT_EINVAL); /* not reset, or for another B */
    if (kind == R_ACCUMULATE && (!M.steps || B != M.B))
        faults |= BIT(BPTT_ENOFORWARD);
    if (kind != R_ADVANCE && kind != R_RESET && !isfinite(beta))
        faults |= BIT(BPTT_EINVAL); /* beta must be finite */
    if (kind == R_SEQUENCE && !T)
        faults |= BIT(BPTT_ESIZE);
    else if (kind == R_SEQUENCE && T > 5) /* T·B rows overflow */
        faults |= BIT(BPTT_EOVERFLOW);

    trace("call %u %s: din %zu dout %zu Bmax %zu, B %zu T %zu algo %d beta %g"
          ", opt 0x%x nulls 0x%x, model B %zu steps %zu\n", c, fn, din, dout,
          Bmax, B, T, (int)algo, beta, opt, nulls, M.B, M.steps);
    arena_snapshot(&a);
    mark_detail();
    bptt_status s = BPTT_OK;
    switch (kind) {
    case R_RESET:
        s = A->rt_reset(cnet, B, y0.p, ldy0, cst);
        break;
    case R_ADVANCE:
        s = A->rt_advance(cnet, B, cW, ldw, b.p, cx, ldx, cy, ldy, algo, cst);
        break;
    case R_ACCUMULATE:
        s = A->rt_accumulate(cnet, B, ct, ldt, beta, cdW, lddw, db.p, algo,
                             cst);
        break;
    case R_STEP:
        s = A->rt_step(cnet, B, cW, ldw, b.p, cx, ldx, ct, ldt, mask, cy, ldy,
                       loss, beta, cdW, lddw, db.p, algo, cst);
        break;
    default:
        s = A->rt_sequence(cnet, T, B, cW, ldw, b.p, cx, ldx, y0.p, ldy0, ct,
                           ldt, mask, cy, ldy, loss, beta, cdW, lddw, db.p,
                           algo, cst);
    }
    if (faults) {
        require_rejected(s, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        continue;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(s == BPTT_OK, "%s: valid call gave %s", fn, bptt_strerror(s));
    void *const outs[] = {y.p, dW.p, db.p, loss, stbuf};
    require_only(&a, outs, 5, fn);
    REQUIRE(padding_kept(A, &a, y) && padding_kept(A, &a, dW),
            "%s wrote an output's padding", fn);

    /* the model, and the mirror's same call in the naive form */
    if (kind == R_RESET || kind == R_SEQUENCE)
        M = (rmodel){B, 0, 1, 0};
    if (kind != R_ACCUMULATE) /* dy is not part of the state */
        M.tame &= !hostile;
    const int tame = M.tame && !hostile;
    if (kind == R_ADVANCE || kind == R_STEP)
        M.kink |= relu_kink(A, act, din, dout, 1, B, W, b, x, yprev, yprev);
    mat ry = mat_dense(&ref, A, rows, dout), rdW = mat_snap_copy(&ref, A, &a, dW);
    mat rdb = mat_snap_copy(&ref, A, &a, db);
    double rloss = 0;
    bptt_status rs = BPTT_OK;
    switch (kind) {
    case R_RESET:
        rs = A->rt_reset(net, B, y0.p, ldy0, rst);
        break;
    case R_ADVANCE:
        rs = A->rt_advance(net, B, W.p, ldw, b.p, x.p, ldx, ry.p, dout,
                           BPTT_RTRL_NAIVE, rst);
        break;
    case R_ACCUMULATE:
        rs = A->rt_accumulate(net, B, t.p, ldt, beta, rdW.p, lddw, rdb.p,
                              BPTT_RTRL_NAIVE, rst);
        break;
    case R_STEP:
        rs = A->rt_step(net, B, W.p, ldw, b.p, x.p, ldx, t.p, ldt, mask, ry.p,
                        dout, &rloss, beta, rdW.p, lddw, rdb.p,
                        BPTT_RTRL_NAIVE, rst);
        break;
    default:
        rs = A->rt_sequence(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0,
                            t.p, ldt, mask, ry.p, dout, &rloss, beta, rdW.p,
                            lddw, rdb.p, BPTT_RTRL_NAIVE, rst);
        M.kink = relu_kink(A, act, din, dout, T, B, W, b, x, y0, ry);
    }
    REQUIRE(rs == BPTT_OK, "mirror %s: %s", fn, bptt_error_detail());
    if (kind == R_ADVANCE || kind == R_STEP)
        M.steps++;
    if (kind == R_SEQUENCE)
        M.steps = T;
    /* y(t) for the next step's kinks: y0 (or 0) after a reset, else the
     * mirror's last y */
    for (size_t i = 0; kind != R_ACCUMULATE && i < B; i++)
        for (size_t j = 0; j < dout; j++)
            A->set(yprev.p, i * dout + j,
                   kind != R_RESET ? mat_get(A, ry, rows - B + i, j)
                   : y0.p          ? mat_get(A, y0, i, j)
                                   : 0);
    if (kind == R_RESET || !tame)
        continue;
    /* y depends on the forward only: compared even past a kink */
    if (y.p)
        REQUIRE(mat_finite(A, y) && mat_close(A, y, ry, A->tol),
                "%s (%s) y%s", fn, bptt_rtrl_algo_name(algo), why);
    if (loss && kind >= R_STEP)
        REQUIRE(isfinite(*loss) &&
                    fabs(*loss - rloss) <= A->tol * (1 + fabs(rloss)),
                "%s (%s): loss %.17g, naive %.17g", fn,
                bptt_rtrl_algo_name(algo), *loss, rloss);
    if (kind == R_ADVANCE || !isfinite(beta) || (garbage && beta != 0))
        continue;
    if (M.kink) {
        HIT(H_LATER_KINK);
        continue;
    }
    REQUIRE(mat_finite(A, dW) && mat_finite(A, db), "%s: bounded inputs, "
            "gradient not finite", fn);
    REQUIRE(mat_close(A, dW, rdW, A->tol), "%s (%s) dW%s", fn,
            bptt_rtrl_algo_name(algo), why);
    REQUIRE(!db.p || mat_close(A, db, rdb, A->tol), "%s (%s) db%s", fn,
            bptt_rtrl_algo_name(algo), why);
    HIT(H_LATER_COMPARED);
    if (kind != R_SEQUENCE)
        continue;
    /* eq. (12): the summed RTRL gradient is BPTT's on the same loss */
    void *bws = NULL;
    REQUIRE(A->alloc(net, T, B, &bws) == BPTT_OK, "bptt workspace");
    mat by = mat_dense(&ref, A, T * B, dout), bdy = mat_dense(&ref, A, T * B, dout);
    mat bdW = mat_snap_copy(&ref, A, &a, dW), bdb = mat_snap_copy(&ref, A, &a, db);
    double bloss = 0;
    REQUIRE(A->forward(net, T, B, W.p, ldw, b.p, x.p, ldx, y0.p, ldy0, by.p,
                       dout, BPTT_ALGO_AUTO, bws) == BPTT_OK &&
                A->loss(T, B, dout, by.p, dout, t.p, ldt, mask, &bloss, bdy.p,
                        dout) == BPTT_OK &&
                A->backward(net, T, B, W.p, ldw, bdy.p, dout, beta, bdW.p,
                            lddw, bdb.p, NULL, 0, NULL, 0, BPTT_ALGO_AUTO,
                            bws) == BPTT_OK,
            "bptt: %s", bptt_error_detail());
    A->free(bws);
    REQUIRE(mat_close(A, dW, bdW, A->tol), "%s (%s) dW against BPTT%s", fn,
            bptt_rtrl_algo_name(algo), why);
    REQUIRE(!db.p || mat_close(A, db, bdb, A->tol), "%s (%s) db against "
            "BPTT%s", fn, bptt_rtrl_algo_name(algo), why);
    REQUIRE(!loss || fabs(*loss - bloss) <= A->tol * (1 + fabs(bloss)),
            "%s: loss %.17g, BPTT %.17g", fn, *loss, bloss);
    REQUIRE(!y.p || mat_close(A, y, by, A->tol), "%s: y against BPTT%s", fn,
            why);
    HIT(H_RTRL_BPTT);
    }

    A->rt_free(st); /* placed in stbuf: frees nothing */
    A->rt_free(rst);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}

static void op_rtrl_double(bytes *r) { rtrl(r, &apis[0]); }
static void op_rtrl_float(bytes *r) { rtrl(r, &apis[1]); }

/* ------------------------------------------------------------------------ */
/* op: initial weights (random, Glorot, orthogonal, rescaled radius)         */
/* ------------------------------------------------------------------------ */

static double r_max(const api *A)
{
    return A->r == sizeof(float) ? FLT_MAX : DBL_MAX;
}

/* Gram rows x rows of the rows of M (by_rows) or of its columns, divided
 * by g², against the identity: the orthogonal block's defining fact. */
static int orthonormal(const api *A, mat M, int by_rows, double g, double tol)
{
    const size_t q = by_rows ? M.rows : M.cols, n = by_rows ? M.cols : M.rows;
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < q; j++) {
            long double s = 0;
            for (size_t k = 0; k < n; k++)
                s += (long double)(by_rows ? mat_get(A, M, i, k)
                                           : mat_get(A, M, k, i)) *
                     (by_rows ? mat_get(A, M, j, k) : mat_get(A, M, k, j));
            s /= (long double)g * g;
            if (!(fabsl(s - (i == j)) <= tol)) {
                snprintf(why, sizeof why, ": Gram[%zu][%zu]/g² = %.17Lg", i,
                         j, s);
                return 0;
            }
        }
    return 1;
}

static void op_init(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    static const char *const names[4] = {"init_random", "init_glorot",
                                         "init_orthogonal",
                                         "init_rescale_radius"};
    const unsigned which = u8(r) % 4;
    char fn[64];
    fname(A, names[which], fn);
    const size_t rows = pick_small(r, 7);
    const size_t cols = which == 3 ? rows : pick_small(r, 7);
    const size_t ld = pick_small_ld(r, cols);
    const unsigned flags = u8(r), psel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    static const int bad_dist[] = {BPTT_NDIST, -1};
    const bptt_dist dist = (flags & 0x70) == 0x70
                               ? (bptt_dist)bad_dist[flags >> 7]
                               : (bptt_dist)((flags >> 1) & 1);
    /* sigma, gain or radius */
    static const double params[] = {1, 0.5, 2, 0, 1e-3, 10, 0.9, 1.5};
    static const double wild[] = {NAN, -1, INFINITY, -INFINITY, DBL_MAX,
                                  -0.0, 1e300, 1e39, DBL_TRUE_MIN, 1e-300,
                                  FLT_MAX, 1e-40};
    const double param = psel >= 224 ? wild[(psel - 224) % 12]
                                     : params[psel % 8];
    uint64_t seed = 0;
    for (int i = 0; i < 8; i++)
        seed = seed << 8 | u8(r);
    const int small = rows <= 7 && cols <= 7;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0}, ref = {0};
    mat W = mat_new(&a, A, r, rr, cc, ld, 1, hostile);
    double *before = arena_new(&a, sizeof(double));
    *before = 4321;
    void *cW = nulls & 1 ? NULL : W.p;
    double *cb = nulls & 2 ? NULL : before;
    const double rmax = r_max(A);

    unsigned faults = 0;
    if (!cW)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else
        faults |= ld_fault(ld, cols) |
                  (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
    if (which <= 1 && (unsigned)dist >= BPTT_NDIST)
        faults |= BIT(BPTT_EINVAL);
    if (!(param >= 0 && param <= (which == 3 ? DBL_MAX : rmax)))
        faults |= BIT(BPTT_EINVAL);
    /* rescale: what ρ(Wy) (bptt_spectral_radius) makes of it */
    double rho = 0, F0 = 0;
    if (which == 3 && !faults) {
        if (!mat_finite(A, W)) {
            faults |= BIT(BPTT_ENONFINITE);
        } else {
            F0 = (double)frob(A, W, 0, rows);
            REQUIRE(A->radius(rows, W.p, ld, &rho) == BPTT_OK, "radius: %s",
                    bptt_error_detail());
            if (rho == 0)
                faults |= BIT(BPTT_EINVAL);
            else if (isinf(rho) || !(param / rho * mat_amax(A, W) <= rmax))
                faults |= BIT(BPTT_EOVERFLOW);
        }
    }

    trace("%s: %zu x %zu ld %zu dist %d param %g seed %llu nulls 0x%x\n", fn,
          rows, cols, ld, (int)dist, param, (unsigned long long)seed, nulls);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st;
    switch (which) {
    case 0:
        st = A->init_random(rows, cols, dist, param, seed, cW, ld);
        break;
    case 1:
        st = A->init_glorot(rows, cols, dist, param, seed, cW, ld);
        break;
    case 2:
        st = A->init_orthogonal(rows, cols, param, seed, cW, ld);
        break;
    default:
        st = A->init_rescale(rows, param, cW, ld, cb);
    }
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fn, bptt_strerror(st));
    void *const outs[] = {W.p, cb};
    require_only(&a, outs, 2, fn);
    REQUIRE(padding_kept(A, &a, W), "%s wrote W's padding", fn);

    if (which == 3) {
        /* Wy ← (radius/ρ)·Wy, rounded once; ρ as bptt_spectral_radius */
        REQUIRE(isfinite(rho), "%s: ρ(Wy) = %g for a finite Wy", fn, rho);
        REQUIRE(!cb || same_value(*before, rho), "%s: before %.17g, ρ %.17g",
                fn, *before, rho);
        const unsigned char *w0 = arena_snap_of(&a, W.p);
        const double c = param / rho;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < rows; j++) {
                const double old = A->get(w0, i * ld + j);
                const double want = A->r == sizeof(float)
                                        ? (double)(float)(c * old)
                                        : c * old;
                REQUIRE(same_value(mat_get(A, W, i, j), want),
                        "%s: Wy[%zu][%zu] = %g, want %g", fn, i, j,
                        mat_get(A, W, i, j), want);
            }
        /* and the new radius is the one asked for.  A defective Wy moves
         * its eigenvalues by up to (ε‖Wy‖)^(1/n): small n, and ρ not small
         * next to ‖Wy‖ (a nilpotent Wy has ρ = 0 but a computed ρ of
         * rounding size, which the library cannot tell from a true one) */
        const int fl = A->r == sizeof(float);
        double now = 0;
        if (!hostile && rows <= 3 && param >= 1e-3 && param <= 1e3 &&
            rho >= (fl ? 0.2 : 1e-2) * F0) {
            REQUIRE(A->radius(rows, W.p, ld, &now) == BPTT_OK, "radius");
            REQUIRE(fabs(now - param) <= (fl ? 5e-2 : 1e-3) * param,
                    "%s: ρ is %.17g, asked %.17g", fn, now, param);
            HIT(H_LATER_COMPARED);
        }
        arena_free(&a);
        return;
    }
    /* the same seed gives the same block, whatever ld */
    mat W2 = mat_dense(&ref, A, rows, cols);
    switch (which) {
    case 0:
        st = A->init_random(rows, cols, dist, param, seed, W2.p, cols);
        break;
    case 1:
        st = A->init_glorot(rows, cols, dist, param, seed, W2.p, cols);
        break;
    default:
        st = A->init_orthogonal(rows, cols, param, seed, W2.p, cols);
    }
    REQUIRE(st == BPTT_OK, "%s again", fn);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            REQUIRE(same_value(mat_get(A, W, i, j), mat_get(A, W2, i, j)),
                    "%s: not determined by the seed at [%zu][%zu]", fn, i, j);
    if (which <= 1) {
        if (param > FLT_MAX) /* not a float sigma */
            goto done;
        /* float draws are the double draws rounded */
        mat Wd = mat_dense(&ref, &apis[0], rows, cols);
        mat Wf = mat_dense(&ref, &apis[1], rows, cols);
        REQUIRE((which ? apis[0].init_glorot : apis[0].init_random)(
                    rows, cols, dist, param, seed, Wd.p, cols) == BPTT_OK &&
                    (which ? apis[1].init_glorot : apis[1].init_random)(
                        rows, cols, dist, param, seed, Wf.p, cols) == BPTT_OK,
                "%s in both precisions", fn);
        const double sigma =
            which ? param * sqrt(2.0 / ((double)rows + (double)cols)) : param;
        for (size_t i = 0; i < rows * cols; i++) {
            const double d = ((double *)Wd.p)[i];
            REQUIRE(same_value(((float *)Wf.p)[i], (float)d),
                    "%s: float %g is not double %.17g rounded", fn,
                    ((float *)Wf.p)[i], d);
            REQUIRE(dist != BPTT_DIST_UNIFORM ||
                        fabs(d) <= sqrt(3.0) * sigma * (1 + 1e-15),
                    "%s: uniform %g outside ±√3·%g", fn, d, sigma);
            REQUIRE(sigma > 1e30 || isfinite(d), "%s: %g", fn, d);
        }
        HIT(H_LATER_COMPARED);
    } else if (param == 0) {
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                REQUIRE(mat_get(A, W, i, j) == 0, "%s: gain 0", fn);
    } else if (A->r == sizeof(float) ? param >= 1e-15 && param <= 1e15
                                     : param >= 1e-100 && param <= 1e100) {
        /* WᵀW = g²I (rows >= cols) or WWᵀ = g²I */
        REQUIRE(orthonormal(A, W, rows < cols, param,
                            A->r == sizeof(float) ? 1e-5 : 1e-10),
                "%s: %zu x %zu, gain %g%s", fn, rows, cols, param, why);
        HIT(H_LATER_COMPARED);
    }
done:
    arena_free(&a);
    arena_free(&ref);
}

/* ------------------------------------------------------------------------ */
/* op: spectral radius and spectral norm (LAPACKE)                           */
/* ------------------------------------------------------------------------ */

static void op_spectral(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const int is_norm = u8(r) & 1;
    char fn[64];
    fname(A, is_norm ? "spectral_norm" : "spectral_radius", fn);
    const size_t rows = pick_small(r, 6);
    const size_t cols = is_norm ? pick_small(r, 6) : rows;
    const size_t ld = pick_small_ld(r, cols);
    const unsigned flags = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1;
    const double big = A->r == sizeof(float) ? 1e30 : 1e300;
    const double scales[8] = {1, 1, 1, 1e-3, 1e3, big, 1 / big, 2};
    const int small = rows <= 6 && cols <= 6;
    const size_t rr = small && rows ? rows : 1, cc = small && cols ? cols : 1;
    arena a = {0};
    mat M = mat_new(&a, A, r, rr, cc, ld, scales[(flags >> 1) % 8], hostile);
    double *out = arena_new(&a, sizeof(double));
    *out = 4321;
    const void *cA = nulls & 1 ? NULL : M.p;
    double *co = nulls & 2 ? NULL : out;
    unsigned faults = 0;
    if (!co || !cA)
        faults |= BIT(BPTT_ENULL);
    if (!rows || !cols)
        faults |= BIT(BPTT_ESIZE);
    else
        faults |= ld_fault(ld, cols) |
                  (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
    if (!faults && !mat_finite(A, M))
        faults |= BIT(BPTT_ENONFINITE);

    arena_snapshot(&a);
    mark_detail();
    const bptt_status st = is_norm ? A->norm(rows, cols, cA, ld, co)
                                   : A->radius(rows, cA, ld, co);
    if (faults) {
        require_rejected(st, faults, fn, &a);
        HIT(H_LATER_REJECTED);
        arena_free(&a);
        return;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s (%s)", fn,
            bptt_strerror(st), bptt_error_detail());
    void *const outs[] = {out};
    require_only(&a, outs, 1, fn);
    /* bounds by the harness: max row and column 2-norms <= ‖A‖₂ <= ‖A‖_F;
     * ρ <= ‖A‖₂, ‖A‖₁, ‖A‖_∞ (to a backward error of n·ε·‖A‖) and
     * ρ >= |tr A|/n; ρ exactly for n <= 2 */
    const double v = *out;
    const long double F = frob(A, M, 0, rows);
    REQUIRE(v >= 0 && (F >= (long double)DBL_MAX * (1 - 1e-12L) ||
                       isfinite(v)),
            "%s: %g for a finite matrix of norm %Lg", fn, v, F);
    const double tiny = A->r == sizeof(float) ? 1e-30 : 1e-290;
    if (F < tiny || !isfinite(v))
        goto out;
    const double tol = A->r == sizeof(float) ? 1e-5 : 1e-12;
    long double rmax = 0, cmax = 0, r1 = 0, rinf = 0, tr = 0;
    for (size_t i = 0; i < rows; i++) {
        long double s = 0, s1 = 0;
        for (size_t j = 0; j < cols; j++) {
            const long double e = mat_get(A, M, i, j);
            s += e * e;
            s1 += fabsl(e);
        }
        rmax = fmaxl(rmax, sqrtl(s));
        rinf = fmaxl(rinf, s1);
        tr += i < cols ? (long double)mat_get(A, M, i, i) : 0;
    }
    for (size_t j = 0; j < cols; j++) {
        long double s = 0, s1 = 0;
        for (size_t i = 0; i < rows; i++) {
            const long double e = mat_get(A, M, i, j);
            s += e * e;
            s1 += fabsl(e);
        }
        cmax = fmaxl(cmax, sqrtl(s));
        r1 = fmaxl(r1, s1);
    }
    if (is_norm) {
        REQUIRE(v >= fmaxl(rmax, cmax) * (1 - tol) && v <= F * (1 + tol),
                "%s: %.17g outside [%.17Lg, %.17Lg]", fn, v, fmaxl(rmax, cmax),
                F);
    } else {
        const size_t n = rows;
        double sigma = 0;
        REQUIRE(A->norm(n, n, M.p, ld, &sigma) == BPTT_OK, "norm");
        REQUIRE(v <= fminl(fminl(r1, rinf), sigma) + tol * F,
                "%s: %.17g above ‖A‖₁ %.17Lg, ‖A‖_∞ %.17Lg or ‖A‖₂ %.17g", fn,
                v, r1, rinf, sigma);
        /* a defective A moves ρ by up to (ε‖A‖)^(1/n) */
        const double slack = n <= 2 ? (A->r == sizeof(float) ? 3e-3 : 1e-6)
                                    : (A->r == sizeof(float) ? 0.2 : 1e-2);
        REQUIRE(v >= fabsl(tr) / n - slack * F, "%s: %.17g below |tr|/n = "
                "%.17Lg", fn, v, fabsl(tr) / n);
        long double exact = -1;
        if (n == 1) {
            exact = fabsl(tr);
        } else if (n == 2) {
            const long double det = (long double)mat_get(A, M, 0, 0) *
                                         mat_get(A, M, 1, 1) -
                                     (long double)mat_get(A, M, 0, 1) *
                                         mat_get(A, M, 1, 0);
            const long double disc = tr * tr / 4 - det;
            exact = disc >= 0 ? fabsl(tr) / 2 + sqrtl(disc) : sqrtl(det);
        }
        REQUIRE(exact < 0 || fabsl(v - exact) <= slack * F,
                "%s: %.17g, exactly %.17Lg", fn, v, exact);
    }
    HIT(H_LATER_COMPARED);
out:
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: the error-flow recording and the lag profile                          */
/* ------------------------------------------------------------------------ */

/* The norms backward recorded for its last step: g(T) = dL/dy(T), so
 * gnorm[(T−1)·B + b] is the norm of dy's row. */
static void require_last_norms(const api *A, const char *fn, const double *gn,
                               mat dy, size_t T, size_t B)
{
    for (size_t b = 0; b < B; b++) {
        const size_t k = (T - 1) * B + b;
        REQUIRE(norm_close(gn[k], frob(A, dy, k, 1), 1e-13),
                "%s: gnorm[%zu] = %.17g, ‖dy row‖ = %.17Lg", fn, k, gn[k],
                frob(A, dy, k, 1));
    }
}

static void op_flow(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    char fnr[64], fnp[64];
    fname(A, "workspace_record_flow", fnr);
    fname(A, "flow_lag_profile", fnp);
    const size_t din = 1 + u8(r) % 5, dout = 1 + u8(r) % 5, m = din + dout;
    bptt_activation act[5];
    for (size_t i = 0; i < dout; i++)
        act[i] = (bptt_activation)(u8(r) % BPTT_NACTIVATION);
    bptt_net *net = NULL, *other = NULL;
    REQUIRE(bptt_net_create(din, dout, act, &custom, &net) == BPTT_OK &&
                bptt_net_create(din, dout, act, &custom, &other) == BPTT_OK,
            "net");
    const size_t Tmax = 1 + u8(r) % 5, Bmax = 1 + u8(r) % 4, cap = Tmax * Bmax;
    arena a = {0}, ref = {0};
    size_t bytes_ws = 0;
    REQUIRE(A->size(net, Tmax, Bmax, &bytes_ws) == BPTT_OK, "size");
    const size_t off = u8(r) % 64;
    unsigned char *wsbuf = arena_new(&a, bytes_ws + off);
    void *ws = NULL, *rws = NULL;
    REQUIRE(A->init(net, Tmax, Bmax, wsbuf + off, bytes_ws, &ws) == BPTT_OK,
            "init");
    REQUIRE(A->alloc(net, Tmax, Bmax, &rws) == BPTT_OK, "alloc");
    const unsigned flags = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, check = (flags & 2) != 0;
    REQUIRE(A->check_finite(ws, check) == BPTT_OK, "check");

    /* recording into the caller's arrays (either may be NULL) */
    double *gn = flags & 4 ? NULL : arena_new(&a, cap * sizeof(double));
    double *dn = flags & 8 ? arena_new(&a, cap * sizeof(double)) : NULL;
    arena_snapshot(&a);
    mark_detail();
    require_rejected(A->record_flow(NULL, gn, dn), BIT(BPTT_ENULL), fnr, &a);
    REQUIRE(A->record_flow(ws, gn, dn) == BPTT_OK, "%s", fnr);

    /* a forward, and a backward that records */
    const size_t T = 1 + u8(r) % Tmax, B = 1 + u8(r) % Bmax, TB = T * B;
    mat W = mat_new(&a, A, r, dout, m, m, 1.0 / (double)m, hostile);
    mat b = {0}, y0 = {0};
    if (flags & 16)
        b = mat_new(&a, A, r, 1, dout, dout, 1, hostile);
    mat x = mat_new(&a, A, r, TB, din, din, 1, hostile);
    if (flags & 32)
        y0 = mat_new(&a, A, r, B, dout, dout, 1, hostile);
    mat y = mat_dense(&a, A, TB, dout), dy = mat_new(&a, A, r, TB, dout, dout,
                                                     1, hostile);
    mat dW = mat_dense(&ref, A, dout, m);
    const bptt_algo fa = (bptt_algo)(u8(r) % BPTT_NALGO);
    const bptt_algo ba = (bptt_algo)(u8(r) % BPTT_NALGO);
    const int finite_in = mat_finite(A, W) && mat_finite(A, b) &&
                          mat_finite(A, x) && mat_finite(A, y0);
    bptt_status st = A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p, dout,
                                y.p, dout, fa, ws);
    REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE), "forward");
    /* a refused input leaves no forward; a non-finite result keeps it */
    const int have = !check || finite_in;
    const int tame = !hostile && !relu_kink(A, act, din, dout, T, B, W, b, x,
                                            y0, y);
    const int ran = have && (!check || (mat_finite(A, W) && mat_finite(A, dy)));
    if (have) {
        arena_snapshot(&a);
        st = A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m, NULL, NULL,
                         0, NULL, 0, ba, ws);
        REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE), "backward");
        /* rows T·B.. of the arrays are not written */
        const double *g0 = (const double *)(const void *)arena_snap_of(&a, gn);
        const double *d0 = (const double *)(const void *)arena_snap_of(&a, dn);
        for (size_t k = TB; k < cap; k++)
            REQUIRE((!gn || !memcmp(gn + k, g0 + k, sizeof *gn)) &&
                        (!dn || !memcmp(dn + k, d0 + k, sizeof *dn)),
                    "%s: backward recorded past T·B", fnr);
        if (ran && gn)
            require_last_norms(A, fnr, gn, dy, T, B);
        if (ran && tame) {
            /* every algorithm records the same norms: naive's on rws */
            double *rg = arena_new(&ref, TB * sizeof(double));
            double *rd = arena_new(&ref, TB * sizeof(double));
            mat ry = mat_dense(&ref, A, TB, dout);
            REQUIRE(A->record_flow(rws, rg, rd) == BPTT_OK &&
                        A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p,
                                   dout, ry.p, dout, BPTT_ALGO_NAIVE,
                                   rws) == BPTT_OK &&
                        A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m,
                                    NULL, NULL, 0, NULL, 0, BPTT_ALGO_NAIVE,
                                    rws) == BPTT_OK &&
                        A->record_flow(rws, NULL, NULL) == BPTT_OK,
                    "naive recording");
            for (size_t k = 0; k < TB; k++) {
                REQUIRE(!gn || fabs(gn[k] - rg[k]) <= A->tol * (1 + rg[k]),
                        "%s (%s): gnorm[%zu] %.17g, naive %.17g", fnr,
                        bptt_algo_name(ba), k, gn[k], rg[k]);
                REQUIRE(!dn || fabs(dn[k] - rd[k]) <= A->tol * (1 + rd[k]),
                        "%s (%s): dnorm[%zu] %.17g, naive %.17g", fnr,
                        bptt_algo_name(ba), k, dn[k], rd[k]);
            }
            HIT(H_LATER_COMPARED);
        }
    }

    /* the profile of a loss at the last step */
    const unsigned popt = u8(r);
    const size_t Tp = popt & 3 ? T : pick_count(r, Tmax);
    const size_t Bp = popt & 3 ? B : pick_count(r, Bmax);
    const size_t Tpa = clampc(Tp, Tmax), Bpa = clampc(Bp, Bmax);
    const unsigned lv = u8(r) % 8; /* W is stored with ld m: no other valid */
    const size_t ldw = lv == 0 ? m - 1 : lv == 1 ? huge_sizes[0] : m;
    mat dyT = {0};
    size_t lddyT = 0;
    if (popt & 4) {
        lddyT = pick_ld(r, Bpa, dout);
        dyT = mat_new(&a, A, r, Bpa, dout, lddyT, 1, hostile);
    }
    double *pg = arena_new(&a, Tpa * Bpa * sizeof(double));
    double *pd = popt & 8 ? arena_new(&a, Tpa * Bpa * sizeof(double)) : NULL;
    const bptt_net *cnet = nulls & 1 ? NULL : popt & 16 ? other : net;
    void *cws = nulls & 2 ? NULL : ws;
    const void *cW = nulls & 4 ? NULL : W.p;
    double *cpg = nulls & 8 ? NULL : pg;
    unsigned faults = count_fault(Tp, Bp, Tmax, Bmax);
    if (!cnet || !cws || !cpg)
        faults |= BIT(BPTT_ENULL);
    else if (cnet != net)
        faults |= BIT(BPTT_EMISMATCH);
    faults |= cW ? ld_fault(ldw, m) : BIT(BPTT_ENULL);
    if (dyT.p)
        faults |= ld_fault(lddyT, dout);
    if (!have || Tp != T || Bp != B)
        faults |= BIT(BPTT_ENOFORWARD);
    trace("%s: din %zu dout %zu T %zu B %zu, check %d hostile %d; profile T "
          "%zu B %zu ldw %zu dyT %d, nulls 0x%x\n", fnp, din, dout, T, B, check,
          hostile, Tp, Bp, ldw, dyT.p != NULL, nulls);
    arena_snapshot(&a);
    mark_detail();
    st = A->lag_profile(cnet, Tp, Bp, cW, ldw, dyT.p, lddyT, cpg, pd, cws);
    if (faults) {
        require_rejected(st, faults, fnp, &a);
        HIT(H_LATER_REJECTED);
        goto out;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s", fnp, bptt_strerror(st));
    void *const outs[] = {pg, pd, wsbuf};
    require_only(&a, outs, 3, fnp);
    /* lag 0: the norm of dyT's rows ((1, ..., 1)/√dout rounded: 1) */
    for (size_t bb = 0; bb < B; bb++)
        REQUIRE(dyT.p ? norm_close(pg[bb], frob(A, dyT, bb, 1), 1e-13)
                      : fabs(pg[bb] - 1) <= (A->r == sizeof(float) ? 1e-6
                                                                 : 1e-15),
                "%s: gnorm[%zu] = %.17g", fnp, bb, pg[bb]);
    if (tame && mat_tame(A, dyT)) {
        /* the naive backward of dy = (0, ..., 0, dyT), recorded on rws and
         * read backwards */
        double *rg = arena_new(&ref, TB * sizeof(double));
        double *rd = arena_new(&ref, TB * sizeof(double));
        mat ry = mat_dense(&ref, A, TB, dout), rdy = mat_dense(&ref, A, TB, dout);
        for (size_t bb = 0; bb < B; bb++)
            for (size_t j = 0; j < dout; j++)
                A->set(rdy.p, ((T - 1) * B + bb) * dout + j,
                       dyT.p ? mat_get(A, dyT, bb, j) : 1 / sqrt((double)dout));
        REQUIRE(A->record_flow(rws, rg, rd) == BPTT_OK &&
                    A->forward(net, T, B, W.p, m, b.p, x.p, din, y0.p, dout,
                               ry.p, dout, BPTT_ALGO_NAIVE, rws) == BPTT_OK &&
                    A->backward(net, T, B, W.p, m, rdy.p, dout, 0, dW.p, m,
                                NULL, NULL, 0, NULL, 0, BPTT_ALGO_NAIVE,
                                rws) == BPTT_OK &&
                    A->record_flow(rws, NULL, NULL) == BPTT_OK,
                "naive profile");
        for (size_t tau = 0; tau < T; tau++)
            for (size_t bb = 0; bb < B; bb++) {
                const size_t k = tau * B + bb, kr = (T - 1 - tau) * B + bb;
                REQUIRE(fabs(pg[k] - rg[kr]) <= A->tol * (1 + rg[kr]) &&
                            (!pd || fabs(pd[k] - rd[kr]) <= A->tol * (1 + rd[kr])),
                        "%s: lag %zu sequence %zu: %.17g, %.17g; naive %.17g, "
                        "%.17g", fnp, tau, bb, pg[k], pd ? pd[k] : 0, rg[kr],
                        rd[kr]);
            }
        HIT(H_LATER_COMPARED);
    }
    /* the forward is kept and the recording is back: another backward
     * records into gn again */
    if (gn) {
        memset(gn, 0x5A, cap * sizeof(double));
        st = A->backward(net, T, B, W.p, m, dy.p, dout, 0, dW.p, m, NULL, NULL,
                         0, NULL, 0, ba, ws);
        REQUIRE(st == BPTT_OK || (check && st == BPTT_ENONFINITE),
                "backward after %s: %s", fnp, bptt_strerror(st));
        if (ran)
            require_last_norms(A, fnp, gn, dy, T, B);
    }
out:
    A->free(ws);
    A->free(rws);
    bptt_net_free(net);
    bptt_net_free(other);
    arena_free(&a);
    arena_free(&ref);
}

/* ------------------------------------------------------------------------ */
/* op: global-norm clipping and the clipped SGD step                         */
/* ------------------------------------------------------------------------ */

static void op_clip(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const int sgd = u8(r) & 1;
    char fn[64];
    fname(A, sgd ? "sgd_step_clipped" : "clip_global_norm", fn);
    const size_t nb = u8(r) % (MAXBLK + 1);
    const unsigned flags = u8(r), msel = u8(r), asel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, mismatch = (flags & 0x0E) == 0x0E;
    const double big = A->r == sizeof(float) ? 1e30 : 1e300;
    const double scales[8] = {1, 1, 1e-3, 10, 1e3, big, 1 / big, 1};
    const double scale = scales[(flags >> 4) % 8];
    static const double maxes[] = {1, 0.5, 10, 1e-3, INFINITY, 1e-300,
                                   1e300, 5};
    static const double odd_max[] = {0, -0.0, -1, NAN, -INFINITY,
                                      DBL_TRUE_MIN, DBL_MAX, 1e-310};
    const double max_norm = msel >= 224 ? odd_max[msel % 8] : maxes[msel % 8];
    static const double alphas[] = {0.1, 0, 1, -0.5, 1e-3, 3};
    const double alpha = asel >= 224 ? A->special[(asel - 224) % 10]
                                     : alphas[asel % 6];
    arena a = {0}, ref = {0};
    gblock *g = arena_new(&a, MAXBLK * sizeof *g);
    gblock *w = arena_new(&a, MAXBLK * sizeof *w);
    mat gm[MAXBLK] = {{0}}, wm[MAXBLK] = {{0}};
    unsigned faults = 0;
    for (size_t i = 0; i < nb; i++) {
        const size_t rows = pick_small(r, 3), cols = pick_small(r, 4);
        const size_t ld = pick_small_ld(r, cols);
        const int small = rows <= 3 && cols <= 4;
        gm[i] = mat_new(&a, A, r, small && rows ? rows : 1,
                        small && cols ? cols : 1, ld, scale, hostile);
        g[i] = (gblock){rows, cols, nulls >> (2 + i) & 1 ? NULL : gm[i].p, ld};
        if (!rows || !cols)
            faults |= BIT(BPTT_ESIZE);
        else if (!g[i].a)
            faults |= BIT(BPTT_ENULL);
        else
            faults |= ld_fault(ld, cols) |
                      (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
        if (!sgd)
            continue;
        /* W[i]: dW[i]'s shape, or one more row or column */
        const size_t wr = rows + (mismatch && i == 0 && (flags & 0x80));
        const size_t wc = cols + (mismatch && i == 0 && !(flags & 0x80));
        const size_t ldw = pick_small_ld(r, wc);
        const int wsmall = wr <= 4 && wc <= 5;
        wm[i] = mat_new(&a, A, r, wsmall && wr ? wr : 1, wsmall && wc ? wc : 1,
                        ldw, 1, hostile);
        w[i] = (gblock){wr, wc, nulls & 0x40 && i == 0 ? NULL : wm[i].p, ldw};
        if (!wr || !wc)
            faults |= BIT(BPTT_ESIZE);
        else if (!w[i].a)
            faults |= BIT(BPTT_ENULL);
        else
            faults |= ld_fault(ldw, wc) |
                      (extent_ok(A, wr, ldw) ? 0 : BIT(BPTT_EOVERFLOW));
        if (wr != rows || wc != cols)
            faults |= BIT(BPTT_EINVAL);
    }
    const gblock *cg = nulls & 1 ? NULL : g, *cw = nulls & 2 ? NULL : w;
    if (!cg || (sgd && !cw))
        faults |= BIT(BPTT_ENULL);
    if (!nb)
        faults |= BIT(BPTT_ESIZE);
    if (sgd && !isfinite(alpha))
        faults |= BIT(BPTT_EINVAL);
    if (!(max_norm > 0))
        faults |= BIT(BPTT_EINVAL);
    /* the norms by the harness, in long double: a NaN or Inf, or a norm
     * above the largest double, is refused (either way within rounding of
     * it: edge) */
    long double bn[MAXBLK] = {0}, ssq = 0;
    for (size_t i = 0; !faults && i < nb; i++) {
        bn[i] = frob(A, gm[i], 0, gm[i].rows);
        ssq += bn[i] * bn[i];
        if (!mat_finite(A, gm[i]))
            faults |= BIT(BPTT_ENONFINITE);
    }
    const long double total = sqrtl(ssq);
    int edge = 0;
    if (!faults && total > (long double)DBL_MAX * (1 + 1e-12L))
        faults |= BIT(BPTT_ENONFINITE);
    else if (!faults && total >= (long double)DBL_MAX * (1 - 1e-12L))
        edge = 1;
    double *norm = flags & 0x20 ? NULL : arena_new(&a, sizeof(double));
    double *norms = flags & 0x40 ? NULL : arena_new(&a, MAXBLK * sizeof(double));

    trace("%s: %zu blocks, max_norm %g alpha %g, total %Lg, nulls 0x%x\n", fn,
          nb, max_norm, alpha, total, nulls);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = sgd ? A->sgd_clipped(nb, alpha, cg, max_norm, cw, norm,
                                          norms)
                         : A->clip(nb, cg, max_norm, norm, norms);
    if (faults || (edge && st != BPTT_OK)) {
        require_rejected(st, faults | BIT(BPTT_ENONFINITE) * edge, fn, &a);
        HIT(H_LATER_REJECTED);
        goto out;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s (%s)", fn,
            bptt_strerror(st), bptt_error_detail());
    void *outs[2 + MAXBLK] = {norm, norms};
    for (size_t i = 0; i < nb; i++)
        outs[2 + i] = sgd ? wm[i].p : gm[i].p;
    require_only(&a, outs, 2 + MAXBLK, fn);
    for (size_t i = 0; i < nb; i++)
        REQUIRE(padding_kept(A, &a, sgd ? wm[i] : gm[i]),
                "%s wrote a block's padding", fn);
    REQUIRE(!norm || norm_close(*norm, total, 1e-12), "%s: norm %.17g, "
            "harness %.17Lg", fn, *norm, total);
    for (size_t i = 0; norms && i < nb; i++)
        REQUIRE(norm_close(norms[i], bn[i], 1e-12), "%s: norms[%zu] %.17g, "
                "harness %.17Lg", fn, i, norms[i], bn[i]);
    if (sgd) {
        /* as clip_global_norm on a copy of dW, then sgd_step per block,
         * bitwise */
        gblock cd[MAXBLK];
        mat rw[MAXBLK];
        for (size_t i = 0; i < nb; i++) {
            cd[i] = g[i];
            cd[i].a = mat_copy(&ref, A, gm[i]).p;
            rw[i] = mat_snap_copy(&ref, A, &a, wm[i]);
        }
        REQUIRE(A->clip(nb, cd, max_norm, NULL, NULL) == BPTT_OK, "clip");
        for (size_t i = 0; i < nb; i++) {
            REQUIRE(A->sgd(g[i].rows, g[i].cols, alpha, cd[i].a, g[i].ld,
                           rw[i].p, w[i].ld) == BPTT_OK, "sgd_step");
            for (size_t k = 0; k < g[i].rows; k++)
                for (size_t j = 0; j < g[i].cols; j++)
                    REQUIRE(same_value(mat_get(A, wm[i], k, j),
                                       mat_get(A, rw[i], k, j)),
                            "%s: W[%zu][%zu][%zu] = %g, clip + sgd_step %g",
                            fn, i, k, j, mat_get(A, wm[i], k, j),
                            mat_get(A, rw[i], k, j));
        }
        HIT(H_LATER_COMPARED);
        goto out;
    }
    /* clip: untouched within the threshold; else scaled (signs kept,
     * magnitudes not grown) to a norm of max_norm, up to each entry's
     * rounding (relative ε, or half the smallest denormal) */
    const double eps = A->r == sizeof(float) ? 1e-6 : 1e-12;
    const double denorm = A->r == sizeof(float) ? FLT_TRUE_MIN : DBL_TRUE_MIN;
    long double after = 0;
    size_t count = 0;
    for (size_t i = 0; i < nb; i++) {
        const unsigned char *s0 = arena_snap_of(&a, gm[i].p);
        for (size_t k = 0; k < gm[i].rows; k++)
            for (size_t j = 0; j < gm[i].cols; j++) {
                const double old = A->get(s0, k * gm[i].sld + j);
                const double now = mat_get(A, gm[i], k, j);
                REQUIRE(total > max_norm * (1 - 1e-12) ||
                            memcmp(&old, &now, sizeof old) == 0,
                        "%s: norm %.17Lg within %.17g, but changed", fn,
                        total, max_norm);
                REQUIRE(old * now >= 0 && fabs(now) <= fabs(old),
                        "%s: %g became %g", fn, old, now);
                after += (long double)now * now;
                count++;
            }
    }
    after = sqrtl(after);
    const long double slack = sqrtl((long double)count) * denorm;
    REQUIRE(after <= max_norm * (1 + eps) + slack, "%s: clipped to %.17Lg, "
            "above %.17g", fn, after, max_norm);
    REQUIRE(total <= max_norm * (1 + 1e-12) ||
                after >= max_norm * (1 - eps) - slack,
            "%s: norm %.17Lg clipped to %.17Lg, not %.17g", fn, total, after,
            max_norm);
    HIT(H_LATER_COMPARED);
out:
    arena_free(&a);
    arena_free(&ref);
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
    {"elman_ws", op_elman_ws},
    {"elman_double", op_elman_double},
    {"elman_float", op_elman_float},
    {"rtrl_state", op_rtrl_state},
    {"rtrl_double", op_rtrl_double},
    {"rtrl_float", op_rtrl_float},
    {"init", op_init},
    {"spectral", op_spectral},
    {"flow", op_flow},
    {"clip", op_clip},
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
