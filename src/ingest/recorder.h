/* recorder.h: `quotewatch live --record DIR` — every received message with
 * its local receive time, as zstd-compressed NDJSON rotated hourly.
 *
 * Files: DIR/quotewatch-YYYYMMDD-HH.ndjson.zst (UTC hour of receive time),
 * appended to (as a new zstd frame) when the process restarts within the
 * same hour. Lines (read back by `quotewatch replay`, ingest/frame.c):
 *   {"recv_ns":N,"event":"connect","conn":K,"url":"..."}   a new connection
 *   {"recv_ns":N,"msg":<the message bytes, verbatim>}
 *   {"recv_ns":N,"msg_hex":"..."}   a message containing a newline byte
 * Output is flushed (a complete zstd block) at least every second by
 * qw_recorder_tick, so a crash loses at most about a second of recording;
 * rotation and close end the frame and fsync the file.
 *
 * Event-loop thread only; one reused compression buffer, no allocation per
 * message. Write errors are counted and logged (rate-limited); recording
 * stops for the current hour's file after an error and resumes at the next
 * rotation, the live run itself continues.
 */
#ifndef QW_INGEST_RECORDER_H
#define QW_INGEST_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct qw_recorder qw_recorder;

typedef struct qw_recorder_stats {
    uint64_t messages, lines, bytes_in, bytes_out, files, errors;
    char path[600]; /* current file */
} qw_recorder_stats;

qw_err qw_recorder_open(qw_recorder **out, const char *dir, int level, char *errbuf, size_t errlen);
qw_err qw_recorder_connect(qw_recorder *r, int64_t recv_ns, uint64_t conn, const char *url);
qw_err qw_recorder_msg(qw_recorder *r, int64_t recv_ns, const char *msg, size_t len);
/* Flush pending output when more than a second passed since the last flush. */
void qw_recorder_tick(qw_recorder *r, int64_t mono_ns);
qw_err qw_recorder_close(qw_recorder *r); /* ends the frame, fsyncs; NULL ok */
const qw_recorder_stats *qw_recorder_get_stats(const qw_recorder *r);

#endif
