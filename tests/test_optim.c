/*
 * Optimizers and the parameter layout: SGD (plain, momentum, Nesterov,
 * weight decay), Adam and AdamW against steps computed here by hand in
 * the papers' form; float against double; a non-finite gradient refused
 * with parameters and state untouched; the layout's counts and offsets;
 * traps.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* An optimizer for n parameters with its zeroed double state. */
typedef struct opt {
    bptt_optim *o;
    size_t bytes;
    void *state;
} opt;

static opt opt_new(const bptt_optim_config *cfg, size_t n)
{
    opt r = {0};
    ck_assert_int_eq(bptt_optim_create(cfg, n, &r.o), BPTT_OK);
    ck_assert_int_eq(bptt_optim_state_size(r.o, &r.bytes), BPTT_OK);
    r.state = malloc(r.bytes);
    ck_assert_int_eq(bptt_optim_state_init(r.o, r.state, r.bytes), BPTT_OK);
    return r;
}

static void opt_free(opt *r)
{
    bptt_optim_free(r->o);
    free(r->state);
}

START_TEST(sgd_by_hand)
{
    bptt_optim_config c;
    bptt_optim_defaults(BPTT_OPTIM_SGD, &c);
    /* plain: p − lr g, no state beyond the header */
    opt a = opt_new(&c, 2);
    ck_assert_uint_eq(a.bytes, 64);
    double p[2] = {1, -2};
    const double g[2] = {0.5, 0.25};
    ck_assert_int_eq(bptt_optim_step(a.o, 0.1, p, g, a.state), BPTT_OK);
    ck_assert(p[0] == 1 - 0.1 * 0.5 && p[1] == -2 - 0.1 * 0.25);
    ck_assert_uint_eq(bptt_optim_state_steps(a.state), 1);
    opt_free(&a);
    /* momentum 0.5, lr 0.5, g = 1 twice: v = 1, 1.5; p −= 0.5, 0.75 */
    c.momentum = 0.5;
    a = opt_new(&c, 1);
    ck_assert_uint_eq(a.bytes, 64 + sizeof(double));
    double q = 3;
    const double one = 1;
    bptt_optim_step(a.o, 0.5, &q, &one, a.state);
    ck_assert(q == 2.5);
    bptt_optim_step(a.o, 0.5, &q, &one, a.state);
    ck_assert(q == 1.75);
    opt_free(&a);
    /* Nesterov: updates g + μv = 1.5, then 1 + 0.5·1.5 = 1.75 */
    c.nesterov = 1;
    a = opt_new(&c, 1);
    q = 3;
    bptt_optim_step(a.o, 0.5, &q, &one, a.state);
    ck_assert(q == 3 - 0.75);
    bptt_optim_step(a.o, 0.5, &q, &one, a.state);
    ck_assert(q == 3 - 0.75 - 0.875);
    opt_free(&a);
    /* L2 weight decay: g + λp = 0 + 0.5·2 */
    bptt_optim_defaults(BPTT_OPTIM_SGD, &c);
    c.weight_decay = 0.5;
    a = opt_new(&c, 1);
    q = 2;
    const double zero = 0;
    bptt_optim_step(a.o, 0.25, &q, &zero, a.state);
    ck_assert(q == 2 - 0.25);
    opt_free(&a);
}
END_TEST

/* Adam in the paper's form (Kingma & Ba, Alg. 1 with ε outside the root
 * of v̂), with L2 decay (adam) or decoupled decay (adamw) in PyTorch's
 * sense: the reference the library's rounding order is held to. */
static void adam_ref(int decoupled, const bptt_optim_config *c, double lr,
                     int t, double *p, double g, double *m, double *v)
{
    if (decoupled)
        *p *= 1 - lr * c->weight_decay;
    else
        g += c->weight_decay * *p;
    *m = c->beta1 * *m + (1 - c->beta1) * g;
    *v = c->beta2 * *v + (1 - c->beta2) * g * g;
    const double mh = *m / (1 - pow(c->beta1, t));
    const double vh = *v / (1 - pow(c->beta2, t));
    *p -= lr * mh / (sqrt(vh) + c->eps);
}

