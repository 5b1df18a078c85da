/* flags.h: the one table of command-line flags and environment variables.
 *
 * Every flag of every subcommand is one qw_flag row (src/core/flags.c):
 * name, value type and range, target field in qw_config, the subcommands
 * that accept it, metavar, default and help text. qw_config_load() walks
 * the table, app/main.c prints `--help` from it, and tests check that
 * every row appears in `--help` and docs/CLI.md. Rows with name == NULL
 * are environment-only (credentials).
 */
#ifndef QW_CORE_FLAGS_H
#define QW_CORE_FLAGS_H

#include <stddef.h>

#include "core/config.h"

/* Subcommands a flag can belong to (bits of qw_flag.subs, qw_config.sub). */
enum {
    QW_SUB_LIVE = 1u << 0,
    QW_SUB_REPLAY = 1u << 1,
    QW_SUB_SIM = 1u << 2,
    QW_SUB_LAKE_TABLES = 1u << 3,
    QW_SUB_LAKE_DESCRIBE = 1u << 4,
    QW_SUB_LAKE_SCAN = 1u << 5,
    QW_SUB_LAKE_CLEAN = 1u << 6,
    QW_SUB_LAKE_REGISTER = 1u << 7,
    QW_SUB_LAKE_EXPIRE = 1u << 8,
    QW_SUB_LAKE_COMPACT = 1u << 9, /* the lake subcommands are contiguous bits */
    QW_SUB_BACKTEST = 1u << 10,
    QW__SUB_COUNT = 11
};
#define QW_SUB_LAKE                                                                                \
    (QW_SUB_LAKE_TABLES | QW_SUB_LAKE_DESCRIBE | QW_SUB_LAKE_SCAN | QW_SUB_LAKE_CLEAN |            \
     QW_SUB_LAKE_REGISTER | QW_SUB_LAKE_EXPIRE | QW_SUB_LAKE_COMPACT)
#define QW_SUB_ALL (QW_SUB_LIVE | QW_SUB_REPLAY | QW_SUB_SIM | QW_SUB_LAKE | QW_SUB_BACKTEST)

typedef enum {
    QW_FT_BOOL,   /* no value; stores .ival (env: true|1|yes) */
    QW_FT_INT,    /* integer in [min, max] into an int, long, size_t or int64_t field */
    QW_FT_DOUBLE, /* decimal in [min, max] (durations are seconds) */
    QW_FT_STRING, /* copied; longer than the field is an error */
    QW_FT_ENUM,   /* one of .choices, stored as int */
    QW_FT_CUSTOM  /* parsed by .set (lists, times, URLs, speeds) */
} qw_flag_type;

typedef struct qw_flag_choice {
    const char *name;
    int value;
} qw_flag_choice;

typedef struct qw_flag qw_flag;
struct qw_flag {
    const char *name; /* "--port"; NULL: environment only */
    const char *env;  /* environment variable or NULL */
    qw_flag_type type;
    size_t off, size;              /* target field: offsetof / sizeof in qw_config */
    double min, max;               /* INT, DOUBLE */
    int ival;                      /* BOOL: value stored */
    const qw_flag_choice *choices; /* ENUM: ends with {NULL, 0} */
    qw_err (*set)(qw_config *c, const qw_flag *f, const char *val); /* CUSTOM */
    unsigned subs;                                                  /* QW_SUB_* that accept it */
    unsigned secret;     /* never printed: describe() says only (set) */
    const char *metavar; /* "N", "FILE|-"; NULL for BOOL */
    const char *unit;    /* "seconds", "bytes" (range errors, help) */
    const char *def;     /* default as shown in --help; NULL: formatted from defaults */
    const char *example; /* a valid value (tests; NULL for BOOL) */
    const char *help;
};

/* The table, n rows. Rows sharing a field (--progress/--no-progress) are adjacent. */
const qw_flag *qw_flags(size_t *n);
/* The row for "--name" (no "=value"), or NULL. */
const qw_flag *qw_flag_find(const char *name);
/* "live", "replay", "sim", "lake tables", "lake describe", "lake scan",
 * "lake clean-orphans", "lake register", "lake expire", "backtest" for one QW_SUB_* bit;
 * "lake" for QW_SUB_LAKE. */
const char *qw_sub_name(unsigned sub);
/* The default of f as --help shows it ("none" when empty). */
void qw_flag_default(const qw_flag *f, char *buf, size_t cap);

#endif
