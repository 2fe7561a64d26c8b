/*
 * fuzz.h — what the fuzz harness's files share (fuzz/README.md): failing
 * with a reason, reading argument bytes, the arena of buffers that proves a
 * rejected call wrote nothing, the pickers of sizes, leading dimensions and
 * codes, the table of one precision's entry points (apis[0] double,
 * apis[1] float), arrays of R and their comparisons, and the ops, one per
 * module, that fuzz_main.c dispatches to (ops_<module>.c).
 */
#ifndef BPTT_FUZZ_H
#define BPTT_FUZZ_H

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
            fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                      \
    } while (0)
void fail(const char *file, int line, const char *cond, const char *fmt,
          ...);

/* FUZZ_TRACE=1 in the environment prints each call's arguments (to
 * understand a reproducer: fuzz_api crash-...). */
void trace(const char *fmt, ...) BPTT_FUZZ_PRINTF;

/* FUZZ_STATS=1 prints at exit how often each outcome was reached, to see
 * what a corpus exercises: fuzz_api -runs=0 fuzz/corpus. */
enum hit {
    H_FWD_REJECTED, H_FWD_NONFINITE_IN, H_FWD_ACCEPTED, H_FWD_NONFINITE_OUT,
    H_FWD_COMPARED, H_BWD_REJECTED, H_BWD_NONFINITE_IN, H_BWD_ACCEPTED,
    H_BWD_NONFINITE_OUT, H_BWD_COMPARED, H_BWD_KINK, H_OTHER_REJECTED,
    H_OTHER_CHECKED, H_LATER_REJECTED, H_LATER_ACCEPTED, H_LATER_COMPARED,
    H_LATER_KINK, H_RTRL_BPTT, NHIT
};
extern const char *const hit_name[NHIT];
extern unsigned long hits[NHIT];
#define HIT(h) (hits[h]++)
void print_hits(void);

/* The operation's argument bytes; past the end every byte reads as 0. */
typedef struct bytes {
    const uint8_t *p;
    size_t n;
} bytes;
unsigned u8(bytes *r);

/* Every buffer a call is given, so that one snapshot and one comparison
 * prove that a rejected call wrote nothing.  Buffers are malloc'd at their
 * exact size, so ASan catches any access past them. */
enum { MAXBUF = 128 };
typedef struct arena {
    unsigned char *p[MAXBUF], *snap[MAXBUF];
    size_t n[MAXBUF];
    int k;
} arena;
void *arena_new(arena *a, size_t n);
void arena_snapshot(arena *a);
int arena_changed(const arena *a, const void *skip1, const void *skip2);
const unsigned char *arena_snap_of(const arena *a, const void *p);
void arena_free(arena *a);
void mark_detail(void);
void require_rejected(bptt_status st, unsigned allowed, const char *fn,
                      const arena *a);

#define BIT(s) (1u << (s))

/* ------------------------------------------------------------------------ */
/* Sizes, leading dimensions, codes                                          */
/* ------------------------------------------------------------------------ */

/* Sizes no real array has: each is above INT_MAX, and any count of
 * elements of 8 bytes with one of them overflows size_t except the first. */
enum { NHUGE = 5 };
extern const size_t huge_sizes[NHUGE];
size_t pick_count(bytes *r, size_t max);
size_t pick_ld(bytes *r, size_t rows, size_t cols);
unsigned ld_fault(size_t ld, size_t cols);
bptt_algo pick_algo(bytes *r);
int algo_ok(bptt_algo a);

/* The caller's activation of BPTT_ACT_CUSTOM units: gain·sin, |f'| <= 1 so
 * bounded inputs stay bounded. */
extern double gain;
double custom_f(double z, void *user);
double custom_df(double z, void *user);
extern const bptt_custom_activation custom;
double wild_f(double z, void *user);
double wild_df(double z, void *user);
extern const bptt_custom_activation wild;

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
    bptt_status (*set_threads)(void *, int);
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

extern const api apis[2];
const char *fname(const api *A, const char *name, char buf[64]);

/* ------------------------------------------------------------------------ */
/* Arrays of R                                                               */
/* ------------------------------------------------------------------------ */

/* A rows x cols matrix with leading dimension ld, as the call sees it;
 * stored with leading dimension sld (ld itself when ld is usable). */
