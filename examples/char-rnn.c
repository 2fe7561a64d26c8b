/*
 * char-rnn — a character-level language model on bptt's public API
 * (docs/elman.md, docs/training.md): Network B (a tanh, LSTM or GRU core
 * under a softmax head) learns to predict the next byte of a text.
 *
 *   char-rnn [--cell vanilla|lstm|gru] [-n UPDATES] [-e EVERY] [-o CKPT]
 *            [-r CKPT] [--lr RATE] [--temp TEMP] [--seed SEED]
 *            [--dump-init FILE] [--print-loss] [TEXT]
 *
 * TEXT defaults to /usr/share/common-licenses/GPL-3; the classes are its
 * distinct bytes in byte order, its last tenth is the validation text.  B
 * streams walk the training text, each through its own B-th, T bytes per
 * update: truncated BPTT(T; T), the hidden state carried from chunk to
 * chunk, the gradient stopped at the chunk's start, everything reset at each
 * epoch.  Each update clips the gradient of the mean cross-entropy over the
 * T·B predictions to global norm CLIP and takes one Adam step on the flat
 * parameter buffer.  Every EVERY updates and at the end: a progress line
 * (training loss since the last line, validation loss, chars/s, ETA) and a
 * checkpoint in CKPT (default char-rnn.ckpt).  -r resumes from one: the
 * parameters, Adam's state and step count, the streams where they were, the
 * hidden state from 0.  At the end: SAMPLE bytes at temperature TEMP.
 * --dump-init writes the initial parameter buffer (raw doubles, the layout
 * of bptt_elman_param_layout), --print-loss each update's loss in full:
 * bench/char_rnn_torch.py, the PyTorch twin, reads and compares them.
 */
#define _POSIX_C_SOURCE 200809L

#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DH = 128, T = 32, B = 8, SAMPLE = 400 };
static const double CLIP = 5.0;

