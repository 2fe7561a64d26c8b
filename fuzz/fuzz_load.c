/*
 * fuzz_load.c — the libFuzzer target of the checkpoint loader
 * (fuzz/README.md).  The first byte picks the model a file is loaded for —
 * its precision (bit 0), Network A or B (bit 1) and the optimizer whose
 * state receives the file's (bits 2-3: none, SGD with momentum, Adam,
 * AdamW) — and the other bytes are the file.  It asserts that
 *
 *   - a refused image gets a checkpoint status, a detail naming
 *     bptt_checkpoint_parse, and leaves params, state and has_state
 *     bytewise unchanged;
 *   - an accepted image is canonical: saving what was loaded gives back
 *     the same bytes.
 *
 * The corpus fuzz/corpus-load holds files saved for these models.
 */
#define _POSIX_C_SOURCE 200809L

#include <bptt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The models, made once: a core of 2 inputs and 3 tanh units, and a
 * softmax head of 2 outputs on it. */
static bptt_net *net;
static bptt_elman *el;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (bptt_net_create_uniform(2, 3, BPTT_ACT_TANH, NULL, &net) != BPTT_OK ||
        bptt_elman_create(net, 2, BPTT_HEAD_SOFTMAX, &el) != BPTT_OK)
        abort();
    return 0;
}

#define REQUIRE(c, what)                                                       \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_load: %s (%s)\n", what,                      \
                    bptt_error_detail());                                      \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int fl = data[0] & 1, B = data[0] >> 1 & 1;
    const int ok_kind = data[0] >> 2 & 3;
    const size_t elem = fl ? sizeof(float) : sizeof(double);
    const bptt_net *an = B ? NULL : net;
    const bptt_elman *ael = B ? el : NULL;
    bptt_param_layout lay;
    REQUIRE((B ? bptt_elman_param_layout(el, &lay)
               : bptt_net_param_layout(net, &lay)) == BPTT_OK, "layout");
    bptt_optim *o = NULL;
    size_t sb = 0;
    if (ok_kind) {
        bptt_optim_config c;
        bptt_optim_defaults((bptt_optim_kind)(ok_kind - 1), &c);
        c.momentum = ok_kind == 1 ? 0.9 : 0;
        REQUIRE(bptt_optim_create(&c, lay.count, &o) == BPTT_OK, "optim");
        (fl ? bpttf_optim_state_size : bptt_optim_state_size)(o, &sb);
    }
    unsigned char *p = malloc(lay.count * elem), *pk = malloc(lay.count * elem);
    unsigned char *st = o ? malloc(sb) : NULL, *sk = o ? malloc(sb) : NULL;
    memset(p, 0x5A, lay.count * elem);
    if (o)
        (fl ? bpttf_optim_state_init : bptt_optim_state_init)(o, st, sb);
    memcpy(pk, p, lay.count * elem);
    if (o)
        memcpy(sk, st, sb);
    int has = 7;
    const uint8_t *img = data + 1;
    const size_t n = size - 1;
    bptt_status s =
        fl ? bpttf_checkpoint_parse(img, n, an, ael, (float *)p, st, sb, &has)
           : bptt_checkpoint_parse(img, n, an, ael, (double *)p, st, sb, &has);
    if (s != BPTT_OK) {
        REQUIRE(s == BPTT_ECORRUPT || s == BPTT_EFORMAT ||
                    s == BPTT_EVERSION || s == BPTT_EMISMATCH,
                "a status the loader does not document");
        const char *fn =
            fl ? "bpttf_checkpoint_parse" : "bptt_checkpoint_parse";
        REQUIRE(strncmp(bptt_error_detail(), fn, strlen(fn)) == 0,
                "the detail does not name the function");
        REQUIRE(has == 7 && memcmp(p, pk, lay.count * elem) == 0 &&
                    (!o || memcmp(st, sk, sb) == 0),
                "a refused image wrote an output");
    } else {
        /* canonical: saving it again gives the same bytes (without the
         * file's state, if the caller took none) */
        char path[64];
        snprintf(path, sizeof path, "/tmp/bptt-fuzz-load-%ld",
                 (long)getpid());
        const void *save_st = has ? st : NULL;
        REQUIRE((fl ? bpttf_checkpoint_save(path, an, ael, (float *)p,
                                            save_st, sb)
                    : bptt_checkpoint_save(path, an, ael, (double *)p,
                                           save_st, sb)) == BPTT_OK,
                "saving an accepted image");
        FILE *f = fopen(path, "rb");
        REQUIRE(f, "reading back");
        unsigned char *back = malloc(n + 1);
        const size_t m = fread(back, 1, n + 1, f);
        fclose(f);
        unlink(path);
        if (has || m == n) /* else the file had a state not asked for */
            REQUIRE(m == n && memcmp(back, img, n) == 0,
                    "an accepted image is not what saving it gives");
        free(back);
    }
    free(p);
    free(pk);
    free(st);
    free(sk);
    bptt_optim_free(o);
    return 0;
}
