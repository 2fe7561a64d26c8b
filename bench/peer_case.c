/*
 * peer_case.c — the peers (bench/peers/peer.h: oneDNN, PyTorch) on one
 * case: the same W, x and ∂L/∂y as bptt's algorithms (y(0) = 0; Network A
 * with no bias and tanh units, or a gated cell with its biases), their y,
 * ∂L/∂W and ∂L/∂x checked against the naive form exactly as bptt's own,
 * then their forward, backward and forward_backward recorded from the
 * times they took themselves.  Precision-independent (through bench_prec).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "peer.h"
#include "stats.h"

/* The runner times at most this many repetitions. */
enum { PEER_CAP = 100000 };

/* The peers' versions as they reported them ("" until one has run). */
static struct {
    char name[16], version[64];
} versions[8];

const char *bench_peer_version(const char *name)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (strcmp(versions[i].name, name) == 0)
            return versions[i].version;
    return "";
}

static void keep_version(const char *name, const char *version)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (!versions[i].name[0] || strcmp(versions[i].name, name) == 0) {
            snprintf(versions[i].name, sizeof versions[i].name, "%s", name);
            snprintf(versions[i].version, sizeof versions[i].version, "%s",
                     version);
            return;
        }
}

/* Run peer name on pc at T steps (budget_ms, warmup, cap as given), its
 * outputs into pc's arrays; the status, the message in err. */
static int run_one(const bench_config *cfg, const bench_prec *prec,
                   bench_shape s, const bench_peer_case *pc, const char *name,
                   size_t T, double budget_ms, size_t cap, double *samples,
                   peer_output *po, char *err, size_t errlen)
{
    bench_io io;
    pc->io(pc->p, &io);
    const peer_input in = {s.din, s.dout, T, s.B, prec->elem,
                           io.W, io.x, io.dy, budget_ms,
                           (unsigned)cfg->threads, 1, cap, pc->cell, io.b};
    *po = (peer_output){io.y, io.dW, io.dx,
                        {samples, samples + PEER_CAP, samples + 2 * PEER_CAP},
                        0, {{0, 0, 0}}, ""};
    return bptt_peer_run(name, &in, po, err, errlen);
}

int bench_run_peers(const bench_config *cfg, const bench_prec *prec,
                    const bench_limits *lim, bench_shape s,
                    const bench_peer_case *pc, const double *naive_ms,
                    bench_results *out)
{
    static const bench_pass pass_of[PEER_NPASS] = {
        [PEER_FWD] = BENCH_FORWARD,
        [PEER_BWD] = BENCH_BACKWARD,
        [PEER_FWDBWD] = BENCH_FORWARD_BACKWARD};
    double *samples = malloc(PEER_NPASS * PEER_CAP * sizeof *samples);
    if (!samples) {
        bench_note(out, prec, s, "peers", "not run: out of memory");
        return 0;
    }
    int nref = 0;
    for (size_t i = 0; cfg->peers[i]; i++) {
        const char *name = cfg->peers[i];
        bench_progress(cfg, prec, s, name, "run and check");
        /* The check: on the timed run itself, or first a run of its own
         * over check_T steps, one warm-up and one repetition.  The timed
         * runner repeats forward + backward until they add up to its
         * budget: that of bptt's forward and backward together. */
        peer_output po;
        char err[256] = "";
        int st = run_one(cfg, prec, s, pc, name,
                         pc->check_T ? pc->check_T : s.T,
                         pc->check_T ? 0 : 2 * cfg->budget_ms,
                         pc->check_T ? 1 : PEER_CAP, samples, &po, err,
                         sizeof err);
        if (st == PEER_UNSUPPORTED || st == PEER_UNAVAILABLE) {
            /* the runner's message starts with its name, as this note */
            const size_t len = strlen(name);
            const char *why = err;
            if (strncmp(why, name, len) == 0 && strncmp(why + len, ": ", 2) == 0)
                why += len + 2;
            char text[300];
            snprintf(text, sizeof text, "skipped: %s", why);
            bench_note(out, prec, s, name, text);
            continue;
        }
        char reason[256] = "";
        if (st != PEER_OK) {
            snprintf(reason, sizeof reason, "%s", err);
        } else {
            keep_version(name, po.version);
            bench_check_by(cfg, prec, pc->check, pc->corrupt, pc->p, name,
                           BENCH_CHECK_ALL, reason, sizeof reason);
        }
        if (!reason[0] && pc->check_T) {
            bench_progress(cfg, prec, s, name, "timed run");
            st = run_one(cfg, prec, s, pc, name, s.T, 2 * cfg->budget_ms,
                         PEER_CAP, samples, &po, err, sizeof err);
            if (st != PEER_OK)
                snprintf(reason, sizeof reason, "%s", err);
        }
        const size_t first = out->n;
        for (int k = 0; !reason[0] && k < PEER_NPASS; k++) {
            const bench_pass pass = pass_of[k];
            /* the same counts as bptt's: the peers compute ∂L/∂x too (and
             * oneDNN a ∂L/∂y(0) and a bias's gradient, not counted) */
            const bench_record r = bench_make_record(
                cfg, prec, lim, s, name, pass,
                bench_summarize(po.samples[k], po.reps),
                bench_pass_flops(pass, s), naive_ms[pass]);
            if (bench_add_record(out, &r))
                snprintf(reason, sizeof reason, "out of memory");
        }
        if (reason[0]) {
            nref++;
            if (bench_refuse(cfg, out, first, prec, s, name, reason))
                break;
        }
    }
    free(samples);
    return nref;
}
