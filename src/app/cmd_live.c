/* cmd_live.c: `quotewatch live` — the live Coinbase client arrives with
 * the live-ingest issue; until then say so plainly. */
#define QW_MODULE "app"
#include "app/app.h"
#include "core/log.h"

int qw_cmd_live(const qw_config *cfg)
{
    char desc[512];
    qw_config_describe(cfg, desc, sizeof desc);
    QW_LOG(INFO, "config: %s", desc);
    QW_LOG(ERROR, "live mode is not built yet (live-ingest issue); "
                  "try: quotewatch replay ../shared/data/real/coinbase_exchange_ws_2021-04-17.ndjson --summary -");
    return 3;
}
