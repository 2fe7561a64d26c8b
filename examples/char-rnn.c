/*
 * char-rnn — a character-level language model on the public API: Network B
 * (tanh, LSTM or GRU core, softmax head; docs/elman.md) predicts the next
 * byte of a text, trained with the kit of docs/training.md.
 *
 *   char-rnn [--cell vanilla|lstm|gru] [-n UPDATES] [-o CKPT] [-r CKPT]
 *            [--lr RATE] [--temp TEMP] [--dump-init FILE] [--print-loss] [TEXT]
 *
 * TEXT (default /usr/share/common-licenses/GPL-3): the classes are its
 * bytes in byte order, its last tenth is the validation text, B streams walk
 * the rest.  Each update: T bytes of each stream, the state carried from
 * chunk to chunk (truncated BPTT(T; T), docs/schedule.md), the mean loss's
 * gradient clipped to norm CLIP, one Adam step.  Every EVERY updates: a
 * progress line and a checkpoint; -r resumes.  --dump-init and --print-loss
 * serve the PyTorch twin, bench/char_rnn_torch.py (docs/training.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DH = 128, T = 32, B = 8, CLIP = 5, EVERY = 100, SAMPLE = 400 };

static void try(bptt_status st)
{
    if (st != BPTT_OK)
        fprintf(stderr, "char-rnn: %s (%s)\n", bptt_error_detail(),
                bptt_strerror(st)), exit(1);
}

typedef struct model {
    bptt_elman *el;
    double *P[4], *D[4]; /* W, bh, Wo, bo in the parameter, gradient buffer */
    size_t ld[4], V;
    int lstm;
    bptt_tbptt *tb;           /* the training streams (tanh core) */
    bptt_elman_workspace *ws; /* validation, sampling, gated training */
    double h[T * B * DH], y[T * B * 256], cT[B * DH]; /* an LSTM's c(T) */
    double hc[B * DH], cc[B * DH]; /* a gated core's carried h (and c) */
    int32_t tok[T * B];       /* the input ids */
    int lab[T * B];
} model;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *alloc(size_t bytes) /* zeroed */
{
    void *p = calloc(1, bytes);
    if (!p)
        fprintf(stderr, "char-rnn: out of memory\n"), exit(1);
    return p;
}

/* The input ids: step t of sequence b (t < n, b < nb) is id k = b·span +
 * at + t of ids, its label the id k + 1. */
static void encode(model *m, const int32_t *ids, size_t span, size_t at,
                   size_t n, size_t nb)
{
    for (size_t t = 0; t < n; t++)
        for (size_t b = 0; b < nb; b++) {
            m->tok[t * nb + b] = ids[b * span + at + t];
            m->lab[t * nb + b] = ids[b * span + at + t + 1];
        }
}

/* Forward over n steps of nb sequences from the state h0 (and an LSTM's
 * c0), with the summed loss if labels; carry: the last state becomes it. */
static double forward(model *m, double *h0, double *c0, size_t n, size_t nb,
                      const int *lab, int carry)
{
    double E = 0;
    if (m->lstm) /* c(0) in, c(T) out (bptt/gated.h) */
        try(bptt_elman_workspace_set_cell_state(m->ws, c0, DH, m->cT, DH,
                                                NULL, 0));
    try(bptt_elman_forward_tokens(m->el, n, nb, m->P[0], m->ld[0], m->P[1],
                                  m->P[2], m->ld[2], m->P[3], m->tok, h0, DH,
                                  lab, NULL, 0, lab ? &E : NULL, m->h, DH,
                                  m->y, m->V, BPTT_ALGO_AUTO, m->ws));
    if (carry)
        memcpy(h0, m->h + (n - 1) * nb * DH, nb * DH * sizeof *h0);
    if (carry && m->lstm)
        memcpy(c0, m->cT, nb * DH * sizeof *c0);
    return E;
}

/* The gradient of the chunk's summed loss; returns the loss.  A tanh core
 * runs the stream call, which keeps the state; a gated core (the stream
 * has tanh cores only) forward and backward, its h (and c) carried. */
static double gradient(model *m)
{
    double E;
    if (m->tb) {
        try(bptt_tbptt_elman_step_tokens(
            m->tb, m->el, T, m->P[0], m->ld[0], m->P[1], m->P[2], m->ld[2],
            m->P[3], m->tok, m->lab, NULL, 0, 0.0, m->D[0], m->ld[0], m->D[1],
            m->D[2], m->ld[2], m->D[3], NULL, 0, &E));
        return E;
    }
    E = forward(m, m->hc, m->cc, T, B, m->lab, 1);
    try(bptt_elman_backward_tokens(m->el, T, B, m->P[0], m->ld[0], m->P[2],
                                   m->ld[2], m->lab, NULL, 0, 0.0, m->D[0],
                                   m->ld[0], m->D[1], m->D[2], m->ld[2],
                                   m->D[3], NULL, 0, BPTT_ALGO_AUTO, m->ws));
    return E;
}

