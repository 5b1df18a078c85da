/* log.h: structured logging, one JSON object per line on stderr.
 *
 * {"severity":"WARNING","module":"feed","msg":"..."} is what Cloud Run
 * parses. Each .c defines QW_MODULE before including this header. The hot
 * path counts instead of logging; use qw_log_ratelimit for repeated events.
 */
#ifndef QW_CORE_LOG_H
#define QW_CORE_LOG_H

#include <stdint.h>

typedef enum { QW_LOG_DEBUG, QW_LOG_INFO, QW_LOG_WARN, QW_LOG_ERROR, QW_LOG_OFF } qw_log_level;

#ifndef QW_MODULE
#define QW_MODULE "qw"
#endif

#define QW_LOG(lvl, ...) qw_log_write(QW_LOG_##lvl, QW_MODULE, __VA_ARGS__)

void qw_log_set_level(qw_log_level lvl);
/* Parse "debug|info|warn|error|off"; returns 0 on success. */
int qw_log_parse_level(const char *s, qw_log_level *out);
void qw_log_write(qw_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rate limiter for repeated warnings: first `first` events, then every
 * `every`th. Returns 1 when this occurrence should be logged. */
typedef struct qw_ratelimit {
    uint64_t seen;
    uint32_t first, every;
} qw_ratelimit;
int qw_log_ratelimit(qw_ratelimit *rl);

#endif