START_TEST(adam_by_hand)
{
    for (int kind = BPTT_OPTIM_ADAM; kind <= BPTT_OPTIM_ADAMW; kind++) {
        bptt_optim_config c;
        bptt_optim_defaults((bptt_optim_kind)kind, &c);
        ck_assert(c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8);
        c.weight_decay = 0.05;
        enum { N = 7 };
        opt a = opt_new(&c, N);
        ck_assert_uint_eq(a.bytes, 64 + 2 * N * sizeof(double));
        tu_rng r = {11 + (unsigned)kind};
        double p[N], pr[N], m[N] = {0}, v[N] = {0};
        for (int i = 0; i < N; i++)
            p[i] = pr[i] = tu_uniform(&r);
        for (int t = 1; t <= 25; t++) {
            double g[N];
            for (int i = 0; i < N; i++)
                g[i] = (i == 3 ? 1e-3 : 1) * tu_uniform(&r);
            const double lr = 1e-2 / t;
            ck_assert_int_eq(bptt_optim_step(a.o, lr, p, g, a.state), BPTT_OK);
            for (int i = 0; i < N; i++) {
                adam_ref(kind == BPTT_OPTIM_ADAMW, &c, lr, t, &pr[i], g[i],
                         &m[i], &v[i]);
                ck_assert_double_le(fabs(p[i] - pr[i]),
                                    1e-14 * fmax(1, fabs(pr[i])));
            }
        }
        ck_assert_uint_eq(bptt_optim_state_steps(a.state), 25);
        opt_free(&a);
    }
    /* the first step of Adam moves every entry by lr·g/(|g| + ε) */
    bptt_optim_config c;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &c);
    opt a = opt_new(&c, 2);
    double p[2] = {0, 0};
    const double g[2] = {3, -1e-4};
    bptt_optim_step(a.o, 0.1, p, g, a.state);
    ck_assert_double_le(fabs(p[0] + 0.1 * 3 / (3 + 1e-8)), 1e-16);
    ck_assert_double_le(fabs(p[1] - 0.1 * 1e-4 / (1e-4 + 1e-8)), 1e-15);
    opt_free(&a);
}
END_TEST

START_TEST(float_against_double)
{
    const bptt_optim_kind kinds[] = {BPTT_OPTIM_SGD, BPTT_OPTIM_ADAM,
                                     BPTT_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        bptt_optim_config c;
        bptt_optim_defaults(kinds[k], &c);
        c.momentum = kinds[k] == BPTT_OPTIM_SGD ? 0.9 : 0;
        c.nesterov = kinds[k] == BPTT_OPTIM_SGD;
        enum { N = 33 };
        opt a = opt_new(&c, N);
        size_t fb;
        ck_assert_int_eq(bpttf_optim_state_size(a.o, &fb), BPTT_OK);
        ck_assert_uint_eq(fb, 64 + (a.bytes - 64) / 2);
        void *fs = malloc(fb);
        ck_assert_int_eq(bpttf_optim_state_init(a.o, fs, fb), BPTT_OK);
        /* a double state is not a float one */
        float fp[N], fg[N];
        double p[N], g[N];
        tu_rng r = {5};
        for (int i = 0; i < N; i++)
            fp[i] = (float)(p[i] = (float)tu_uniform(&r));
        TU_REFUSED(bpttf_optim_step(a.o, 0.01, fp, fg, a.state),
                   BPTT_EMISMATCH, NULL);
        for (int t = 0; t < 10; t++) {
            for (int i = 0; i < N; i++)
                fg[i] = (float)(g[i] = (float)tu_uniform(&r));
            ck_assert_int_eq(bptt_optim_step(a.o, 0.01, p, g, a.state),
                             BPTT_OK);
            ck_assert_int_eq(bpttf_optim_step(a.o, 0.01, fp, fg, fs), BPTT_OK);
        }
        for (int i = 0; i < N; i++)
            ck_assert_double_le(fabs(fp[i] - p[i]), TOL_FLOAT);
        free(fs);
        opt_free(&a);
    }
}
END_TEST

