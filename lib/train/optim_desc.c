/*
 * optim_desc.c — the optimizer's descriptor: hyper-parameters validated
 * once (bptt/train.h), and its names and defaults.  Precision-independent;
 * the steps are in optim.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/optim.h"

const char *bptt_optim_name(bptt_optim_kind kind)
{
    static const char *const name[BPTT_NOPTIM] = {
        [BPTT_OPTIM_SGD] = "sgd",
        [BPTT_OPTIM_ADAM] = "adam",
        [BPTT_OPTIM_ADAMW] = "adamw",
    };
    return (unsigned)kind < BPTT_NOPTIM ? name[kind] : NULL;
}

void bptt_optim_defaults(bptt_optim_kind kind, bptt_optim_config *cfg)
{
    if (!cfg || (unsigned)kind >= BPTT_NOPTIM)
        return;
    /* PyTorch's defaults (torch.optim.Adam, AdamW). */
    *cfg = (bptt_optim_config){.kind = kind, .momentum = 0, .nesterov = 0,
                               .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                               .weight_decay =
                                   kind == BPTT_OPTIM_ADAMW ? 0.01 : 0};
}

static int in_unit(double v) /* [0, 1) */
{
    return v >= 0 && v < 1;
}

bptt_status bptt_optim_create(const bptt_optim_config *cfg, size_t n,
                              bptt_optim **opt)
{
    static const char fn[] = "bptt_optim_create";
    if (!cfg)
        return bptt__fail(BPTT_ENULL, fn, "cfg is NULL");
    if (!opt)
        return bptt__fail(BPTT_ENULL, fn, "opt is NULL");
    if (n == 0)
        return bptt__fail(BPTT_ESIZE, fn, "n is 0");
    if ((unsigned)cfg->kind >= BPTT_NOPTIM)
        return bptt__fail(BPTT_EINVAL, fn, "cfg->kind = %d is not an optimizer",
                          (int)cfg->kind);
    if (!(cfg->weight_decay >= 0) || !isfinite(cfg->weight_decay))
        return bptt__fail(BPTT_EINVAL, fn,
                          "cfg->weight_decay (%g) must be finite and >= 0",
                          cfg->weight_decay);
    if (cfg->kind == BPTT_OPTIM_SGD) {
        if (!in_unit(cfg->momentum))
            return bptt__fail(BPTT_EINVAL, fn,
                              "cfg->momentum (%g) must be in [0, 1)",
                              cfg->momentum);
        if (cfg->nesterov && cfg->momentum == 0)
            return bptt__fail(BPTT_EINVAL, fn,
                              "cfg->nesterov needs cfg->momentum > 0");
    } else {
        if (!in_unit(cfg->beta1))
            return bptt__fail(BPTT_EINVAL, fn,
                              "cfg->beta1 (%g) must be in [0, 1)", cfg->beta1);
        if (!in_unit(cfg->beta2))
            return bptt__fail(BPTT_EINVAL, fn,
                              "cfg->beta2 (%g) must be in [0, 1)", cfg->beta2);
        if (!(cfg->eps > 0) || !isfinite(cfg->eps))
            return bptt__fail(BPTT_EINVAL, fn,
                              "cfg->eps (%g) must be finite and > 0", cfg->eps);
    }
    bptt_optim *o = malloc(sizeof *o);
    if (!o)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating the descriptor");
    *o = (bptt_optim){.cfg = *cfg, .n = n};
    o->cfg.nesterov = cfg->nesterov != 0;
    *opt = o;
    return BPTT_OK;
}

void bptt_optim_free(bptt_optim *opt)
{
    free(opt);
}

uint32_t bptt__optim_arrays(const bptt_optim *opt)
{
    if (opt->cfg.kind == BPTT_OPTIM_SGD)
        return opt->cfg.momentum > 0;
    return 2;
}

int bptt__optim_header_read(const void *state, bptt__optim_header *h)
{
    memcpy(h, state, sizeof *h);
    return h->magic == BPTT_OPTIM_MAGIC;
}

unsigned long long bptt_optim_state_steps(const void *state)
{
    bptt__optim_header h;
    if (!state || !bptt__optim_header_read(state, &h))
        return 0;
    return h.steps;
}
