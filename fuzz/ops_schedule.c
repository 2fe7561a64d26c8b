/*
 * ops_schedule.c — the fuzz ops of memory-bounded BPTT and truncated BPTT
 * (bptt/schedule.h), double (op 29) and float (op 30): a plan from a
 * fuzzed budget, a fuzzed (L, M) or a fuzzed (L, M, I) is refused with its
 * status and writes nothing, or stays within the budget and gives the full-storage gradient;
 * a failing loss callback's status comes back with dW, db, dy0 and the
 * loss untouched; a truncated-BPTT step with h = h' = T is full BPTT.  The
 * body is ops_schedule.h, once per precision.
 */
#include "fuzz.h"

#define FR double
#define FS(name) bptt_##name
#define FO(name) name##_d
#define FTOL 1e-12
#include "ops_schedule.h"
#undef FR
#undef FS
#undef FO
#undef FTOL

#define FR float
#define FS(name) bpttf_##name
#define FO(name) name##_f
#define FTOL 1e-4
#include "ops_schedule.h"

void op_schedule(bytes *r) { schedule_d(r); }
void op_schedule_float(bytes *r) { schedule_f(r); }
