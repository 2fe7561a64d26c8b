/*
 * Checkpoints: a save and a load give the parameters and the optimizer
 * state back bitwise (Network A and B, both precisions); every truncation
 * and every single-byte corruption of a file is refused with nothing
 * written; another version, the other byte order, another net, precision
 * or optimizer are refused with their statuses; the file system's
 * refusals are BPTT_EIO; CRC-32C's check value; and kill -9 during a save
 * never leaves a broken file under the real name.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* A scratch directory per test process. */
static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bptt-test-io-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[384];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The file's bytes (malloc'd), and their count in *n. */
static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* A Network B model with random parameters and an Adam state that has
 * taken two steps. */
typedef struct model {
    bptt_net *net;
    bptt_elman *el;
    bptt_param_layout lay;
    double *p;
    bptt_optim *opt;
    void *state;
    size_t bytes;
} model;

static model model_new(size_t din, size_t dh, size_t nout, unsigned seed)
{
    model m = {0};
    ck_assert_int_eq(
        bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &m.net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(m.net, nout, BPTT_HEAD_SOFTMAX, &m.el),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_param_layout(m.el, &m.lay), BPTT_OK);
    tu_rng r = {seed};
    m.p = tu_random(m.lay.count, 1, &r);
    bptt_optim_config c;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &c);
    ck_assert_int_eq(bptt_optim_create(&c, m.lay.count, &m.opt), BPTT_OK);
    ck_assert_int_eq(bptt_optim_state_size(m.opt, &m.bytes), BPTT_OK);
    m.state = malloc(m.bytes);
    ck_assert_int_eq(bptt_optim_state_init(m.opt, m.state, m.bytes), BPTT_OK);
    double *g = tu_random(m.lay.count, 1, &r);
    for (int t = 0; t < 2; t++)
        ck_assert_int_eq(bptt_optim_step(m.opt, 0.01, m.p, g, m.state),
                         BPTT_OK);
    free(g);
    return m;
}

static void model_free(model *m)
{
    free(m->p);
    free(m->state);
    bptt_optim_free(m->opt);
    bptt_elman_free(m->el);
    bptt_net_free(m->net);
}

START_TEST(crc32c_check_value)
{
    ck_assert_uint_eq(bptt_crc32c(0, "123456789", 9), 0xE3069283u);
    /* continued over two pieces: the same */
    ck_assert_uint_eq(bptt_crc32c(bptt_crc32c(0, "1234", 4), "56789", 5),
                      0xE3069283u);
    ck_assert_uint_eq(bptt_crc32c(0, NULL, 0), 0);
}
END_TEST

