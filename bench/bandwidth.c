/*
 * bandwidth.c — the read-bandwidth probe (bandwidth.h).
 *
 * A probe of a limit must be at least as fast as anything it limits, so it
 * reads with the CPU's widest loads, chosen at run time: the harness is
 * built for x86-64's baseline, whose 16-byte loads reach a quarter of what
 * an AVX-512 kernel reads per cycle from L1.  Four independent
 * accumulators hide the add latency; the sum is returned, so no compiler
 * can drop the loads.
 */
#include "bandwidth.h"

#include <bptt.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"
#include "timing.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

static uint64_t sum_c(const uint64_t *p, size_t n)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += p[i];
        a1 += p[i + 1];
        a2 += p[i + 2];
        a3 += p[i + 3];
    }
    for (; i < n; i++)
        a0 += p[i];
    return a0 + a1 + a2 + a3;
}

#ifdef BENCH_X86
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint64_t *p,
                                                         size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1,
                              _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        a2 = _mm256_add_epi64(a2,
                              _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        a3 = _mm256_add_epi64(
            a3, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t lane[4];
    _mm256_storeu_si256((__m256i *)lane, a0);
    return lane[0] + lane[1] + lane[2] + lane[3] + sum_c(p + i, n - i);
}

__attribute__((target("avx512f"))) static uint64_t sum_avx512(const uint64_t *p,
                                                              size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 8));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 16));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 24));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(a0) + sum_c(p + i, n - i);
}
#endif

typedef uint64_t (*sum_fn)(const uint64_t *, size_t);

static sum_fn widest(void)
{
#ifdef BENCH_X86
    const bptt_isa isa = bptt_cpu_isa();
    if (isa >= BPTT_ISA_AVX512)
        return sum_avx512;
    if (isa >= BPTT_ISA_AVX2)
        return sum_avx2;
#endif
    return sum_c;
}

uint64_t bench_read_sum(const uint64_t *p, size_t n)
{
    return widest()(p, n);
}

enum { MAX_SAMPLES = 10000 };
/* Bytes one timed call reads at least: ~10 µs at 100 GB/s. */
#define CALL_BYTES ((size_t)1 << 20)

typedef struct probe {
    sum_fn sum;
    const uint64_t *p;
    size_t n, reps;
    uint64_t sink;
} probe;

/* reps passes over the array.  The function is called through a pointer
 * chosen at run time, so the compiler cannot see that every pass returns
 * the same sum and fold them into one. */
static int call_probe(void *ctx)
{
    probe *pr = ctx;
    uint64_t s = 0;
    for (size_t r = 0; r < pr->reps; r++)
        s += pr->sum(pr->p, pr->n);
    pr->sink += s;
    return 0;
}

double bench_read_gbs(size_t bytes, double budget_ms)
{
    const size_t n = (bytes + 7) / 8;
    double gbs = NAN;
    uint64_t *p = n ? malloc(n * sizeof *p) : NULL;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    if (p && samples) {
        for (size_t i = 0; i < n; i++)
            p[i] = i;
        probe pr = {widest(), p, n, CALL_BYTES / (n * 8) + 1, 0};
        size_t k = 0;
        /* one warm-up call brings the array into the cache that holds it */
        bench_repeat(call_probe, &pr, 1, budget_ms, samples, MAX_SAMPLES, &k);
        const double ms = bench_summarize(samples, k).min;
        gbs = (double)pr.reps * (double)n * 8 / (ms * 1e6);
    }
    free(p);
    free(samples);
    return gbs;
}
