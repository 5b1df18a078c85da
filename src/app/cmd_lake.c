/* cmd_lake.c: `quotewatch lake tables|describe|scan|clean-orphans` —
 * inspection of the Iceberg lake (src/storage/); wiring only. */
#define QW_MODULE "app"
#include "app/app.h"
#include "core/log.h"

int qw_cmd_lake(const qw_config *cfg)
{
    (void)cfg;
    QW_LOG(ERROR, "the lake commands are not built yet (persistence issue)");
    return 3;
}
