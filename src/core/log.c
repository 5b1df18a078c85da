/* log.c: JSON-lines logger on stderr (the only stdio writer besides app/
 * usage text). One object per line with the keys Cloud Logging reads
 * (`severity`: DEBUG|INFO|WARNING|ERROR, `message`) plus `time` and
 * `module`. The message is JSON-escaped (a multi-byte character cut by the
 * length limit is dropped, so every line is valid UTF-8 JSON); one write(2)
 * per line so lines from different threads never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/time.h"

static _Atomic int cur_level = QW_LOG_INFO;

void qw_log_set_level(qw_log_level lvl)
{
    atomic_store(&cur_level, (int)lvl);
}

int qw_log_parse_level(const char *s, qw_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (qw_log_level)i;
            return 0;
        }
    return -1;
}

void qw_log_write(qw_log_level lvl, const char *module, const char *fmt, ...)
{
    static const char *sev[] = {"DEBUG", "INFO", "WARNING", "ERROR", "OFF"};
    if ((int)lvl < atomic_load(&cur_level) || lvl >= QW_LOG_OFF)
        return;
    char msg[1024], line[2400], ts[QW_TIME_STR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qw_time_format(qw_now_wall_ns(), ts);
    size_t n = (size_t)snprintf(
        line, sizeof line, "{\"time\":\"%s\",\"severity\":\"%s\",\"module\":\"%s\",\"message\":\"",
        ts, sev[lvl], module);
    for (const unsigned char *p = (const unsigned char *)msg; *p && n < sizeof line - 8; p++) {
        if (*p == '"' || *p == '\\') {
            line[n++] = '\\';
            line[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(line + n, sizeof line - n, "\\u%04x", *p);
        } else {
            line[n++] = (char)*p;
        }
    }
    /* the 1024-byte message limit may have cut a UTF-8 sequence: drop it */
    size_t k = n;
    while (k > 0 && ((unsigned char)line[k - 1] & 0xC0) == 0x80)
        k--;
    if (k > 0 && ((unsigned char)line[k - 1] & 0x80)) {
        unsigned char lead = (unsigned char)line[k - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (n - (k - 1) < need)
            n = k - 1;
    }
    line[n++] = '"';
    line[n++] = '}';
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
}

int qw_log_ratelimit(qw_ratelimit *rl)
{
    uint64_t k = rl->seen++;
    if (k < rl->first)
        return 1;
    return rl->every && (k - rl->first) % rl->every == 0;
}
