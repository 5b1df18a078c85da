/* config.h: the one configuration object.
 *
 * Precedence: defaults < environment (PORT, ENABLE_PERSISTENCE,
 * ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE, QW_LOG_LEVEL, COINBASE_EXCHANGE_*)
 * < command-line flags. Parsed and checked once in app/, then passed down
 * as const; modules never call getenv. A bad flag or value, or a flag the
 * subcommand does not take, is an error naming it. The flags themselves are
 * one table (core/flags.h).
 */
#ifndef QW_CORE_CONFIG_H
#define QW_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"

#define QW_CONFIG_MAX_PRODUCTS 64
#define QW_CONFIG_MAX_FILES 1024
#define QW_CONFIG_MAX_GRID 8 /* values per backtest grid list */

typedef enum {
    QW_CMD_LIVE,
    QW_CMD_REPLAY,
    QW_CMD_SIM,
    QW_CMD_HELP,
    QW_CMD_VERSION,
    QW_CMD_LAKE,
    QW_CMD_HELP_FLAGS, /* hidden: the flag table as TSV (tests, docs check) */
    QW_CMD_BACKTEST
} qw_cmd;

typedef enum { QW_COMP_ZSTD, QW_COMP_SNAPPY, QW_COMP_NONE } qw_compression;

typedef struct qw_config {
    qw_cmd cmd;
    unsigned sub; /* QW_SUB_* of cmd (core/flags.h); lake: the action's bit once known */
    int help;     /* SUB --help: print that subcommand's flags (cmd stays SUB) */
    /* common */
    qw_log_level log_level;
    char products[QW_CONFIG_MAX_PRODUCTS][32];
    size_t nproducts;
    int products_set;
    /* live */
    int feed_exchange; /* 0 advanced (default), 1 exchange */
    char url[512];
    int port; /* dashboard; from PORT, default 8050 */
    char bind[64];
    char record_dir[512];
    char ca_file[512];     /* extra CA to trust (tests against the simulator's CA) */
    char status_file[512]; /* live: counters JSON rewritten every second */
    double watchdog_s;     /* no message for this long -> reconnect (default 10) */
    double duration_s;     /* live/sim: stop cleanly after this long; 0 = until signal */
    double backoff_max_s;  /* reconnect backoff cap (default 30) */
    double connect_rate;   /* max connection attempts per second (default 4) */
    size_t max_message;    /* largest WebSocket message reassembled (default 32 MiB) */
    int no_deflate;        /* live/sim: do not negotiate permessage-deflate */
    /* live, Exchange feed authentication (env only; secret: never logged) */
    char ex_key[256], ex_secret[256], ex_passphrase[256];
    /* sim */
    int synthetic;   /* serve qw_synth instead of FILE */
    int loop;        /* restart the source at its end */
    char fault[512]; /* fault spec(s), comma separated (docs/SIM.md) */
    char tls_cert[512], tls_key[512];
    uint64_t seed;
    size_t levels; /* synthetic snapshot levels per side (0 = default) */
    /* dashboard */
    int dashboard;       /* replay: serve the dashboard too */
    char web_root[512];  /* static files (default: web/dist next to the binary's cwd) */
    int dash_max_per_ip; /* open dashboard connections per source address (default 16) */
    /* replay; sim FILE; lake ACTION ARGS (files[0] = action) */
    const char *files[QW_CONFIG_MAX_FILES];
    size_t nfiles;
    char summary[512]; /* "" none, "-" stdout */
    char samples[512];
    double speed; /* 0 = max; otherwise multiple of real time */
    int progress; /* -1 auto (tty), 0 off, 1 on */
    size_t max_line;
    char save_model[512], load_model[512];
    /* live: product shard (--shard I/N, QW_SHARD): this process keeps the
     * products of --products whose qw_shard_of() is shard_i (docs/CLI.md) */
    int shard_i, shard_n; /* shard_n 0: no sharding; shard_i -1: "auto" until resolved */
    size_t nproducts_all; /* --products before the shard filter */
    /* persistence (env) */
    int persist;
    size_t queue_records; /* writer ring (0 = 256 Ki records) */
    double maintain_s;    /* --maintain: expire + compact every this many seconds (0: off) */
    double maintain_expire_age_s; /* --maintain-expire-age: snapshots older than this expire
                                     (0: the table's history.expire.max-snapshot-age-ms) */
    int64_t maintain_target_size; /* --maintain-target-size: compaction target of --maintain
                                     (0: the table property) */
    double close_timeout_s; /* live: bound of the final flush and commit at exit (default 8) */
    char warehouse[512];
    char catalog_uri[512];
    char s3_endpoint[256];      /* object-store endpoint (AWS_ENDPOINT_URL) */
    int s3_path_style;          /* path-style addressing (AWS_S3_FORCE_PATH_STYLE) */
    int lake;                   /* replay: read raw tables from the lake instead of files */
    int64_t since_ns, until_ns; /* replay --lake window (0 = open) */
    long flush_rows;            /* writer flush trigger: rows per table (default 50000) */
    long flush_ms;              /* writer flush trigger: ms since last flush (default 5000) */
    qw_compression compression;
    int zstd_level;      /* Parquet ZSTD level 1..19 (default 1) */
    int int_delta;       /* Parquet int64 columns: DELTA_BINARY_PACKED (default) or PLAIN */
    long limit;          /* lake scan: rows to print (default 20) */
    int dry_run;         /* lake clean-orphans / expire: list only */
    double older_than_s; /* lake clean-orphans: only files older than this (default 600);
                            lake expire: snapshots older than this */
    int older_than_set;  /* --older-than given (expire: else the table property) */
    int64_t before_ns;   /* lake expire --before: snapshots before T (0: not given) */
    int retain_last;     /* lake expire: keep the last N (0: the table property) */
    char table[64];      /* lake expire / compact --table: one table (empty: all four) */
    int64_t target_size; /* lake compact --target-size (0: the table property) */
    /* backtest (docs/BACKTEST.md): the grid is horizons x thresholds x alphas */
    int64_t bt_horizon_ns[QW_CONFIG_MAX_GRID];
    size_t bt_nhorizons;
    double bt_tau[QW_CONFIG_MAX_GRID];
    size_t bt_ntaus;
    double bt_alpha[QW_CONFIG_MAX_GRID];
    size_t bt_nalphas;
    char bt_features[QW_CONFIG_MAX_GRID]
                    [192]; /* feature-set specs (features.h), checked by the command */
    size_t bt_nfeatures;
    int64_t bt_window_ns; /* default 60 s */
    int bt_save_config;   /* --save-config K: the grid entry --save-model writes */
    char report_json[512], report_html[512], predictions_csv[512];
    char errbuf[256];
} qw_config;

void qw_config_defaults(qw_config *c);
/* envp: NULL-terminated "K=V" array (environ). */
qw_err qw_config_load(qw_config *c, char **envp, int argc, char **argv);
/* One line describing the effective config, secrets removed (credentials
 * and catalog passwords become "***"). */
void qw_config_describe(const qw_config *c, char *buf, size_t cap);
/* uri with any password replaced by "***" (user:pw@ and password=...). */
void qw_config_redact_uri(const char *uri, char *buf, size_t cap);

/* The shard (0..n-1) a product belongs to among n: FNV-1a 64 of its id
 * bytes, modulo n. Stable across versions and machines (a contract). */
unsigned qw_shard_of(const char *product, unsigned n);

#endif