#define TRY(call)                                                              \
    do {                                                                       \
        bptt_status st_ = (call);                                              \
        if (st_ != BPTT_OK) {                                                  \
            fprintf(stderr, "char-rnn: %s (%s)\n", bptt_error_detail(),        \
                    bptt_strerror(st_));                                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

typedef struct model {
    bptt_elman *el;
    bptt_param_layout lay;
    double *p, *g, *P[4], *D[4]; /* buffers; views W, bh, Wo, bo of each */
    size_t ld[4], V;
    bptt_tbptt *tb;           /* the training streams (tanh core) */
    bptt_elman_workspace *ws; /* validation, sampling, gated training */
    double *x, *h, *y, *h0;   /* T·B rows; h0: B rows */
    int lab[T * B];
} model;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *alloc(size_t n)
{
    void *p = calloc(n, sizeof(double));
    if (!p)
        fprintf(stderr, "char-rnn: out of memory\n"), exit(1);
    return p;
}

/* THE place where x is built: the one-hot rows of the n token ids
 * ids[pos[b] + t] (row t·nb + b), and their labels, the ids that follow. */
static void encode(model *m, const int32_t *ids, const size_t *pos, size_t n,
                   size_t nb)
{
    int32_t tok[T * B];
    for (size_t t = 0; t < n; t++)
        for (size_t b = 0; b < nb; b++) {
            tok[t * nb + b] = ids[pos[b] + t];
            m->lab[t * nb + b] = ids[pos[b] + t + 1];
        }
    TRY(bptt_tokens_onehot(n * nb, m->V, tok, m->x, m->V));
}

/* Forward over n steps of nb sequences from h0; labels: the summed loss
 * too.  carry: the last state becomes h0. */
static double forward(model *m, size_t n, size_t nb, const int *labels,
                      int carry)
{
    double E = 0;
    TRY(bptt_elman_forward(m->el, n, nb, m->P[0], m->ld[0], m->P[1], m->P[2],
                           m->ld[2], m->P[3], m->x, m->V, m->h0, DH, labels,
                           NULL, 0, labels ? &E : NULL, m->h, DH, m->y, m->V,
                           BPTT_ALGO_AUTO, m->ws));
    if (carry)
        memcpy(m->h0, m->h + (n - 1) * nb * DH, nb * DH * sizeof *m->h0);
    return E;
}

/* The gradient of one chunk's summed loss into g; returns the loss.  The
 * tanh core runs the truncated-BPTT stream call (docs/schedule.md), which
 * keeps the state itself; a gated core (the stream runs tanh cores only)
 * the forward and backward calls, its h carried in h0 (an LSTM's c is 0 at
 * each chunk's start). */
static double gradient(model *m)
{
    double E;
    if (m->tb) {
        TRY(bptt_tbptt_elman_step(m->tb, m->el, T, m->P[0], m->ld[0], m->P[1],
                                  m->P[2], m->ld[2], m->P[3], m->x, m->V,
                                  m->lab, NULL, 0, 0.0, m->D[0], m->ld[0],
                                  m->D[1], m->D[2], m->ld[2], m->D[3], NULL, 0,
                                  &E));
        return E;
    }
    E = forward(m, T, B, m->lab, 0);
    TRY(bptt_elman_backward(m->el, T, B, m->P[0], m->ld[0], m->P[2], m->ld[2],
                            m->lab, NULL, 0, 0.0, m->D[0], m->ld[0], m->D[1],
                            m->D[2], m->ld[2], m->D[3], NULL, 0, NULL, 0,
                            BPTT_ALGO_AUTO, m->ws));
    memcpy(m->h0, m->h + (T - 1) * B * DH, B * DH * sizeof *m->h0);
    return E;
}

/* Start every stream again from a zero state. */
static void reset(model *m)
{
    if (m->tb)
        TRY(bptt_tbptt_reset(m->tb, NULL, 0));
    memset(m->h0, 0, B * DH * sizeof *m->h0);
}

/* Mean loss per byte over the text ids[0..n): B streams, each over its own
 * contiguous B-th, from a zero state. */
static double validate(model *m, const int32_t *ids, size_t n)
{
    const size_t span = (n - 1) / B, chunks = span / T;
    size_t pos[B];
    double keep[B * DH], sum = 0; /* a gated core's training state */
    memcpy(keep, m->h0, sizeof keep);
    memset(m->h0, 0, sizeof keep);
    for (size_t c = 0; c < chunks; c++) {
        for (size_t b = 0; b < B; b++)
            pos[b] = b * span + c * T;
        encode(m, ids, pos, T, B);
        sum += forward(m, T, B, m->lab, 1);
    }
    memcpy(m->h0, keep, sizeof keep);
    return sum / (double)(chunks * T * B);
}

/* xorshift64*, uniform in [0, 1): the sampler's own generator. */
static double uniform(unsigned long long *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * 0x1p-53;
}

/* n bytes drawn with p_i ∝ y_i^(1/temp), each fed back as the next input.
 * As in training, windows of T steps: the window so far is run again from
 * the state at its start (h0), so that an LSTM's c lives through it. */
static void sample(model *m, int32_t first, const unsigned char *chars,
                   size_t n, double temp, unsigned long long seed)
{
    int32_t ids[T + 1] = {first};
    size_t zero = 0;
    double p[256];
    memset(m->h0, 0, DH * sizeof *m->h0);
    for (size_t k = 0, i = 0; k < n; k++) {
        encode(m, ids, &zero, i + 1, 1); /* its labels are not used */
        forward(m, i + 1, 1, NULL, i + 1 == T);
        double z = 0, u;
        for (size_t c = 0; c < m->V; c++)
            z += p[c] = pow(m->y[i * m->V + c], 1 / temp);
        size_t c = 0;
        for (u = uniform(&seed) * z; c + 1 < m->V && (u -= p[c]) > 0; c++)
            ;
        putchar(chars[c]);
        i = i + 1 == T ? 0 : i + 1; /* a full window's state is now h0 */
        ids[i] = (int32_t)c;
    }
    putchar('\n');
}

static int usage(void)
{
    fprintf(stderr, "usage: char-rnn [--cell vanilla|lstm|gru] [-n UPDATES] "
                    "[-e EVERY] [-o CKPT] [-r CKPT] [--lr RATE] [--temp TEMP] "
                    "[--seed SEED] [--dump-init FILE] [--print-loss] [TEXT]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = "/usr/share/common-licenses/GPL-3", *resume = NULL;
    const char *out = "char-rnn.ckpt", *dump = NULL;
    long updates = 2000, every = 100;
    double lr = 2e-3, temp = 0.8;
    unsigned long long seed = 88172645463325252ULL;
    int print = 0;
    bptt_cell cell = BPTT_CELL_VANILLA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--print-loss") || a[0] != '-') {
            print |= a[0] == '-', path = a[0] == '-' ? path : a;
            continue;
        }
        i++;
        if (!strcmp(a, "--cell"))
            while (cell < BPTT_NCELL && strcmp(v, bptt_cell_name(cell)))
                cell = (bptt_cell)(cell + 1);
        else if (!strcmp(a, "-n") || !strcmp(a, "-e"))
            *(a[1] == 'n' ? &updates : &every) = atol(v);
        else if (!strcmp(a, "-o") || !strcmp(a, "-r"))
            *(a[1] == 'o' ? &out : &resume) = v;
        else if (!strcmp(a, "--lr") || !strcmp(a, "--temp"))
            *(a[2] == 'l' ? &lr : &temp) = atof(v);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--dump-init"))
            dump = v;
        else
            return usage();
    }
    if (cell >= BPTT_NCELL || every < 1 || !(temp > 0))
        return usage();
    FILE *f = fopen(path, "rb");
    if (!f)
        return perror(path), 1;
    static unsigned char text[1 << 24]; /* the text's first 16 MiB */
    const size_t n = fread(text, 1, sizeof text, f), nval = n / 10;
    fclose(f);
    if (nval < B * T + 1)
        return fprintf(stderr, "%s: need %d bytes\n", path, 10 * (B * T + 1)), 1;
    int map[256] = {0}; /* the classes: the bytes the text uses, in order */
    unsigned char chars[256];
    size_t V = 0;
    for (size_t i = 0; i < n; i++)
        map[text[i]] = 1;
    for (int c = 0; c < 256; c++)
        if (map[c])
            chars[V] = (unsigned char)c, map[c] = (int)V++;
    int32_t *ids = alloc(n);
    for (size_t i = 0; i < n; i++)
        ids[i] = map[text[i]];

    model m = {.V = V};
    bptt_net *net;
    TRY(bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_elman_create_cell(cell, net, V, BPTT_HEAD_SOFTMAX, &m.el));
    TRY(bptt_elman_param_layout(m.el, &m.lay));
    const size_t count = m.lay.count, G = m.lay.view[0].rows / DH;
    m.p = alloc(count), m.g = alloc(count);
    for (int i = 0; i < 4; i++) {
        m.P[i] = m.p + m.lay.view[i].offset, m.D[i] = m.g + m.lay.view[i].offset;
        m.ld[i] = m.lay.view[i].ld;
    }
    m.x = alloc(T * B * V), m.y = alloc(T * B * V);
    m.h = alloc(T * B * DH), m.h0 = alloc(B * DH);
    TRY(bptt_elman_workspace_alloc(m.el, T, B, &m.ws));
    if (cell == BPTT_CELL_VANILLA)
        TRY(bptt_tbptt_elman_alloc(m.el, T, T, B, &m.tb));
    /* Glorot for the input and output weights, each gate's recurrent block
     * orthogonal (docs/gradient-flow.md), an LSTM's forget gate open. */
    TRY(bptt_init_glorot(G * DH, V, BPTT_DIST_UNIFORM, 1, 1, m.P[0], m.ld[0]));
    for (size_t g = 0; g < G; g++)
        TRY(bptt_init_orthogonal(DH, DH, 1, 2 + g, m.P[0] + g * DH * m.ld[0] + V,
                                 m.ld[0]));
    TRY(bptt_init_glorot(V, DH, BPTT_DIST_UNIFORM, 1, 9, m.P[2], m.ld[2]));
    for (size_t i = DH; cell == BPTT_CELL_LSTM && i < 2 * DH; i++)
        m.P[1][i] = 1;
    bptt_optim_config cfg;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &cfg);
    bptt_optim *adam;
    size_t sbytes;
    TRY(bptt_optim_create(&cfg, count, &adam));
    TRY(bptt_optim_state_size(adam, &sbytes));
    void *state = alloc(sbytes);
    TRY(bptt_optim_state_init(adam, state, sbytes));
    if (resume)
        TRY(bptt_checkpoint_load(resume, NULL, m.el, m.p, state, sbytes, NULL));
    if (dump && (!(f = fopen(dump, "wb")) ||
                 fwrite(m.p, sizeof *m.p, count, f) != count || fclose(f)))
        return perror(dump), 1;

    const size_t ntrain = n - nval, span = (ntrain - 1) / B, epoch = span / T;
    const long first = (long)bptt_optim_state_steps(state);
    printf("%s: %zu bytes, %zu for validation, %zu classes; %s core of %d, "
           "T = %d, B = %d, Adam at %g, updates %ld..%ld\n", path, n, nval, V,
           bptt_cell_name(cell), DH, T, B, lr, first + 1, updates);
    double t0 = now(), run = 0, nrun = 0;
    for (long u = first + 1; u <= updates; u++) {
        const size_t c = (size_t)(u - 1) % epoch; /* the chunk in the epoch */
        size_t pos[B];
        for (size_t b = 0; b < B; b++)
            pos[b] = b * span + c * T;
        if (c == 0)
            reset(&m);
        encode(&m, ids, pos, T, B);
        const double E = gradient(&m) / (T * B);
        for (size_t i = 0; i < count; i++) /* the mean's gradient */
            m.g[i] /= T * B;
        bptt_block all = {1, count, m.g, count};
        TRY(bptt_clip_global_norm(1, &all, CLIP, NULL, NULL));
        TRY(bptt_optim_step(adam, lr, m.p, m.g, state));
        if (print)
            printf("update %ld loss %.17g\n", u, E);
        run += E, nrun++;
        if (u % every == 0 || u == updates) {
            const double val = validate(&m, ids + ntrain, nval);
            const double rate = (double)((u - first) * T * B) / (now() - t0);
            printf("update %5ld  loss %.4f  val %.4f  %6.0f chars/s  ETA %.0f s\n",
                   u, run / nrun, val, rate,
                   (double)((updates - u) * T * B) / rate);
            fflush(stdout);
            run = nrun = 0;
            TRY(bptt_checkpoint_save(out, NULL, m.el, m.p, state, sbytes));
        }
    }
    printf("--- sample (temperature %g) ---\n", temp);
    sample(&m, ids[0], chars, SAMPLE, temp, seed);

    bptt_optim_free(adam);
    bptt_tbptt_free(m.tb);
    bptt_elman_workspace_free(m.ws);
    bptt_elman_free(m.el);
    bptt_net_free(net);
    free(state), free(ids), free(m.p), free(m.g), free(m.x), free(m.y);
    free(m.h), free(m.h0);
    return 0;
}
