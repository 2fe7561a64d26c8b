/*
 * gated_onednn_stub.c — bptt-bench-gated without oneDNN (libdnnl not found
 * at configure time): no peer.
 */
#include "gated_peer.h"

int gated_onednn_available(void)
{
    return 0;
}

void gated_onednn_run(const gated_peer_problem *p, gated_peer_result *r)
{
    (void)p;
    r->ran = 0;
}