START_TEST(round_trip)
{
    model m = model_new(5, 7, 3, 1);
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, m.state,
                                          m.bytes), BPTT_OK);
    /* into fresh buffers: bitwise the saved ones */
    double *p = calloc(m.lay.count, sizeof *p);
    void *st = malloc(m.bytes);
    ck_assert_int_eq(bptt_optim_state_init(m.opt, st, m.bytes), BPTT_OK);
    int has = -1;
    ck_assert_int_eq(
        bptt_checkpoint_load(path, NULL, m.el, p, st, m.bytes, &has), BPTT_OK);
    ck_assert_int_eq(has, 1);
    ck_assert_mem_eq(p, m.p, m.lay.count * sizeof *p);
    ck_assert_mem_eq(st, m.state, m.bytes);
    ck_assert_uint_eq(bptt_optim_state_steps(st), 2);
    /* parameters alone: the state is left as it is */
    memset(p, 0, m.lay.count * sizeof *p);
    ck_assert_int_eq(bptt_checkpoint_load(path, NULL, m.el, p, NULL, 0, &has),
                     BPTT_OK);
    ck_assert_int_eq(has, 0);
    ck_assert_mem_eq(p, m.p, m.lay.count * sizeof *p);
    /* a file without a state, loaded with one: state untouched */
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, NULL, 0),
                     BPTT_OK);
    tu_snap s = {0};
    tu_snap_add(&s, st, m.bytes);
    ck_assert_int_eq(
        bptt_checkpoint_load(path, NULL, m.el, p, st, m.bytes, &has), BPTT_OK);
    ck_assert_int_eq(has, 0);
    tu_assert_unwritten(&s, "state without OPTS");
    tu_snap_free(&s);
    /* Network A, in float */
    bptt_param_layout la;
    ck_assert_int_eq(bptt_net_param_layout(m.net, &la), BPTT_OK);
    float *fa = malloc(la.count * sizeof *fa), *fb = calloc(la.count, 4);
    for (size_t i = 0; i < la.count; i++)
        fa[i] = (float)m.p[i];
    ck_assert_int_eq(bpttf_checkpoint_save(path, m.net, NULL, fa, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_checkpoint_load(path, m.net, NULL, fb, NULL, 0,
                                           NULL), BPTT_OK);
    ck_assert_mem_eq(fa, fb, la.count * sizeof *fa);
    /* ... which a double load, or a Network B load, refuses */
    tu_snap_add(&s, p, m.lay.count * sizeof *p);
    TU_REFUSED(bptt_checkpoint_load(path, m.net, NULL, p, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    TU_REFUSED(bpttf_checkpoint_load(path, NULL, m.el, fb, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    tu_snap_free(&s);
    free(fa);
    free(fb);
    free(p);
    free(st);
    model_free(&m);
}
END_TEST

/* A gated core's layout stacks its G gates: W is G·dh x (din+dh) and bh
 * G·dh (docs/gated.md), so an LSTM's and a GRU's checkpoints hold all their
 * parameters, come back bitwise and are refused by each other. */
START_TEST(gated_layout)
{
    const size_t din = 3, dh = 4, nout = 2;
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL,
                                             &net), BPTT_OK);
    bptt_elman *el[2];
    bptt_param_layout lay[2];
    const bptt_cell cells[2] = {BPTT_CELL_LSTM, BPTT_CELL_GRU};
    for (int c = 0; c < 2; c++) {
        const size_t G = bptt_gated_gates(cells[c]), m = din + dh;
        ck_assert_int_eq(bptt_elman_create_cell(cells[c], net, nout,
                                                BPTT_HEAD_SOFTMAX, &el[c]),
                         BPTT_OK);
        ck_assert_int_eq(bptt_elman_param_layout(el[c], &lay[c]), BPTT_OK);
        ck_assert_uint_eq(lay[c].view[0].rows, G * dh);
        ck_assert_uint_eq(lay[c].view[0].cols, m);
        ck_assert_uint_eq(lay[c].view[1].cols, G * dh);
        ck_assert_uint_eq(lay[c].view[2].offset, G * dh * (m + 1));
        ck_assert_uint_eq(lay[c].count, G * dh * (m + 1) + nout * (dh + 1));
    }
    tu_rng r = {11};
    double *p = tu_random(lay[0].count, 1, &r);
    double *q = calloc(lay[0].count, sizeof *q);
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, el[0], p, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(bptt_checkpoint_load(path, NULL, el[0], q, NULL, 0, NULL),
                     BPTT_OK);
    ck_assert_mem_eq(p, q, lay[0].count * sizeof *p);
    tu_snap s = {0};
    tu_snap_add(&s, q, lay[1].count * sizeof *q);
    TU_REFUSED(bptt_checkpoint_load(path, NULL, el[1], q, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    tu_snap_free(&s);
    free(p);
    free(q);
    for (int c = 0; c < 2; c++)
        bptt_elman_free(el[c]);
    bptt_net_free(net);
}
END_TEST

/* Every prefix and every byte flipped: refused, nothing written. */
START_TEST(truncated_and_corrupt)
{
    model m = model_new(3, 4, 2, 2);
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, m.state,
                                          m.bytes), BPTT_OK);
    size_t n;
    unsigned char *img = slurp(path, &n);
    double *p = calloc(m.lay.count, sizeof *p);
    void *st = malloc(m.bytes);
    bptt_optim_state_init(m.opt, st, m.bytes);
    int has = 7;
    tu_snap s = {0};
    tu_snap_add(&s, p, m.lay.count * sizeof *p);
    tu_snap_add(&s, st, m.bytes);
    tu_snap_add(&s, &has, sizeof has);
    for (size_t k = 0; k < n; k++) {
        bptt_status got = bptt_checkpoint_parse(img, k, NULL, m.el, p, st,
                                                m.bytes, &has);
        tu_assert_refused(got, BPTT_ECORRUPT, &s, "truncated");
    }
    /* one byte more: trailing bytes */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, img, n);
    longer[n] = 0;
    TU_REFUSED(bptt_checkpoint_parse(longer, n + 1, NULL, m.el, p, st, m.bytes,
                                     &has), BPTT_ECORRUPT, &s);
    free(longer);
    for (size_t k = 0; k < n; k++)
        for (int bit = 0; bit < 8; bit += 3) {
            img[k] ^= (unsigned char)(1u << bit);
            bptt_status got = bptt_checkpoint_parse(img, n, NULL, m.el, p, st,
                                                    m.bytes, &has);
            ck_assert_msg(got != BPTT_OK, "byte %zu bit %d accepted", k, bit);
            ck_assert_int_eq(tu_snap_changed(&s), -1);
            img[k] ^= (unsigned char)(1u << bit);
        }
    /* a truncated file on disk */
    FILE *f = fopen(path, "wb");
    fwrite(img, 1, n - 5, f);
    fclose(f);
    TU_REFUSED(bptt_checkpoint_load(path, NULL, m.el, p, st, m.bytes, &has),
               BPTT_ECORRUPT, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "model.ckpt"));
    /* the intact image still loads */
    ck_assert_int_eq(bptt_checkpoint_parse(img, n, NULL, m.el, p, st, m.bytes,
                                           &has), BPTT_OK);
    tu_snap_free(&s);
    free(img);
    free(p);
    free(st);
    model_free(&m);
}
END_TEST