START_TEST(nonfinite_gradient_is_refused)
{
    const bptt_optim_kind kinds[] = {BPTT_OPTIM_SGD, BPTT_OPTIM_ADAM,
                                     BPTT_OPTIM_ADAMW};
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        bptt_optim_config c;
        bptt_optim_defaults(kinds[k], &c);
        c.momentum = 0.5;
        enum { N = 9 };
        opt a = opt_new(&c, N);
        double p[N], g[N];
        for (int i = 0; i < N; i++)
            p[i] = g[i] = 0.1 * i;
        ck_assert_int_eq(bptt_optim_step(a.o, 0.1, p, g, a.state), BPTT_OK);
        for (int b = 0; b < 3; b++) {
            g[N - 2] = bad[b];
            tu_snap s = {0};
            tu_snap_add(&s, p, sizeof p);
            tu_snap_add(&s, a.state, a.bytes);
            tu_snap_add(&s, g, sizeof g);
            TU_REFUSED(bptt_optim_step(a.o, 0.1, p, g, a.state),
                       BPTT_ENONFINITE, &s);
            ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "g[7]"));
            tu_snap_free(&s);
        }
        ck_assert_uint_eq(bptt_optim_state_steps(a.state), 1);
        opt_free(&a);
    }
}
END_TEST

START_TEST(optim_traps)
{
    bptt_optim_config c, d;
    bptt_optim *o = NULL;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &c);
    TU_REFUSED(bptt_optim_create(NULL, 3, &o), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_optim_create(&c, 3, NULL), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_optim_create(&c, 0, &o), BPTT_ESIZE, NULL);
#define BADCFG(field, value, name)                                             \
    do {                                                                       \
        d = c;                                                                 \
        d.field = value;                                                       \
        TU_REFUSED(bptt_optim_create(&d, 3, &o), BPTT_EINVAL, NULL);           \
        ck_assert_ptr_nonnull(strstr(bptt_error_detail(), name));              \
    } while (0)
    BADCFG(kind, BPTT_NOPTIM, "kind");
    BADCFG(beta1, 1.0, "beta1");
    BADCFG(beta1, -0.1, "beta1");
    BADCFG(beta2, NAN, "beta2");
    BADCFG(eps, 0, "eps");
    BADCFG(eps, INFINITY, "eps");
    BADCFG(weight_decay, -1, "weight_decay");
    BADCFG(weight_decay, NAN, "weight_decay");
    bptt_optim_defaults(BPTT_OPTIM_SGD, &c);
    BADCFG(momentum, 1, "momentum");
    BADCFG(nesterov, 1, "nesterov");
