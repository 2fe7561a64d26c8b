/*
 * bptt/common.h — what both precisions share: status codes, the network
 * descriptor with its per-unit activations, and the choice of algorithm.
 * Include <bptt.h> rather than this file.
 */
#ifndef BPTT_COMMON_H
#define BPTT_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BPTT_BUILDING) && defined(__GNUC__)
#define BPTT_API __attribute__((visibility("default")))
#else
#define BPTT_API
#endif

#define BPTT_VERSION_MAJOR 0
#define BPTT_VERSION_MINOR 1
#define BPTT_VERSION_PATCH 0

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). */
BPTT_API const char *bptt_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum bptt_status {
    BPTT_OK = 0,
    BPTT_ENULL,       /* a required pointer argument is NULL */
    BPTT_ESIZE,       /* a size is zero (din, dout, T, B, rows, cols) */
    BPTT_ELD,         /* a leading dimension is smaller than its row length */
    BPTT_ECAPACITY,   /* T or B exceeds the workspace's Tmax or Bmax */
    BPTT_EOVERFLOW,   /* an element or byte count does not fit in size_t */
    BPTT_EACTIVATION, /* unknown activation code, or custom one without f/df */
    BPTT_EALGO,       /* unknown algorithm code */
    BPTT_ENOMEM,      /* memory allocation failed */
    BPTT_ENOFORWARD,  /* backward without a matching forward in the workspace */
    BPTT_EMISMATCH,   /* workspace belongs to another network descriptor,
                         or to a freed one whose address was reused */
    BPTT_EBUFFER,     /* caller's workspace buffer is smaller than required */
    BPTT_EINVAL,      /* another invalid argument value (e.g. non-finite rate) */
    BPTT_ENONFINITE,  /* a value is NaN or infinite */
    BPTT_ELAPACK,     /* a LAPACK routine failed (its info is in the detail) */
    BPTT_ETHREAD,     /* the system refused to start a thread */
    BPTT_EOVERLAP,    /* an output overlaps an input or another output */
    BPTT_EBUSY,       /* the workspace is in use by another call */
    BPTT_EIO,         /* the file system refused a read or write */
    BPTT_EFORMAT,     /* not a bptt checkpoint, or of the other byte order */
    BPTT_EVERSION,    /* a checkpoint of another format version */
    BPTT_ECORRUPT,    /* a checkpoint truncated or failing its CRC-32C */
    BPTT_NSTATUS      /* number of codes; not a status */
} bptt_status;

/* A fixed English text for a status code (static storage, never NULL; an
 * unknown code gives "unknown status"). */
BPTT_API const char *bptt_strerror(bptt_status status);

/* The detail of the last error returned to the calling thread, e.g.
 * "bptt_forward: ldx (3) < din (5)".  Thread-local, static storage, valid
 * until the thread's next failing call; "" if there was none. */
BPTT_API const char *bptt_error_detail(void);

/* ------------------------------------------------------------------------ */
/* Activations                                                               */
/* ------------------------------------------------------------------------ */

/* Per-unit activation f_i of eq. (4) and its derivative f_i'. */
typedef enum bptt_activation {
    BPTT_ACT_IDENTITY = 0, /* f(z) = z,              f' = 1                 */
    BPTT_ACT_TANH,         /* f(z) = tanh z,         f' = 1 - f²            */
    BPTT_ACT_LOGISTIC,     /* f(z) = 1/(1+e^-z),     f' = f(1 - f)          */
    BPTT_ACT_RELU,         /* f(z) = max(z, 0),      f' = [z > 0] (0 at 0)  */
    BPTT_ACT_SOFTPLUS,     /* f(z) = log(1+e^z),     f' = logistic(z)       */
    BPTT_ACT_CUSTOM,       /* the caller's pair, see bptt_custom_activation */
    BPTT_NACTIVATION       /* number of codes; not an activation */
} bptt_activation;

/* A caller-supplied activation: f(z) and its derivative df(z) = f'(z), both
 * evaluated in double for either precision, with the caller's pointer.  The
 * functions must be pure (same z, same result) and thread-safe if the
 * descriptor is shared between threads. */
typedef struct bptt_custom_activation {
    double (*f)(double z, void *user);
    double (*df)(double z, void *user);
    void *user;
} bptt_custom_activation;

