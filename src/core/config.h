/* config.h: the one configuration object.
 *
 * Precedence: defaults < environment (PORT, ENABLE_PERSISTENCE,
 * ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE, QW_LOG_LEVEL) < command-line
 * flags. Parsed and checked once in app/, then passed down as const;
 * modules never call getenv. A bad flag or value is an error naming it.
 */
#ifndef QW_CORE_CONFIG_H
#define QW_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"

#define QW_CONFIG_MAX_PRODUCTS 64
#define QW_CONFIG_MAX_FILES 1024

typedef enum { QW_CMD_LIVE, QW_CMD_REPLAY, QW_CMD_SIM, QW_CMD_HELP, QW_CMD_VERSION } qw_cmd;

typedef struct qw_config {
    qw_cmd cmd;
    /* common */
    qw_log_level log_level;
    char products[QW_CONFIG_MAX_PRODUCTS][32];
    size_t nproducts;
    int products_set;
    /* live */
    int feed_exchange; /* 0 advanced (default), 1 exchange */
    char url[512];
    int port;          /* dashboard; from PORT, default 8050 */
    char bind[64];
    char record_dir[512];
    /* replay */
    const char *files[QW_CONFIG_MAX_FILES];
    size_t nfiles;
    char summary[512]; /* "" none, "-" stdout */
    char samples[512];
    double speed;      /* 0 = max; otherwise multiple of real time */
    int progress;      /* -1 auto (tty), 0 off, 1 on */
    size_t max_line;
    char save_model[512], load_model[512];
    /* persistence (env) */
    int persist;
    char warehouse[512];
    char catalog_uri[512];
    char errbuf[256];
} qw_config;

void qw_config_defaults(qw_config *c);
/* envp: NULL-terminated "K=V" array (environ). */
qw_err qw_config_load(qw_config *c, char **envp, int argc, char **argv);
/* One line describing the effective config, secrets removed. */
void qw_config_describe(const qw_config *c, char *buf, size_t cap);

#endif
