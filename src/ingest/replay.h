/* replay.h: capture files through a pipeline — the input side of
 * `quotewatch replay FILE...`, as a module so that tests drive the very
 * loop the command runs.
 *
 * Messages come from qw_msgsrc (msgsrc.h); each input is its own stream
 * (the parser's sequence history is reset), a connection marker resets it
 * and flags every chain, a rejected or too-long line is counted in the
 * pipeline's rejected_by. Warnings are rate-limited (the first 5, then
 * every 10,000th). Single thread.
 */
#ifndef QW_INGEST_REPLAY_H
#define QW_INGEST_REPLAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "feed/feed.h"
#include "pipeline/pipeline.h"

/* Pacing by feed time (--speed N: N times real time; speed <= 0: as fast
 * as possible). Zero-initialise, then set the fields. */
typedef struct qw_pace {
    double speed;
    const volatile sig_atomic_t *stop; /* optional: stop waiting when set */
    void (*idle)(void *ctx);           /* optional: called every 5 ms while waiting */
    void *idle_ctx;
    int64_t t0_ns, w0_ns; /* feed and monotonic time of the first paced message */
} qw_pace;

/* Waits until a message of feed time t_ns (0 = unknown: no wait) is due. */
void qw_pace_wait(qw_pace *p, int64_t t_ns);
/* Sleeps ns (calling idle every 5 ms; returns early on stop). */
void qw_pace_sleep(const qw_pace *p, int64_t ns);

typedef struct qw_replay_hooks {
    void *ctx;
    /* After each message line, before pacing: m is the applied message,
     * NULL when it was rejected (and counted). Optional (leave it NULL when
     * there is nothing to do: it is called per message). */
    void (*on_msg)(void *ctx, const qw_msg *m, int64_t recv_ns);
    /* A connection marker, after the pipeline was flagged. Optional. */
    void (*on_connect)(void *ctx, int64_t recv_ns);
} qw_replay_hooks;

typedef struct qw_replay_opts {
    const char *const *files; /* "-" = stdin */
    size_t nfiles;
    size_t max_line;                   /* 0 = 64 MiB */
    int progress;                      /* draw a progress bar on stderr */
    const volatile sig_atomic_t *stop; /* optional: stop after the current line when set */
    qw_pace *pace;                     /* optional: pace applied messages by feed time */
    qw_replay_hooks hooks;
} qw_replay_opts;

/* What the summary reports about the input (qw_summary_extra). */
typedef struct qw_replay_result {
    uint64_t bytes, meta_lines, connects, input_errors;
    int failed; /* an input could not be opened or read (exit 1) */
} qw_replay_result;

/* Every file through pl, in order. Cannot-open and read errors are logged,
 * counted and set res->failed; the run goes on with the next file.
 * Returns QW_NOMEM only. */
qw_err qw_replay_files(qw_pipeline *pl, const qw_replay_opts *o, qw_replay_result *res);

/* A source of parsed messages (replay --lake): QW_OK with *m, its receive
 * time, and *conn set when a new connection starts there (m may then hold
 * no groups and no trades); anything else ends the run. */
typedef qw_err (*qw_replay_next_fn)(void *src, qw_msg *m, int64_t *recv_ns, int *conn);
/* The same loop over parsed messages: a connection flags every chain,
 * reaches on_connect and is counted in res->connects; a message is applied
 * and reaches on_msg. */
void qw_replay_parsed(qw_pipeline *pl, const qw_replay_opts *o, qw_replay_next_fn next, void *src,
                      qw_replay_result *res);

#endif
