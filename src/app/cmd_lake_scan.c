/* cmd_lake_scan.c: `quotewatch lake scan TABLE` — rows of a table as
 * NDJSON (needs the Parquet reader). */
#include <stdio.h>

#include "app/app.h"

int qw_lake_scan(const qw_config *cfg, const char *table);

int qw_lake_scan(const qw_config *cfg, const char *table)
{
    (void)cfg;
    fprintf(stderr, "quotewatch lake scan %s: the Parquet reader is not built yet\n", table);
    return 3;
}
