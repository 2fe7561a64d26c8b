/*
 * char-kit — a character-level language model on the training kit
 * (bptt/train.h, docs/training.md), public API only: Network B (tanh core,
 * softmax head), one parameter buffer, token ids as one-hot rows, Adam,
 * global-norm clipping, a validation split, checkpoints and resume, and
 * sampling with a temperature.
 *
 *   char-kit [-n UPDATES] [-o CKPT] [-r CKPT] [TEXT]
 *
 * TEXT defaults to /usr/share/common-licenses/GPL-3 (every Debian machine);
 * the last tenth is the validation text.  -o saves a checkpoint every 100
 * updates and at the end (default char-kit.ckpt); -r resumes from one: the
 * parameters and Adam's state and step count come back, the streams start
 * again at the text's beginning.
 */
#define _POSIX_C_SOURCE 200809L

#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { DH = 128, T = 32, B = 8, EVERY = 100 };

#define TRY(call)                                                              \
    do {                                                                       \
        bptt_status st_ = (call);                                              \
        if (st_ != BPTT_OK) {                                                  \
            fprintf(stderr, "char-kit: %s (%s)\n", bptt_error_detail(),        \
                    bptt_strerror(st_));                                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The model and its buffers, all from one layout. */
typedef struct model {
    bptt_elman *el;
    bptt_param_layout lay;
    const bptt_param_view *v; /* W, bh, Wo, bo */
    double *p, *g;
    bptt_elman_workspace *ws;
    double *x, *h, *y, *h0;
    size_t V;
} model;

/* One chunk of T steps of B streams starting at pos[b]: the loss summed
 * over the T·B predictions, and the gradient (of the summed loss) in g if
 * train.  The final state is carried into h0 for the next chunk. */
static double chunk(model *m, const int32_t *ids, const size_t *pos, int train)
{
    int32_t tok[T * B];
    int labels[T * B];
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < B; b++) {
            tok[t * B + b] = ids[pos[b] + t];
            labels[t * B + b] = ids[pos[b] + t + 1];
        }
    TRY(bptt_tokens_onehot(T * B, m->V, tok, m->x, m->V));
    const bptt_param_view *v = m->v;
    double *p = m->p, *g = m->g, E;
    TRY(bptt_elman_forward(m->el, T, B, p + v[0].offset, v[0].ld,
                           p + v[1].offset, p + v[2].offset, v[2].ld,
                           p + v[3].offset, m->x, m->V, m->h0, DH, labels,
                           NULL, 0, &E, m->h, DH, NULL, 0, BPTT_ALGO_AUTO,
                           m->ws));
    if (train)
        TRY(bptt_elman_backward(m->el, T, B, p + v[0].offset, v[0].ld,
                                p + v[2].offset, v[2].ld, labels, NULL, 0, 0,
                                g + v[0].offset, v[0].ld, g + v[1].offset,
                                g + v[2].offset, v[2].ld, g + v[3].offset,
                                NULL, 0, NULL, 0, BPTT_ALGO_AUTO, m->ws));
    memcpy(m->h0, m->h + (T - 1) * B * DH, B * DH * sizeof *m->h0);
    return E;
}

/* Mean loss per character over the text ids[0..n): B streams, each over a
 * contiguous B-th of it. */
static double validate(model *m, const int32_t *ids, size_t n)
{
    const size_t span = (n - 1) / B, chunks = span / T;
    size_t pos[B];
    for (size_t b = 0; b < B; b++)
        pos[b] = b * span;
    memset(m->h0, 0, B * DH * sizeof *m->h0);
    double sum = 0;
    for (size_t c = 0; c < chunks; c++) {
        sum += chunk(m, ids, pos, 0);
        for (size_t b = 0; b < B; b++)
            pos[b] += T;
    }
    return sum / (double)(chunks * T * B);
}

/* xorshift64*, uniform in [0, 1). */
static double uniform(unsigned long long *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * 0x1p-53;
}

/* n characters from the model, one step at a time from a zero state:
 * p_i ∝ y_i^(1/temp). */
static void sample(model *m, const unsigned char *chars, size_t n, double temp)
{
    bptt_elman_workspace *ws;
    TRY(bptt_elman_workspace_alloc(m->el, 1, 1, &ws));
    double *h = calloc(DH, sizeof *h), *y = malloc(m->V * sizeof *y);
    double *x = malloc(m->V * sizeof *x);
    unsigned long long s = 88172645463325252ULL;
    int32_t tok = 0;
    const bptt_param_view *v = m->v;
    for (size_t k = 0; k < n; k++) {
        TRY(bptt_tokens_onehot(1, m->V, &tok, x, m->V));
        TRY(bptt_elman_forward(m->el, 1, 1, m->p + v[0].offset, v[0].ld,
                               m->p + v[1].offset, m->p + v[2].offset,
                               v[2].ld, m->p + v[3].offset, x, m->V, h, DH,
                               NULL, NULL, 0, NULL, h, DH, y, m->V,
                               BPTT_ALGO_AUTO, ws));
        double z = 0;
        for (size_t i = 0; i < m->V; i++)
            z += y[i] = pow(y[i], 1 / temp);
        double u = uniform(&s) * z;
        size_t i = 0;
        while (i + 1 < m->V && (u -= y[i]) > 0)
            i++;
        tok = (int32_t)i;
        putchar(chars[i]);
    }
    putchar('\n');
    free(h);
    free(y);
    free(x);
    bptt_elman_workspace_free(ws);
}

int main(int argc, char **argv)
{
    long updates = 1000;
    const char *out = "char-kit.ckpt", *resume = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:o:r:")) != -1) {
        if (opt == 'n')
            updates = atol(optarg);
        else if (opt == 'o')
            out = optarg;
        else if (opt == 'r')
            resume = optarg;
        else
            return fprintf(stderr, "usage: char-kit [-n UPDATES] [-o CKPT] "
                                   "[-r CKPT] [TEXT]\n"), 2;
    }
    const char *path = optind < argc ? argv[optind]
                                     : "/usr/share/common-licenses/GPL-3";
    FILE *f = fopen(path, "rb");
    if (!f)
        return perror(path), 1;
    static unsigned char text[1 << 24];
    const size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    /* the vocabulary: the bytes the text uses */
    int map[256];
    unsigned char chars[256];
    size_t V = 0;
    memset(map, -1, sizeof map);
    for (size_t i = 0; i < n; i++)
        if (map[text[i]] < 0)
            chars[V] = text[i], map[text[i]] = (int)V++;
    int32_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = map[text[i]];
    const size_t ntrain = n - n / 10, nval = n / 10;

    model m = {.V = V};
    bptt_net *net;
    TRY(bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_elman_create(net, V, BPTT_HEAD_SOFTMAX, &m.el));
    TRY(bptt_elman_param_layout(m.el, &m.lay));
    m.v = m.lay.view;
    m.p = calloc(m.lay.count, sizeof *m.p);
    m.g = calloc(m.lay.count, sizeof *m.g);
    m.x = malloc(T * B * V * sizeof *m.x);
    m.h = malloc(T * B * DH * sizeof *m.h);
    m.h0 = calloc(B * DH, sizeof *m.h0);
    TRY(bptt_elman_workspace_alloc(m.el, T, B, &m.ws));
    const bptt_param_view *v = m.v;
    TRY(bptt_init_glorot(DH, V, BPTT_DIST_UNIFORM, 1, 1, m.p, v[0].ld));
    TRY(bptt_init_orthogonal(DH, DH, 1, 2, m.p + V, v[0].ld));
    TRY(bptt_init_glorot(V, DH, BPTT_DIST_UNIFORM, 1, 3, m.p + v[2].offset,
                         v[2].ld));
    bptt_optim_config cfg;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &cfg);
    bptt_optim *adam;
    size_t sbytes;
    TRY(bptt_optim_create(&cfg, m.lay.count, &adam));
    TRY(bptt_optim_state_size(adam, &sbytes));
    void *state = malloc(sbytes);
    TRY(bptt_optim_state_init(adam, state, sbytes));
    if (resume) {
        TRY(bptt_checkpoint_load(resume, NULL, m.el, m.p, state, sbytes,
                                 NULL));
        printf("resumed %s at update %llu\n", resume,
               bptt_optim_state_steps(state));
    }

    /* B streams over the training text, each from its own B-th */
    const size_t span = (ntrain - 1) / B;
    size_t pos[B];
    for (size_t b = 0; b < B; b++)
        pos[b] = b * span;
    const double t0 = now();
    const long first = (long)bptt_optim_state_steps(state);
    double run = 0;
    for (long u = first + 1; u <= updates; u++) {
        if (pos[0] + T + 1 > span) { /* an epoch: back to the start */
            for (size_t b = 0; b < B; b++)
                pos[b] = b * span;
            memset(m.h0, 0, B * DH * sizeof *m.h0);
        }
        const double E = chunk(&m, ids, pos, 1);
        for (size_t i = 0; i < m.lay.count; i++) /* the mean's gradient */
            m.g[i] /= T * B;
        bptt_block all = {1, m.lay.count, m.g, m.lay.count};
        TRY(bptt_clip_global_norm(1, &all, 5, NULL, NULL));
        TRY(bptt_optim_step(adam, 2e-3, m.p, m.g, state));
        for (size_t b = 0; b < B; b++)
            pos[b] += T;
        run = u == first + 1 ? E / (T * B) : 0.98 * run + 0.02 * E / (T * B);
        if (u % EVERY == 0 || u == updates) {
            double h0[B * DH];
            memcpy(h0, m.h0, sizeof h0);
            const double val = validate(&m, ids + ntrain, nval);
            memcpy(m.h0, h0, sizeof h0);
            const double el = now() - t0, rate = (u - first) * T * B / el;
            printf("update %5ld  loss %.4f  val %.4f  %7.0f chars/s  "
                   "ETA %.0f s\n", u, run, val, rate,
                   (double)(updates - u) * T * B / rate);
            fflush(stdout);
            TRY(bptt_checkpoint_save(out, NULL, m.el, m.p, state, sbytes));
        }
    }
    sample(&m, chars, 300, 0.8);

    bptt_optim_free(adam);
    free(state);
    bptt_elman_workspace_free(m.ws);
    free(m.p);
    free(m.g);
    free(m.x);
    free(m.h);
    free(m.h0);
    free(ids);
    bptt_elman_free(m.el);
    bptt_net_free(net);
    return 0;
}
