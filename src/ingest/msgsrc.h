/* msgsrc.h: the one message source of `replay` and `sim FILE...`.
 *
 * A qw_msgsrc reads a list of inputs in order (files, zstd files, "-" for
 * stdin; qw_linesrc), recognises every line format (qw_frame_line: raw,
 * recorder msg / msg_hex / connect event, cryptofeed lines), decodes
 * msg_hex, drops blank lines and hands out one item per event: a server
 * message with its receive time, a connection marker, the start of an
 * input, a skipped line, or an input that failed. Everything that is not a
 * message is counted here, by reason, so every consumer counts alike.
 *
 * Single thread. Nothing is allocated per line once the line buffer and
 * the msg_hex buffer have grown to the longest line seen.
 */
#ifndef QW_INGEST_MSGSRC_H
#define QW_INGEST_MSGSRC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum {
    QW_MSGSRC_MSG = 0,     /* msg/len: one server message; recv_ns = receive time (0 = none) */
    QW_MSGSRC_CONNECT,     /* a new connection starts here (recv_ns, 0 = unknown) */
    QW_MSGSRC_INPUT,       /* input number `input` (`path`) starts: a new stream */
    QW_MSGSRC_TOO_LONG,    /* a line over max_line was skipped; len = its length */
    QW_MSGSRC_DROPPED,     /* a msg_hex message could not be decoded for lack of memory (err) */
    QW_MSGSRC_OPEN_FAILED, /* the input could not be opened (err; qw_msgsrc_errmsg too) */
    QW_MSGSRC_READ_FAILED, /* reading it failed: err QW_IO, or QW_CORRUPT for a truncated or
                              corrupt zstd stream; detail in qw_msgsrc_errmsg. */
    /* After either failure the next call goes on with the next input. */
} qw_msgsrc_kind;

typedef struct qw_msgsrc_item {
    qw_msgsrc_kind kind;
    const char *msg; /* QW_MSGSRC_MSG: valid until the next call */
    size_t len;
    int64_t recv_ns;
    qw_err err;       /* QW_MSGSRC_DROPPED, QW_MSGSRC_*_FAILED */
    size_t input;     /* index of the current input */
    const char *path; /* its name as given */
} qw_msgsrc_item;

typedef struct qw_msgsrc_stats {
    uint64_t lines;        /* lines read, too-long ones included */
    uint64_t messages;     /* QW_MSGSRC_MSG items (msg_hex included) */
    uint64_t msg_hex;      /* ... of which decoded from msg_hex */
    uint64_t connects;     /* connection markers */
    uint64_t meta;         /* lines that are no server message (sent messages, bad msg_hex) */
    uint64_t bad_hex;      /* ... of which msg_hex lines with bad hex digits */
    uint64_t blank;        /* empty or whitespace-only messages */
    uint64_t too_long;     /* lines over max_line */
    uint64_t dropped;      /* msg_hex lines dropped for lack of memory */
    uint64_t inputs;       /* inputs opened */
    uint64_t open_errors;  /* inputs that could not be opened */
    uint64_t input_errors; /* read errors, truncated or corrupt zstd */
    uint64_t bytes;        /* (decompressed) input consumed, newlines included */
} qw_msgsrc_stats;

typedef struct qw_msgsrc qw_msgsrc;

/* paths is borrowed and must outlive the source. max_line: longest
 * accepted line (0 = 64 MiB). Opens nothing yet: QW_NOMEM only. */
qw_err qw_msgsrc_open(qw_msgsrc **out, const char *const *paths, size_t npaths, size_t max_line);
void qw_msgsrc_close(qw_msgsrc *s); /* NULL is a no-op */
/* The next item: QW_OK, or QW_NOT_FOUND after the last input. */
qw_err qw_msgsrc_next(qw_msgsrc *s, qw_msgsrc_item *it);
/* Back to the first input (sim --loop); the counters keep counting. */
void qw_msgsrc_rewind(qw_msgsrc *s);
/* Counters so far (bytes include the current input). */
void qw_msgsrc_get_stats(const qw_msgsrc *s, qw_msgsrc_stats *out);
/* Detail of the last QW_MSGSRC_*_FAILED (without the path). */
const char *qw_msgsrc_errmsg(const qw_msgsrc *s);
/* How far through the inputs, 0..1 (by file position; for progress). */
double qw_msgsrc_progress(const qw_msgsrc *s);

#endif
