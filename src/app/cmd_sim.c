/* cmd_sim.c: `quotewatch sim` — the local Coinbase-protocol simulator
 * (src/sim/); wiring only. */
#define QW_MODULE "app"
#include "app/app.h"
#include "core/log.h"

int qw_cmd_sim(const qw_config *cfg)
{
    (void)cfg;
    QW_LOG(ERROR, "the simulator is not built yet (live-ingest issue)");
    return 3;
}