static void put32(unsigned char *p, unsigned v)
{
    uint32_t w = v;
    memcpy(p, &w, 4);
}

START_TEST(version_order_and_mismatch)
{
    model m = model_new(3, 4, 2, 3);
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, m.state,
                                          m.bytes), BPTT_OK);
    size_t n;
    unsigned char *img = slurp(path, &n);
    double *p = calloc(m.lay.count, sizeof *p);
    tu_snap s = {0};
    tu_snap_add(&s, p, m.lay.count * sizeof *p);
    /* another version, its header CRC made right */
    put32(img + 8, 2);
    put32(img + 60, (unsigned)bptt_crc32c(0, img, 60));
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, m.el, p, NULL, 0, NULL),
               BPTT_EVERSION, &s);
    put32(img + 8, BPTT_CHECKPOINT_VERSION);
    /* the other byte order */
    put32(img + 12, 0x04030201u);
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, m.el, p, NULL, 0, NULL),
               BPTT_EFORMAT, &s);
    put32(img + 12, 0x01020304u);
    put32(img + 60, (unsigned)bptt_crc32c(0, img, 60));
    /* not a checkpoint at all */
    TU_REFUSED(bptt_checkpoint_parse("GIF89a..", 8, NULL, m.el, p, NULL, 0,
                                     NULL), BPTT_EFORMAT, &s);
    /* another net: sizes, head, activations, Network A */
    bptt_net *n2, *n3;
    bptt_elman *e2, *e3, *e4;
    bptt_net_create_uniform(3, 5, BPTT_ACT_TANH, NULL, &n2);
    bptt_net_create_uniform(3, 4, BPTT_ACT_RELU, NULL, &n3);
    bptt_elman_create(n2, 2, BPTT_HEAD_SOFTMAX, &e2);
    bptt_elman_create(n3, 2, BPTT_HEAD_SOFTMAX, &e3);
    bptt_elman_create(m.net, 2, BPTT_HEAD_LINEAR, &e4);
    double *big = calloc(1000, sizeof *big);
    tu_snap_add(&s, big, 1000 * sizeof *big);
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, e2, big, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, e3, big, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "relu"));
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, e4, big, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    TU_REFUSED(bptt_checkpoint_parse(img, n, m.net, NULL, big, NULL, 0, NULL),
               BPTT_EMISMATCH, &s);
    /* another optimizer's state, or a state not initialised */
    bptt_optim_config c;
    bptt_optim_defaults(BPTT_OPTIM_SGD, &c);
    c.momentum = 0.9;
    bptt_optim *o;
    bptt_optim_create(&c, m.lay.count, &o);
    size_t sb;
    bptt_optim_state_size(o, &sb);
    void *st = malloc(sb > m.bytes ? sb : m.bytes);
    bptt_optim_state_init(o, st, sb);
    tu_snap_add(&s, st, sb);
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, m.el, p, st, sb, NULL),
               BPTT_EMISMATCH, &s);
    tu_snap_free(&s);
    memset(st, 0, m.bytes);
    tu_snap_add(&s, p, m.lay.count * sizeof *p);
    tu_snap_add(&s, st, m.bytes);
    TU_REFUSED(bptt_checkpoint_parse(img, n, NULL, m.el, p, st, m.bytes, NULL),
               BPTT_EMISMATCH, &s);
    tu_snap_free(&s);
    free(st);
    bptt_optim_free(o);
    free(big);
    bptt_elman_free(e2);
    bptt_elman_free(e3);
    bptt_elman_free(e4);
    bptt_net_free(n2);
    bptt_net_free(n3);
    free(img);
    free(p);
    model_free(&m);
}
END_TEST