#undef BADCFG
    ck_assert_ptr_null(o);
    ck_assert_ptr_null(bptt_optim_name(BPTT_NOPTIM));
    ck_assert_str_eq(bptt_optim_name(BPTT_OPTIM_ADAMW), "adamw");

    c.momentum = 0.9;
    opt a = opt_new(&c, 4);
    size_t bytes;
    TU_REFUSED(bptt_optim_state_size(NULL, &bytes), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_optim_state_size(a.o, NULL), BPTT_ENULL, NULL);
    unsigned char buf[200] = {0};
    TU_REFUSED_REGION(bptt_optim_state_init(a.o, buf, a.bytes - 1),
                      BPTT_EBUFFER, buf, sizeof buf);
    TU_REFUSED_REGION(bptt_optim_state_init(a.o, buf + 1, a.bytes),
                      BPTT_EINVAL, buf, sizeof buf);
    TU_REFUSED_REGION(bptt_optim_state_init(a.o, NULL, a.bytes), BPTT_ENULL,
                      buf, sizeof buf);
    double p[4] = {1, 2, 3, 4}, g[4] = {0};
    tu_snap s = {0};
    tu_snap_add(&s, p, sizeof p);
    tu_snap_add(&s, a.state, a.bytes);
    TU_REFUSED(bptt_optim_step(NULL, 0.1, p, g, a.state), BPTT_ENULL, &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, NULL, g, a.state), BPTT_ENULL, &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, NULL, a.state), BPTT_ENULL, &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, g, NULL), BPTT_ENULL, &s);
    TU_REFUSED(bptt_optim_step(a.o, NAN, p, g, a.state), BPTT_EINVAL, &s);
    TU_REFUSED(bptt_optim_step(a.o, -1, p, g, a.state), BPTT_EINVAL, &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, g, buf), BPTT_EMISMATCH, &s);
    /* a state of another optimizer or size */
    bptt_optim_config e;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &e);
    opt b = opt_new(&e, 4), c5 = opt_new(&c, 5);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, g, b.state), BPTT_EMISMATCH, &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, g, c5.state), BPTT_EMISMATCH, &s);
    /* p, g and the state may not share memory: g as p, g or p inside the
     * state's moments (past its 64-byte header) */
    double *mom = (double *)((unsigned char *)a.state + 64);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, p, a.state), BPTT_EOVERLAP, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "overlaps"));
    TU_REFUSED(bptt_optim_step(a.o, 0.1, p, mom + 1, a.state), BPTT_EOVERLAP,
               &s);
    TU_REFUSED(bptt_optim_step(a.o, 0.1, mom, g, a.state), BPTT_EOVERLAP, &s);
    tu_snap_free(&s);
    opt_free(&a);
    opt_free(&b);
    opt_free(&c5);
    bptt_optim_free(NULL);
    ck_assert_uint_eq(bptt_optim_state_steps(NULL), 0);
    ck_assert_uint_eq(bptt_optim_state_steps(buf), 0);
}
END_TEST

START_TEST(param_layouts)
{
    bptt_net *net;
    ck_assert_int_eq(
        bptt_net_create_uniform(3, 5, BPTT_ACT_TANH, NULL, &net), BPTT_OK);
    bptt_param_layout l;
    ck_assert_int_eq(bptt_net_param_layout(net, &l), BPTT_OK);
    ck_assert_uint_eq(l.nviews, 2);
    ck_assert_uint_eq(l.count, 5 * 8 + 5);
    ck_assert_str_eq(l.view[0].name, "W");
    ck_assert(l.view[0].offset == 0 && l.view[0].rows == 5 &&
              l.view[0].cols == 8 && l.view[0].ld == 8);
    ck_assert(l.view[1].offset == 40 && l.view[1].rows == 1 &&
              l.view[1].cols == 5);
    ck_assert_int_eq(bptt_param_layout_find(&l, "b"), 1);
    ck_assert_int_eq(bptt_param_layout_find(&l, "Wo"), -1);
    ck_assert_int_eq(bptt_param_layout_find(NULL, "W"), -1);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, 4, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_param_layout(el, &l), BPTT_OK);
    ck_assert_uint_eq(l.nviews, 4);
    ck_assert_uint_eq(l.count, 40 + 5 + 4 * 5 + 4);
    const char *names[] = {"W", "bh", "Wo", "bo"};
    const size_t off[] = {0, 40, 45, 65};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(l.view[i].name, names[i]);
        ck_assert_uint_eq(l.view[i].offset, off[i]);
        ck_assert_int_eq(bptt_param_layout_find(&l, names[i]), i);
    }
    bptt_param_layout keep = l;
    TU_REFUSED_REGION(bptt_net_param_layout(NULL, &l), BPTT_ENULL, &l,
                      sizeof l);
    TU_REFUSED(bptt_net_param_layout(net, NULL), BPTT_ENULL, NULL);
    TU_REFUSED_REGION(bptt_elman_param_layout(NULL, &l), BPTT_ENULL, &l,
                      sizeof l);
    TU_REFUSED(bptt_elman_param_layout(el, NULL), BPTT_ENULL, NULL);
    ck_assert(memcmp(&keep, &l, sizeof l) == 0);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, sgd_by_hand);
    tcase_add_test(tc, adam_by_hand);
    tcase_add_test(tc, float_against_double);
    tcase_add_test(tc, nonfinite_gradient_is_refused);
    tcase_add_test(tc, optim_traps);
    tcase_add_test(tc, param_layouts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