typedef struct mat {
    void *p;
    size_t rows, cols, ld, sld;
} mat;
mat mat_new(arena *a, const api *A, bytes *r, size_t rows, size_t cols,
            size_t ld, double scale, int hostile);
int mat_finite(const api *A, mat M);
int padding_kept(const api *A, const arena *a, mat M);

/* Normwise: every |a − b| <= tol·(1 + max|b|) over the block; b is the
 * reference.  NaN anywhere fails.  A failure is described in why. */
extern char why[160];
int mat_close(const api *A, mat X, mat Ref, double tol);
mat mat_copy(arena *a, const api *A, mat M);
double mat_get(const api *A, mat M, size_t i, size_t j);
int relu_kink(const api *A, const bptt_activation *act, size_t din,
              size_t dout, size_t T, size_t B, mat W, mat b, mat x,
              mat y0, mat y);

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
size_t pick_dim(bytes *r);
bptt_activation pick_act(bytes *r);
const bptt_custom_activation *pick_custom(bytes *r);

/* Largest dout for which the harness supplies a full act[] array. */
enum { MAXACT = 65536 };
__extension__ typedef unsigned __int128 u128;
size_t formula(size_t r, size_t T, size_t B, size_t m, size_t dout);
size_t pick_small(bytes *r, size_t max);
size_t pick_small_ld(bytes *r, size_t cols);
int extent_ok(const api *A, size_t rows, size_t ld);
int same_value(double a, double b);
u128 up64(u128 n);
size_t clampc(size_t v, size_t max);
unsigned count_fault(size_t T, size_t B, size_t Tmax, size_t Bmax);
mat mat_dense(arena *a, const api *A, size_t rows, size_t cols);
mat mat_snap_copy(arena *ref, const api *A, const arena *a, mat M);
void require_only(const arena *a, void *const *outs, int n,
                  const char *fn);
double mat_amax(const api *A, mat M);
int mat_tame(const api *A, mat M);
long double frob(const api *A, mat M, size_t r0, size_t rows);
int norm_close(double got, long double want, double tol);
int ralgo_ok(bptt_rtrl_algo a);
bptt_rtrl_algo pick_ralgo(bytes *r);
double pick_beta(bytes *r, const api *A, int hostile);

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
void check_family(bytes *r, const api *A, const family *F,
                  const void *obj, size_t T, size_t B, size_t want,
                  unsigned faults);

/* ------------------------------------------------------------------------ */
/* The ops: one per module, in ops_<module>.c; fuzz_main.c's ops[] table     */
/* maps the first byte of an input to one of them                           */
/* ------------------------------------------------------------------------ */

/* ops_network.c */
void op_net_create(bytes *r);
void op_net_create_uniform(bytes *r);
void op_workspace(bytes *r);
void op_train_double(bytes *r);
void op_train_float(bytes *r);
void op_loss(bytes *r);
void op_sgd(bytes *r);
/* ops_elman.c */
void op_elman_ws(bytes *r);
void op_elman_double(bytes *r);
void op_elman_float(bytes *r);
/* ops_rtrl.c */
void op_rtrl_state(bytes *r);
void op_rtrl_double(bytes *r);
void op_rtrl_float(bytes *r);
/* ops_diag.c */
void op_init(bytes *r);
void op_spectral(bytes *r);
void op_flow(bytes *r);
/* ops_train.c */
void op_clip(bytes *r);
/* ops_plan.c */
void op_plan(bytes *r);
void op_plan_elman(bytes *r);
void op_plan_rtrl(bytes *r);
/* ops_misuse.c */
void op_alias(bytes *r);
void op_stale(bytes *r);
/* ops_gated.c */
void op_gated(bytes *r);
/* ops_trainkit.c */
void op_optim(bytes *r);
void op_checkpoint(bytes *r);
void op_tokens(bytes *r);
void op_gradcheck(bytes *r);
void op_elman_finite(bytes *r);
/* ops_schedule.c */
void op_schedule(bytes *r);
void op_schedule_float(bytes *r);
/* ops_tokens.c */
void op_tokens_net(bytes *r);
void op_tokens_elman(bytes *r);
void op_tokens_tbptt(bytes *r);
/* ops_gated_layers.c */
void op_plan_gated(bytes *r);
void op_elman_gated(bytes *r);
/* fuzz_main.c */
void op_misc(bytes *r);

#endif /* BPTT_FUZZ_H */