/* The activation's name ("identity", "tanh", "logistic", "relu",
 * "softplus", "custom"), or NULL for an unknown code. */
BPTT_API const char *bptt_activation_name(bptt_activation act);

/* ------------------------------------------------------------------------ */
/* The network descriptor (Network A, seed eqs. (1)-(13))                    */
/* ------------------------------------------------------------------------ */

/* Opaque, immutable once created: sizes and per-unit activations, validated
 * once.  One descriptor may be shared read-only by any number of threads,
 * each with its own workspace. */
typedef struct bptt_net bptt_net;

/* Create the descriptor of a network with din inputs and dout units:
 *
 *     z(t+1) = W [x(t); y(t)] + b,    y_i(t+1) = f_i(z_i(t+1)),
 *
 * W being dout x (din+dout), columns [x-part | y-part].
 *
 * act    dout codes, act[i] is unit i's activation (copied).
 * custom the pair used by every unit whose code is BPTT_ACT_CUSTOM (copied;
 *        the user pointer is kept as is).  May be NULL if no unit is custom.
 * net    receives the new descriptor; free it with bptt_net_free().
 *
 * Errors: BPTT_ENULL (net or act NULL), BPTT_ESIZE (din or dout is 0),
 * BPTT_EOVERFLOW (din+dout or a derived count overflows), BPTT_EACTIVATION
 * (a code out of range, or a custom unit without custom, custom->f or
 * custom->df), BPTT_ENOMEM.  On error *net is not written. */
BPTT_API bptt_status bptt_net_create(size_t din, size_t dout,
                                     const bptt_activation *act,
                                     const bptt_custom_activation *custom,
                                     bptt_net **net);

/* The same with every unit given the activation act. */
BPTT_API bptt_status bptt_net_create_uniform(size_t din, size_t dout,
                                             bptt_activation act,
                                             const bptt_custom_activation *custom,
                                             bptt_net **net);

/* Free a descriptor (NULL is a no-op).  Workspaces made for it must not be
 * used afterwards. */
BPTT_API void bptt_net_free(bptt_net *net);

/* Sizes and activations of a descriptor.  With a NULL net they return 0 and
 * BPTT_NACTIVATION; an out-of-range unit gives BPTT_NACTIVATION. */
BPTT_API size_t bptt_net_din(const bptt_net *net);
BPTT_API size_t bptt_net_dout(const bptt_net *net);
BPTT_API bptt_activation bptt_net_activation(const bptt_net *net, size_t unit);

/* ------------------------------------------------------------------------ */
/* Algorithms                                                                */
/* ------------------------------------------------------------------------ */

/* How forward and backward compute.  All give the same result up to
 * rounding; the choice exists for testing and benchmarking. */
typedef enum bptt_algo {
    BPTT_ALGO_AUTO = 0,  /* the library's choice for the shape (see below)  */
    BPTT_ALGO_NAIVE,     /* the element-wise sums of eqs. (3)-(12) as plain
                            loops, no BLAS: the reference and the baseline  */
    BPTT_ALGO_GEMV_GER,  /* per step one GEMV for eq. (7) (a GEMM when B>1)
                            and one GER for eqs. (9)/(12) (rank-B update)   */
    BPTT_ALGO_DEFERRED,  /* per step only the recurrent product Wy·y forward
                            and Wyᵀ·δ backward; Wx·x for all steps, dL/dW =
                            Δᵀ S and dL/dx = Δ Wx as one GEMM each         */
    BPTT_NALGO           /* number of codes; not an algorithm */
} bptt_algo;

/* The algorithm's name ("auto", "naive", "gemv-ger", "deferred"), or
 * NULL. */
BPTT_API const char *bptt_algo_name(bptt_algo algo);

/* The algorithm BPTT_ALGO_AUTO resolves to for this network and shape.
 * Currently always BPTT_ALGO_DEFERRED, whose backward was the fastest (or
 * tied) on every shape measured by bptt-bench (docs/algorithms.md,
 * "BPTT_ALGO_AUTO"). */
BPTT_API bptt_algo bptt_algo_resolve(const bptt_net *net, size_t T, size_t B);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_COMMON_H */
