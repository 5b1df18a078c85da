/* ingest.h: where raw messages come from.
 *
 * qw_linesrc reads newline-delimited messages from a file, a zstd file
 * (detected by magic, any name) or stdin ("-"), through one fixed buffer:
 * lines longer than max_line are skipped whole and reported as too long,
 * never truncated into something parseable.
 *
 * qw_frame_line recognises the line formats QuoteWatch replays:
 *   raw            one server message per line (as captured);
 *   recorder       {"recv_ns":N,"msg":<raw>}   (quotewatch live --record)
 *                  {"recv_ns":N,"msg_hex":"..."} (a message holding a newline)
 *                  {"recv_ns":N,"event":"connect",...}  connection marker;
 *   cryptofeed     "<unix s>: <raw>" and its "<url> <-> ts" / "<url> <- ts:"
 *                  connect and sent-message lines.
 */
#ifndef QW_INGEST_INGEST_H
#define QW_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct qw_linesrc qw_linesrc;

/* max_line: longest accepted line in bytes (0 = 64 MiB). */
qw_err qw_linesrc_open(qw_linesrc **out, const char *path, size_t max_line);
void qw_linesrc_close(qw_linesrc *s);
/* Next line without its newline (a trailing '\r' is kept; JSON treats it as
 * whitespace). Returns QW_OK with *line and *len set, QW_TOO_LARGE for a line
 * over max_line (already skipped; *len = its length), QW_NOT_FOUND at end
 * of input, QW_IO or QW_CORRUPT on read or decompression errors (the
 * detail is in qw_linesrc_errmsg). The line is valid until the next call. */
qw_err qw_linesrc_next(qw_linesrc *s, const char **line, size_t *len);
const char *qw_linesrc_errmsg(const qw_linesrc *s);
/* Bytes of (decompressed) input consumed so far, newlines included. */
uint64_t qw_linesrc_bytes(const qw_linesrc *s);
/* Position and size in the underlying file, for progress (-1 if unknown). */
int64_t qw_linesrc_file_pos(const qw_linesrc *s);
int64_t qw_linesrc_file_size(const qw_linesrc *s);

typedef enum {
    QW_FRAME_MSG = 0,     /* msg/len: one server message */
    QW_FRAME_CONNECT = 1, /* a new connection starts here */
    QW_FRAME_META = 2,    /* not a server message (e.g. a message we sent) */
    QW_FRAME_MSG_HEX = 3, /* msg/len: hex digits of one server message (qw_frame_unhex) */
} qw_frame_kind;

typedef struct qw_frame {
    qw_frame_kind kind;
    const char *msg;
    size_t len;
    int64_t recv_ns; /* 0 when the line has no receive time */
} qw_frame;

void qw_frame_line(const char *line, size_t len, qw_frame *out);
/* Decode n hex digits into out (n/2 bytes); (size_t)-1 on bad hex. */
size_t qw_frame_unhex(const char *hex, size_t n, char *out);

#endif