START_TEST(io_traps)
{
    model m = model_new(2, 3, 2, 4);
    double *p = calloc(m.lay.count, sizeof *p);
    tu_snap s = {0};
    tu_snap_add(&s, p, m.lay.count * sizeof *p);
    TU_REFUSED(bptt_checkpoint_save(NULL, NULL, m.el, m.p, NULL, 0), BPTT_ENULL,
               &s);
    TU_REFUSED(bptt_checkpoint_save(path, NULL, m.el, NULL, NULL, 0),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_checkpoint_save(path, NULL, NULL, m.p, NULL, 0), BPTT_ENULL,
               &s);
    TU_REFUSED(bptt_checkpoint_save(path, m.net, m.el, m.p, NULL, 0),
               BPTT_EINVAL, &s);
    TU_REFUSED(bptt_checkpoint_save(path, NULL, m.el, m.p, m.state, 10),
               BPTT_EINVAL, &s);
    TU_REFUSED(bpttf_checkpoint_save(path, NULL, m.el, (float *)p, m.state,
                                     m.bytes), BPTT_EINVAL, &s);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing was created */
    char nodir[160];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.ckpt", dir);
    TU_REFUSED(bptt_checkpoint_save(nodir, NULL, m.el, m.p, NULL, 0), BPTT_EIO,
               &s);
    TU_REFUSED(bptt_checkpoint_load(nodir, NULL, m.el, p, NULL, 0, NULL),
               BPTT_EIO, &s);
    TU_REFUSED(bptt_checkpoint_load(dir, NULL, m.el, p, NULL, 0, NULL),
               BPTT_EIO, &s);
    TU_REFUSED(bptt_checkpoint_load(NULL, NULL, m.el, p, NULL, 0, NULL),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_checkpoint_load(path, NULL, m.el, NULL, NULL, 0, NULL),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_checkpoint_parse(NULL, 10, NULL, m.el, p, NULL, 0, NULL),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_checkpoint_parse("x", 1, m.net, m.el, p, NULL, 0, NULL),
               BPTT_EINVAL, &s);
    TU_REFUSED(bptt_checkpoint_parse("x", 1, NULL, NULL, p, NULL, 0, NULL),
               BPTT_ENULL, &s);
    /* saving over an existing file replaces it whole */
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, m.p, m.state,
                                          m.bytes), BPTT_OK);
    ck_assert_int_eq(bptt_checkpoint_load(path, NULL, m.el, p, NULL, 0, NULL),
                     BPTT_OK);
    tu_snap_free(&s);
    free(p);
    model_free(&m);
}
END_TEST

/* kill -9 at random moments while a child saves over and over, the
 * parameters all 1 or all 2 by turns: the file under the real name always
 * loads, and is one of the two. */
START_TEST(kill_during_save)
{
    model m = model_new(64, 192, 64, 5); /* ~60k parameters, ~0.5 MB */
    const size_t n = m.lay.count;
    double *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two);
    double *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        one[i] = 1;
        two[i] = 2;
    }
    ck_assert_int_eq(bptt_checkpoint_save(path, NULL, m.el, one, NULL, 0),
                     BPTT_OK);
    int killed_mid = 0;
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (unsigned k = 0;; k++)
                bptt_checkpoint_save(path, NULL, m.el, k & 1 ? two : one, NULL,
                                     0);
        }
        struct timespec ts = {0, (long)(1 + 3 * round) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        ck_assert_int_eq(bptt_checkpoint_load(path, NULL, m.el, p, NULL, 0,
                                              NULL), BPTT_OK);
        const double v = p[0];
        ck_assert(v == 1 || v == 2);
        for (size_t i = 0; i < n; i++)
            ck_assert(p[i] == v);
        /* a temporary file left behind means the kill hit a save */
        DIR *d = opendir(dir);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".tmp.")) {
                killed_mid = 1;
                char q[384];
                snprintf(q, sizeof q, "%s/%s", dir, e->d_name);
                unlink(q);
            }
        closedir(d);
    }
    ck_assert_msg(killed_mid, "no kill landed inside a save");
    free(one);
    free(two);
    free(p);
    model_free(&m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("io");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crc32c_check_value);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, gated_layout);
    tcase_add_test(tc, truncated_and_corrupt);
    tcase_add_test(tc, version_order_and_mismatch);
    tcase_add_test(tc, io_traps);
    tcase_add_test(tc, kill_during_save);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