/* Mean loss per byte over ids[0..n): B streams, each over its own B-th,
 * from a zero state. */
static double validate(model *m, const int32_t *ids, size_t n)
{
    const size_t span = (n - 1) / B, chunks = span / T;
    double h0[B * DH] = {0}, c0[B * DH] = {0}, sum = 0;
    for (size_t c = 0; c < chunks; c++) {
        encode(m, ids, span, c * T, T, B);
        sum += forward(m, h0, c0, T, B, m->lab, 1);
    }
    return sum / (double)(chunks * T * B);
}

/* SAMPLE bytes drawn with p_i ∝ y_i^(1/temp) by its own xorshift64*, each
 * fed back.  As in training, windows of T steps: the window so far runs
 * again from the state at its start (h0), so an LSTM's c lives through it. */
static void sample(model *m, int32_t first, const unsigned char *chars,
                   double temp)
{
    int32_t ids[T + 1] = {first};
    double p[256], h0[DH] = {0}, c0[DH] = {0};
    unsigned long long s = 88172645463325252ULL; /* a fixed seed */
    for (size_t k = 0, i = 0; k < SAMPLE; k++) {
        encode(m, ids, 0, 0, i + 1, 1); /* its labels are not used */
        forward(m, h0, c0, i + 1, 1, NULL, i + 1 == T);
        double z = 0;
        for (size_t c = 0; c < m->V; c++)
            z += p[c] = pow(m->y[i * m->V + c], 1 / temp);
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        double u = (double)((s * 2685821657736338717ULL) >> 11) * 0x1p-53 * z;
        size_t c = 0;
        while (c + 1 < m->V && (u -= p[c]) > 0)
            c++;
        putchar(chars[c]);
        i = i + 1 == T ? 0 : i + 1; /* a full window's last state is h0 */
        ids[i] = (int32_t)c;
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    enum { NOPT = 7 }; /* -n -o -r --cell --lr --temp --dump-init */
    static const char *const name[NOPT] = {"-n",   "-o",     "-r",
                                           "--cell", "--lr", "--temp",
                                           "--dump-init"};
    const char *opt[NOPT] = {"2000", "char-rnn.ckpt", NULL, "vanilla",
                             "2e-3", "0.8",           NULL};
    const char *path = "/usr/share/common-licenses/GPL-3";
    int print = 0, bad = 0;
    for (int i = 1, k = 0; i < argc; i++, k = 0) {
        while (k < NOPT && strcmp(argv[i], name[k]))
            k++;
        if (!strcmp(argv[i], "--print-loss"))
            print = 1;
        else if (argv[i][0] != '-')
            path = argv[i];
        else if (k == NOPT || i + 1 == argc)
            bad = 1;
        else
            opt[k] = argv[++i];
    }
    const char *out = opt[1], *resume = opt[2], *cellname = opt[3];
    const long updates = atol(opt[0]);
    const double lr = atof(opt[4]), temp = atof(opt[5]);
    bptt_cell cell = BPTT_CELL_VANILLA;
    while (cell < BPTT_NCELL && strcmp(cellname, bptt_cell_name(cell)))
        cell = (bptt_cell)(cell + 1);
    if (bad || cell == BPTT_NCELL || !(temp > 0))
        return fprintf(stderr, "char-rnn: bad arguments (see char-rnn.c)\n"), 2;
    FILE *f = fopen(path, "rb");
    if (!f)
        return perror(path), 1;
    static unsigned char text[1 << 24]; /* the text's first 16 MiB */
    const size_t n = fread(text, 1, sizeof text, f), nval = n / 10;
    fclose(f);
    if (nval < B * T + 1)
        return fprintf(stderr, "%s: too short\n", path), 1;
    int map[256] = {0}; /* byte -> class */
    unsigned char chars[256];
    size_t V = 0;
    for (size_t i = 0; i < n; i++)
        map[text[i]] = 1;
    for (int c = 0; c < 256; c++)
        if (map[c])
            chars[V] = (unsigned char)c, map[c] = (int)V++;
    int32_t *ids = alloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = map[text[i]];

    static model m; /* zeroed */
    m.V = V, m.lstm = cell == BPTT_CELL_LSTM;
    bptt_net *net;
    bptt_param_layout lay;
    try(bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL, &net));
    try(bptt_elman_create_cell(cell, net, V, BPTT_HEAD_SOFTMAX, &m.el));
    try(bptt_elman_param_layout(m.el, &lay));
    const size_t count = lay.count, G = lay.view[0].rows / DH;
    double *p = alloc(count * sizeof *p), *g = alloc(count * sizeof *g);
    for (int i = 0; i < 4; i++) {
        m.P[i] = p + lay.view[i].offset, m.D[i] = g + lay.view[i].offset;
        m.ld[i] = lay.view[i].ld;
    }
    try(bptt_elman_workspace_alloc(m.el, T, B, &m.ws));
    if (cell == BPTT_CELL_VANILLA)
        try(bptt_tbptt_elman_alloc(m.el, T, T, B, &m.tb));
    /* Glorot on the input and output weights, each gate's recurrent block
     * orthogonal (docs/gradient-flow.md), an LSTM's forget gate open. */
    try(bptt_init_glorot(G * DH, V, BPTT_DIST_UNIFORM, 1, 1, m.P[0], m.ld[0]));
    for (size_t k = 0; k < G; k++)
        try(bptt_init_orthogonal(DH, DH, 1, 2 + k,
                                 m.P[0] + k * DH * m.ld[0] + V, m.ld[0]));
    try(bptt_init_glorot(V, DH, BPTT_DIST_UNIFORM, 1, 9, m.P[2], m.ld[2]));
    for (size_t i = DH; cell == BPTT_CELL_LSTM && i < 2 * DH; i++)
        m.P[1][i] = 1;
    bptt_optim_config cfg;
    bptt_optim_defaults(BPTT_OPTIM_ADAM, &cfg);
    bptt_optim *adam;
    size_t sbytes;
    try(bptt_optim_create(&cfg, count, &adam));
    try(bptt_optim_state_size(adam, &sbytes));
    void *state = alloc(sbytes);
    try(bptt_optim_state_init(adam, state, sbytes));
    if (resume)
        try(bptt_checkpoint_load(resume, NULL, m.el, p, state, sbytes, NULL));
    if (opt[6] && (!(f = fopen(opt[6], "wb")) ||
                   fwrite(p, sizeof *p, count, f) != count || fclose(f)))
        return perror(opt[6]), 1;

    const size_t ntrain = n - nval, span = (ntrain - 1) / B, epoch = span / T;
    const long first = (long)bptt_optim_state_steps(state);
    printf("%s: %zu bytes, %zu for validation, %zu classes; %s core of %d, "
           "T = %d, B = %d, Adam at %g, updates %ld..%ld\n", path, n, nval, V,
           cellname, DH, T, B, lr, first + 1, updates);
    double t0 = now(), run = 0, nrun = 0;
    for (long u = first + 1; u <= updates; u++) {
        const size_t c = (size_t)(u - 1) % epoch; /* the chunk in the epoch */
        if (c == 0) /* an epoch: every stream from a zero state */
            m.tb ? try(bptt_tbptt_reset(m.tb, NULL, 0))
                 : (void)(memset(m.hc, 0, sizeof m.hc),
                          memset(m.cc, 0, sizeof m.cc));
        encode(&m, ids, span, c * T, T, B);
        const double E = gradient(&m) / (T * B);
        for (size_t i = 0; i < count; i++) /* the mean's gradient */
            g[i] /= T * B;
        try(bptt_clip_global_norm(1, &(bptt_block){1, count, g, count}, CLIP,
                                  NULL, NULL));
        try(bptt_optim_step(adam, lr, p, g, state));
        if (print)
            printf("update %ld loss %.17g\n", u, E);
        run += E, nrun++;
        if (u % EVERY == 0 || u == updates) {
            const double val = validate(&m, ids + ntrain, nval);
            const double rate = (double)((u - first) * T * B) / (now() - t0);
            printf("update %5ld  loss %.4f  val %.4f  %6.0f chars/s  "
                   "ETA %.0f s\n", u, run / nrun, val, rate,
                   (double)(updates - u) * T * B / rate);
            fflush(stdout);
            run = nrun = 0;
            try(bptt_checkpoint_save(out, NULL, m.el, p, state, sbytes));
        }
    }
    printf("--- sample (temperature %g) ---\n", temp);
    sample(&m, ids[0], chars, temp);
    bptt_optim_free(adam), bptt_tbptt_free(m.tb);
    bptt_elman_workspace_free(m.ws), bptt_elman_free(m.el), bptt_net_free(net);
    free(state), free(ids), free(p), free(g);
    return 0;
}
