/*
 * fuzz_main.c — a libFuzzer harness that drives bptt's public API from
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
 * build, run and extend it.
 *
 * This file holds the shared helpers (declared in fuzz.h), the precision
 * tables, op_misc and the dispatch; each module's op is in ops_<module>.c.
 */
#include "fuzz.h"

void fail(const char *file, int line, const char *cond, const char *fmt,
          ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: REQUIRE(%s) failed: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  last bptt_error_detail(): \"%s\"\n",
            bptt_error_detail());
    abort();
}
void trace(const char *fmt, ...)
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
const char *const hit_name[NHIT] = {
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
unsigned long hits[NHIT];

void print_hits(void)
{
    for (int i = 0; i < NHIT; i++)
        fprintf(stderr, "fuzz_api: %-40s %lu\n", hit_name[i], hits[i]);
}

unsigned u8(bytes *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

void *arena_new(arena *a, size_t n)
{
    REQUIRE(a->k < MAXBUF, "arena full");
    a->p[a->k] = malloc(n ? n : 1);
    a->snap[a->k] = malloc(n ? n : 1);
    a->n[a->k] = n;
    REQUIRE(a->p[a->k] && a->snap[a->k], "malloc(%zu)", n);
    memset(a->p[a->k], 0x5A, n);
    return a->p[a->k++];
}

void arena_snapshot(arena *a)
{
    for (int i = 0; i < a->k; i++)
        memcpy(a->snap[i], a->p[i], a->n[i]);
}

/* The index of the first buffer that differs from the snapshot, or -1;
 * skip (NULL or a buffer) is not compared. */
int arena_changed(const arena *a, const void *skip1, const void *skip2)
{
    for (int i = 0; i < a->k; i++)
        if (a->p[i] != skip1 && a->p[i] != skip2 &&
            memcmp(a->snap[i], a->p[i], a->n[i]) != 0)
            return i;
    return -1;
}

const unsigned char *arena_snap_of(const arena *a, const void *p)
{
    for (int i = 0; i < a->k; i++)
        if (a->p[i] == p)
            return a->snap[i];
    return NULL;
}

void arena_free(arena *a)
{
    for (int i = 0; i < a->k; i++) {
        free(a->p[i]);
        free(a->snap[i]);
    }
    a->k = 0;
}

/* Leave a known detail, so that a rejected call is seen to set its own. */
void mark_detail(void)
{
    REQUIRE(bptt_workspace_check_finite(NULL, 0) == BPTT_ENULL, "marker");
}

/* A rejected call: status allowed by the faults, own detail, nothing
 * written. */
void require_rejected(bptt_status st, unsigned allowed, const char *fn,
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
const size_t huge_sizes[NHUGE] = {
    (size_t)INT_MAX + 1, SIZE_MAX / 8 + 1, SIZE_MAX / 2, SIZE_MAX - 63,
    SIZE_MAX,
};

/* A count for a call whose workspace holds max: mostly 1..max, sometimes
 * 0, max+1, max+2 or huge. */
size_t pick_count(bytes *r, size_t max)
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
size_t pick_ld(bytes *r, size_t rows, size_t cols)
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
unsigned ld_fault(size_t ld, size_t cols)
{
    if (ld < cols)
        return BIT(BPTT_ELD);
    if (ld > (size_t)INT_MAX)
        return BIT(BPTT_EOVERFLOW);
    return 0;
}

bptt_algo pick_algo(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_algo)(v % BPTT_NALGO);
    static const int bad[] = {BPTT_NALGO, -1, 1000, INT_MIN};
    return (bptt_algo)bad[v - 12];
}

int algo_ok(bptt_algo a)
{
    return (unsigned)a < BPTT_NALGO;
}
double gain = 0.9;
double custom_f(double z, void *user)
{
    return *(double *)user * sin(z);
}
double custom_df(double z, void *user)
{
    return *(double *)user * cos(z);
}
const bptt_custom_activation custom = {custom_f, custom_df, &gain};

/* A hostile pair: NaN for z < 0, 10^300·z above (+Inf in float, and
 * soon in double), a derivative that is infinite at 0.  Runs with it are
 * not compared with the naive algorithm, only held to the other rules. */
double wild_f(double z, void *user)
{
    (void)user;
    return z < 0 ? NAN : 1e300 * z;
}
double wild_df(double z, void *user)
{
    (void)user;
    return z == 0 ? INFINITY : 1e300;
}
const bptt_custom_activation wild = {wild_f, wild_df, NULL};

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
static bptt_status d_threads(void *ws, int n)
{
    return bptt_workspace_set_threads(ws, n);
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
static bptt_status f_threads(void *ws, int n)
{
    return bpttf_workspace_set_threads(ws, n);
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
const api apis[2] = {
    {"bptt_", sizeof(double), 1e-9,
     {NAN, -NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, 1e300, DBL_TRUE_MIN,
      -DBL_MIN / 4, -0.0},
     bptt_workspace_size, d_alloc, d_init, d_free, d_check, d_threads,
     d_forward,
     d_backward, d_loss, d_sgd, d_get, d_set, LATER(d)},
    {"bpttf_", sizeof(float), 2e-3,
     {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e30, FLT_TRUE_MIN,
      -FLT_MIN / 4, -0.0},
     bpttf_workspace_size, f_alloc, f_init, f_free, f_check, f_threads,
     f_forward,
     f_backward, f_loss, f_sgd, f_get, f_set, LATER(f)},
};

const char *fname(const api *A, const char *name, char buf[64])
{
    snprintf(buf, 64, "%s%s", A->prefix, name);
    return buf;
}

/* Allocate a matrix in the arena: (rows−1)·ld + cols elements when ld is
 * usable, else rows·cols (the call must refuse it without reading).
 * Every element, padding included, gets a value: bounded,
 * scale·[-1, 1], or with hostile set sometimes a special value. */
mat mat_new(arena *a, const api *A, bytes *r, size_t rows, size_t cols,
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

int mat_finite(const api *A, mat M)
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
int padding_kept(const api *A, const arena *a, mat M)
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
char why[160];
int mat_close(const api *A, mat X, mat Ref, double tol)
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
mat mat_copy(arena *a, const api *A, mat M)
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
/* Network A's references: an element, a ReLU kink                          */
/* ------------------------------------------------------------------------ */

double mat_get(const api *A, mat M, size_t i, size_t j)
{
    return A->get(M.p, i * M.sld + j);
}

/* Whether some ReLU unit's z(t+1) is within rounding of 0: there f' jumps
 * from 0 to 1, so two correct algorithms may differ by O(1) in every
 * gradient (a kink, not a bug), and the gradients are not compared.  z is
 * recomputed from W, b, x, y0 and the forward's y; the margin,
 * 1024·eps·(1 + Σ|terms|), covers the rounding of y's earlier steps too. */
int relu_kink(const api *A, const bptt_activation *act, size_t din,
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

/* ------------------------------------------------------------------------ */
/* Descriptor arguments: sizes, activation codes, custom pairs              */
/* ------------------------------------------------------------------------ */

/* Sizes for a descriptor: small, large, or past INT_MAX. */
size_t pick_dim(bytes *r)
{
    static const size_t dims[] = {0, 1, 2, 3, 5, 8, 13, 64, 1000, 65536,
                                  (size_t)INT_MAX - 1, (size_t)INT_MAX};
    unsigned v = u8(r) % 20;
    if (v < 12)
        return dims[v];
    return huge_sizes[(v - 12) % NHUGE];
}

bptt_activation pick_act(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_activation)(v % BPTT_NACTIVATION);
    static const int bad[] = {BPTT_NACTIVATION, -1, 77, INT_MAX};
    return (bptt_activation)bad[v - 12];
}

const bptt_custom_activation *pick_custom(bytes *r)
{
    static const bptt_custom_activation no_f = {NULL, custom_df, &gain};
    static const bptt_custom_activation no_df = {custom_f, NULL, &gain};
    unsigned v = u8(r) % 8;
    return v < 5 ? &custom : v == 5 ? NULL : v == 6 ? &no_f : &no_df;
}

/* ------------------------------------------------------------------------ */
/* The workspace's documented size                                          */
/* ------------------------------------------------------------------------ */

/* The documented formula, in 128 bits: 256 + up(r·T·B·m) + 2·up(r·T·B·dout)
 * + up(r·B·m); 0 if T·B > INT_MAX or the total exceeds SIZE_MAX. */
size_t formula(size_t r, size_t T, size_t B, size_t m, size_t dout)
{
    u128 rows = (u128)T * B;
    if (rows > (u128)INT_MAX)
        return 0;
#define UP(n) ((((u128)(n)) + 63) / 64 * 64)
    /* + the packed Wy (whole panels of 128 bytes) and the own GEMM's block
     * of kc rows, kc = min(512, max(din, dout, T·B)) */
    const u128 p = 128 / r, din = m - dout;
    u128 kc = din > dout ? din : dout;
    kc = rows > kc ? rows : kc;
    kc = kc < 512 ? kc : 512;
    u128 total = 256 + UP(rows * m * r) + 2 * UP(rows * dout * r) +
                 (u128)r * dout * p * ((dout + p - 1) / p) +
                 UP((u128)r * kc * (p * ((m + p - 1) / p) + dout));
#undef UP
    return total > (u128)SIZE_MAX ? 0 : (size_t)total;
}

/* ------------------------------------------------------------------------ */
/* Small counts and leading dimensions (loss, SGD, the later modules)       */
/* ------------------------------------------------------------------------ */

/* A count for loss and SGD, whose arrays the harness allocates: small, 0,
 * or so large (>= SIZE_MAX/2) that any extent of 4-byte elements
 * overflows — never a size that would fit and need gigabytes. */
size_t pick_small(bytes *r, size_t max)
{
    unsigned v = u8(r) % 32;
    if (v < 28)
        return 1 + v % max;
    if (v == 28)
        return 0;
    return huge_sizes[2 + (v - 29) % (NHUGE - 2)];
}

size_t pick_small_ld(bytes *r, size_t cols)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return cols + v % 4;
    if (v == 12)
        return cols - 1;
    return huge_sizes[2 + (v - 13) % (NHUGE - 2)];
}

/* rows x cols at ld fit in memory (the call's own overflow rule). */
int extent_ok(const api *A, size_t rows, size_t ld)
{
    return (u128)rows * ld * A->r <= (u128)SIZE_MAX;
}

int same_value(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* ------------------------------------------------------------------------ */
/* Helpers of the later modules' ops                                         */
/* ------------------------------------------------------------------------ */

u128 up64(u128 n)
{
    return (n + 63) / 64 * 64;
}

/* v clamped to 1..max: the rows the harness allocates for a count v. */
size_t clampc(size_t v, size_t max)
{
    return v < 1 ? 1 : v > max ? max : v;
}

/* The status T and B earn against a capacity. */
unsigned count_fault(size_t T, size_t B, size_t Tmax, size_t Bmax)
{
    if (!T || !B)
        return BIT(BPTT_ESIZE);
    return T > Tmax || B > Bmax ? BIT(BPTT_ECAPACITY) : 0;
}

/* A dense rows x cols matrix of zeros in an arena (a reference's output). */
mat mat_dense(arena *a, const api *A, size_t rows, size_t cols)
{
    mat M = {arena_new(a, rows * cols * A->r), rows, cols, cols, cols};
    memset(M.p, 0, rows * cols * A->r);
    return M;
}

/* A copy of M as it was at the snapshot of arena a: the starting values of
 * an output, for a reference call that accumulates into them. */
mat mat_snap_copy(arena *ref, const api *A, const arena *a, mat M)
{
    mat C = mat_copy(ref, A, M);
    const unsigned char *s = C.p ? arena_snap_of(a, M.p) : NULL;
    if (s)
        memcpy(C.p, s, ((M.rows - 1) * M.sld + M.cols) * A->r);
    return C;
}

/* A valid call wrote nothing but the buffers outs[0..n-1] (NULLs skipped). */
void require_only(const arena *a, void *const *outs, int n,
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
double mat_amax(const api *A, mat M)
{
    double x = 0;
    for (size_t i = 0; M.p && i < M.rows; i++)
        for (size_t j = 0; j < M.cols; j++)
            x = fmax(x, fabs(mat_get(A, M, i, j)));
    return x;
}

/* Finite and bounded by 1e6 (the inputs whose results are compared). */
int mat_tame(const api *A, mat M)
{
    return mat_finite(A, M) && mat_amax(A, M) <= 1e6;
}

/* The Frobenius norm of rows r0.. r0+rows-1 of M in long double (no
 * overflow for any double), NaN if one is NaN, +inf if one is infinite. */
long double frob(const api *A, mat M, size_t r0, size_t rows)
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
int norm_close(double got, long double want, double tol)
{
    if (isnan(want) || isinf(want))
        return same_value(got, (double)want);
    return fabsl(got - want) <= tol * want + 4 * DBL_TRUE_MIN ||
           (want > (long double)DBL_MAX && got == INFINITY);
}

int ralgo_ok(bptt_rtrl_algo a)
{
    return (unsigned)a < BPTT_RTRL_NALGO;
}

bptt_rtrl_algo pick_ralgo(bytes *r)
{
    unsigned v = u8(r) % 16;
    if (v < 12)
        return (bptt_rtrl_algo)(v % BPTT_RTRL_NALGO);
    static const int bad[] = {BPTT_RTRL_NALGO, -1, 1000, INT_MIN};
    return (bptt_rtrl_algo)bad[v - 12];
}

/* beta of a backward-like call: from a list, or hostile. */
double pick_beta(bytes *r, const api *A, int hostile)
{
    static const double betas[] = {0, 1, 0.5, -1.5, 0, 2, 0, 1};
    const unsigned v = u8(r);
    return hostile && v >= 224 ? A->special[(v - 224) % 10] : betas[v % 8];
}

/* The query gives want (computed by the harness; 0: overflow) or is
 * rejected for the faults; alloc and init agree with it, init refuses one
 * byte less without a write, and nothing is written on error. */
void check_family(bytes *r, const api *A, const family *F,
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
/* op: the small functions                                                   */
/* ------------------------------------------------------------------------ */

void op_misc(bytes *r)
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
    /* the plan layer's name, accessors and destroys */
    REQUIRE((bptt_cell_name((bptt_cell)code) != NULL) ==
                (code >= 0 && code < BPTT_NCELL), "cell_name(%d)", code);
    REQUIRE(bptt_plan_cell(NULL) == BPTT_NCELL && bptt_plan_tmax(NULL) == 0 &&
                bptt_plan_bmax(NULL) == 0 && bpttf_plan_algo(NULL) == BPTT_NALGO &&
                bptt_plan_workspace(NULL) == NULL &&
                bpttf_elman_plan_workspace(NULL) == NULL &&
                bptt_rtrl_plan_state(NULL) == NULL, "NULL plans");
    bptt_plan_destroy(NULL);
    bpttf_plan_destroy(NULL);
    bptt_elman_plan_destroy(NULL);
    bpttf_elman_plan_destroy(NULL);
    bptt_rtrl_plan_destroy(NULL);
    bpttf_rtrl_plan_destroy(NULL);
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
    {"plan", op_plan},
    {"plan_elman", op_plan_elman},
    {"plan_rtrl", op_plan_rtrl},
    {"alias", op_alias},
    {"stale", op_stale},
    {"gated", op_gated},
    {"optim", op_optim},
    {"checkpoint", op_checkpoint},
    {"tokens", op_tokens},
    {"gradcheck", op_gradcheck},
    {"elman_finite", op_elman_finite},
    {"schedule", op_schedule},
    {"tokens_net", op_tokens_net},
    {"tokens_elman", op_tokens_elman},
    {"tokens_tbptt", op_tokens_tbptt},
    {"schedule_float", op_schedule_float},
    {"plan_gated", op_plan_gated},
    {"elman_gated", op_elman_gated},
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
