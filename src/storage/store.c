/* store.c: the persistence writer thread: records -> per-table buffers ->
 * Parquet files per (product, day) -> Iceberg fast append (see store.h). */
#define QW_MODULE "store"
#include "storage/store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/spsc.h"
#include "core/time.h"
#include "iceberg/catalog.h"
#include "parquet/parquet.h"
#include "parquet/thrift.h"
#include "storage/store_int.h"
#include "storage/tables.h"

#define POP_BATCH 4096

/* ---- producer side ---- */

qw_err qw_store_put(qw_store *s, const qw_rec *r)
{
    if (s->o.blocking)
        return qw_spsc_push_wait(s->q, r);
    qw_err e = qw_spsc_push(s->q, r);
    if (e == QW_FULL)
        atomic_fetch_add_explicit(&s->st->dropped, 1, memory_order_relaxed);
    return e;
}

static void set_product(qw_rec *r, const char *p, size_t n)
{
    if (n >= sizeof r->product)
        n = sizeof r->product - 1;
    memcpy(r->product, p, n);
    r->product[n] = '\0';
}

/* The next ring slot to fill in place, not zeroed (NULL: full in live mode,
 * counted as dropped; closed). Publish with qw_spsc_publish. */
static qw_rec *claim(qw_store *s)
{
    qw_rec *r = s->o.blocking ? qw_spsc_claim_wait(s->q) : qw_spsc_claim(s->q);
    if (!r && !qw_spsc_closed(s->q))
        atomic_fetch_add_explicit(&s->st->dropped, 1, memory_order_relaxed);
    return r;
}

/* Every field a raw_orderbook record (LEVEL or MARK) carries, written once:
 * the slot is not zeroed first (a 208-byte memset per row cost more than the
 * row's own stores), and the writer reads only these fields of such a record
 * (store_buf.c). The product is zero-padded (store_buf.c compares 8 bytes at
 * a time). */
static void put_book_rec(qw_rec *r, uint8_t kind, uint8_t side, uint8_t snapshot, uint8_t has_seq,
                         const char *product, size_t plen)
{
    r->kind = kind;
    r->side = side;
    r->is_snapshot = snapshot;
    r->label = 0;
    r->has_p = 0;
    r->ready = 0;
    r->has_seq = has_seq;
    r->_pad = 0;
    memset(r->product, 0, sizeof r->product);
    set_product(r, product, plen);
}

/* Trade de-duplication: Coinbase trade ids grow per product, and the trades
 * a (re)subscribe sends first (last_match, a market_trades snapshot) are
 * ones already written. A trade whose numeric id is at or below the highest
 * id written for its product before this message is a repeat; ids within one
 * message may come in any order (Advanced lists newest first). A non-numeric
 * id, or a product beyond the table, is never a repeat. */
static uint64_t *seen_slot(qw_store *s, const qw_trade *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t i = 0; i < t->product_len; i++)
        h = (h ^ (unsigned char)t->product[i]) * 0x100000001b3ull;
    if (t->product_len >= sizeof s->seen[0].product)
        return NULL;
    for (size_t k = 0; k < QW__TRADE_SEEN; k++) {
        size_t j = (size_t)((h + k) % QW__TRADE_SEEN);
        if (!s->seen[j].product[0]) {
            memcpy(s->seen[j].product, t->product, t->product_len);
            return &s->seen[j].max_id; /* 0: nothing seen yet */
        }
        if (strncmp(s->seen[j].product, t->product, sizeof s->seen[j].product) == 0)
            return &s->seen[j].max_id;
    }
    return NULL;
}

/* the trade id as a number + 1 (0: not numeric) */
static uint64_t trade_num(const qw_trade *t)
{
    uint64_t id = 0;
    const char *p = t->trade_id;
    if (!*p)
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || id > (UINT64_MAX - 10) / 10)
            return 0;
        id = id * 10 + (uint64_t)(*p - '0');
    }
    return id + 1;
}

void qw_store_put_msg(qw_store *s, const qw_msg *m, int64_t recv_ns)
{
    if (m->type != QW_MSG_BOOK && m->type != QW_MSG_TRADES)
        return;
    int64_t id = ++s->msg_id;
    qw_rec *r;
    if (m->gap && (r = claim(s))) {
        put_book_rec(r, QW_REC_MARK, 3, 0, 0, "*", 1);
        r->t_ns = 0;
        r->recv_ns = recv_ns;
        r->msg_id = id;
        r->u.level.price = r->u.level.seq = r->u.level.grp_ns = 0;
        r->u.level.size = 0;
        qw_spsc_publish(s->q);
    }
    for (size_t g = 0; g < m->ngroups; g++) {
        const qw_group *gr = &m->groups[g];
        if (gr->kind == QW_GRP_HEARTBEAT)
            continue;
        for (uint32_t k = 0; k < gr->count; k++) {
            const qw_chg *c = &m->chg[gr->first + k];
            if (!(r = claim(s)))
                continue;
            put_book_rec(r, QW_REC_LEVEL, c->side, gr->kind == QW_GRP_SNAPSHOT, m->seq >= 0,
                         gr->product, gr->product_len);
            r->t_ns = c->t_ns ? c->t_ns : gr->t_ns;
            r->recv_ns = recv_ns;
            r->msg_id = id;
            r->u.level.price = c->px;
            r->u.level.size = c->sz;
            r->u.level.seq = m->seq;
            r->u.level.grp_ns = gr->t_ns;
            qw_spsc_publish(s->q);
        }
    }
    for (size_t i = 0; i < m->ntrades; i++) {
        const qw_trade *t = &m->trades[i];
        uint64_t num = trade_num(t), *seen = num ? seen_slot(s, t) : NULL;
        if (seen && num <= *seen) {
            atomic_fetch_add_explicit(&s->st->trades_deduplicated, 1, memory_order_relaxed);
            continue;
        }
        if (!(r = claim(s)))
            continue;
        memset(r, 0, sizeof *r);
        r->kind = QW_REC_TRADE;
        r->side = t->aggressor;
        r->is_snapshot = t->snapshot;
        set_product(r, t->product, t->product_len);
        r->t_ns = t->t_ns;
        r->recv_ns = recv_ns;
        r->msg_id = id;
        r->u.trade.price = t->px;
        r->u.trade.size = t->sz;
        snprintf(r->u.trade.id, sizeof r->u.trade.id, "%s", t->trade_id);
        qw_spsc_publish(s->q);
    }
    for (size_t i = 0; i < m->ntrades; i++) { /* this message's ids count from the next one */
        uint64_t num = trade_num(&m->trades[i]), *seen = num ? seen_slot(s, &m->trades[i]) : NULL;
        if (seen && num > *seen)
            *seen = num;
    }
}

void qw_store_put_connect(qw_store *s, int64_t recv_ns)
{
    if (!s)
        return;
    qw_rec r;
    memset(&r, 0, sizeof r);
    r.kind = QW_REC_MARK;
    r.side = 2;
    set_product(&r, "*", 1);
    r.recv_ns = recv_ns;
    r.msg_id = ++s->msg_id;
    qw_store_put(s, &r);
}

void qw_store_put_sample(qw_store *s, const char *product, const qw_sample *x)
{
    qw_rec r;
    memset(&r, 0, sizeof r);
    r.kind = QW_REC_FEATURES;
    set_product(&r, product, strlen(product));
    r.t_ns = x->f.t_ns;
    memcpy(r.u.feat.x, x->f.x, sizeof r.u.feat.x);
    r.u.feat.best_bid = x->f.best_bid;
    r.u.feat.best_ask = x->f.best_ask;
    r.u.feat.mid = x->f.mid;
    r.has_p = !isnan(x->p);
    r.u.feat.p = x->p;
    r.u.feat.stability = x->stability;
    r.u.feat.n_learned = (int64_t)x->n_learned;
    qw_store_put(s, &r);
}

void qw_store_put_label(qw_store *s, const char *product, const qw_labeled *x, int ready)
{
    qw_rec r;
    memset(&r, 0, sizeof r);
    r.kind = QW_REC_LABEL;
    set_product(&r, product, strlen(product));
    r.t_ns = x->s.f.t_ns;
    memcpy(r.u.lab.x, x->s.f.x, sizeof r.u.lab.x);
    r.u.lab.mid = x->s.f.mid;
    r.u.lab.mid_future = x->mid_future;
    r.label = (int8_t)x->label;
    r.has_p = !isnan(x->s.p);
    r.u.lab.p = x->s.p;
    r.ready = (uint8_t)ready;
    r.u.lab.n_learned = (int64_t)x->s.n_learned;
    qw_store_put(s, &r);
}

/* ---- writer thread ---- */

static int table_of(const qw_rec *r)
{
    switch (r->kind) {
    case QW_REC_LEVEL:
    case QW_REC_MARK: return QW_TBL_RAW_ORDERBOOK;
    case QW_REC_TRADE: return QW_TBL_RAW_TRADES;
    case QW_REC_FEATURES: return QW_TBL_FEATURES;
    case QW_REC_LABEL: return QW_TBL_LABELS;
    default: return -1;
    }
}

static void day_str(int64_t day, char *out, size_t cap)
{
    if (day == INT32_MIN) {
        snprintf(out, cap, "null");
        return;
    }
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Write one partition's buffered rows to a new Parquet file. */
static qw_err write_file(qw_store *s, int t, const pbuf *p, qw_ice_data_file *df)
{
    const qw_tbl_def *d = &qw_tables[t];
    char ds[32], path[QW_ICE_LOC_MAX], uuid[37];
    day_str(p->day, ds, sizeof ds);
    qw_ice_uuid(uuid);
    /* a file:// URI (the warehouse is at most 700 bytes); fileio makes the directories */
    snprintf(path, sizeof path,
             "%.700s/%s/%s/data/product_id=%s/exchange_ts_day=%s/%05llu-%s.parquet", s->wh,
             QW_TBL_NS, d->name, p->product, ds, (unsigned long long)++s->file_seq, uuid);
    qw_pq_column cols[QW_TBL_MAX_COLS];
    qw_pq_vec vec[QW_TBL_MAX_COLS];
    qw__store_dicts dd;
    if (qw__store_columns(s, t, p, &dd, cols, vec) != 0)
        return QW_NOMEM;
    qw_pq_opts po = {.compression = s->o.compression == QW_COMP_SNAPPY ? QW_PQ_SNAPPY
                                    : s->o.compression == QW_COMP_NONE ? QW_PQ_UNCOMPRESSED
                                                                       : QW_PQ_ZSTD,
                     .io = s->io,
                     .dictionary = 1,
                     .ctx = s->pqx,
                     .zstd_level = s->o.zstd_level,
                     .defer_sync = 1 /* the committer qw_fileio_sync()s */};
    qw_pq_writer *w;
    char eb[256];
    qw_err e = qw_pq_writer_open(&w, path, cols, (size_t)d->ncols, &po, eb, sizeof eb);
    if (e != QW_OK) {
        if (qw_log_ratelimit(&s->rl))
            QW_LOG(ERROR, "cannot open %s: %s", path, eb);
        return e;
    }
    e = qw_pq_write_rows(w, vec, p->n);
    if (e != QW_OK) {
        qw_pq_writer_abort(w);
        if (qw_log_ratelimit(&s->rl))
            QW_LOG(ERROR, "writing %s: %s", path, qw_strerror(e));
        return e;
    }
    qw_pq_file_stats *ps = &s->ps; /* per store: writer thread only; large */
    e = qw_pq_writer_close(w, ps);
    if (e != QW_OK) { /* nothing is left under the name */
        if (qw_log_ratelimit(&s->rl))
            QW_LOG(ERROR, "closing %s: %s", path, qw_strerror(e));
        return e;
    }
    memset(df, 0, sizeof *df);
    df->content = QW_ICE_CONTENT_DATA;
    snprintf(df->path, sizeof df->path, "%s", path);
    snprintf(df->format, sizeof df->format, "PARQUET");
    df->npart = 2;
    df->part[0].type = QW_ICE_STRING;
    snprintf(df->part[0].s, sizeof df->part[0].s, "%s", p->product);
    df->part[1].type = QW_ICE_DATE;
    df->part[1].is_null = p->day == INT32_MIN;
    df->part[1].i = p->day == INT32_MIN ? 0 : p->day;
    df->record_count = (int64_t)ps->rows;
    df->file_size_in_bytes = (int64_t)ps->file_bytes;
    qw_tbl_ice_stats(d, ps, df);
    return QW_OK;
}

static qw_err flush_table(qw_store *s, int t)
{
    tbuf *b = &s->buf[t];
    if (!b->n)
        return QW_OK;
    if (!qw__commit_room(s))
        return QW_AGAIN; /* commits are behind: keep buffering (bounded by buffers_full) */
    int64_t t0 = qw_now_mono_ns();
    /* the commit lease must cover these files before the first exists
     * (store_lease.c): published here, read by the committer's renewal */
    int64_t since_ms = qw_now_wall_ns() / 1000000;
    atomic_store(&s->writing_ms[t], since_ms);
    /* one file per non-empty partition, in order of first appearance */
    size_t *ord = qw_malloc(b->np * sizeof *ord);
    qw_ice_data_file *files = qw_malloc(b->np * sizeof *files);
    if (!ord || !files) {
        qw_free(ord), qw_free(files);
        atomic_store(&s->writing_ms[t], 0);
        return QW_NOMEM;
    }
    size_t nord = 0;
    for (size_t k = 0; k < b->np; k++) {
        if (!b->p[k].n)
            continue;
        size_t j = nord++;
        while (j > 0 && b->p[ord[j - 1]].order > b->p[k].order) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = k;
    }
    size_t nfiles = 0;
    qw_err e = QW_OK;
    for (size_t j = 0; j < nord && e == QW_OK; j++) {
        e = write_file(s, t, &b->p[ord[j]], &files[nfiles]);
        if (e == QW_OK)
            nfiles++;
    }
    if (e != QW_OK) { /* uncommitted: remove; the rows stay buffered for a retry */
        qw__remove_files(s->io, files, nfiles);
        atomic_store(&s->writing_ms[t], 0);
        atomic_fetch_add(&s->st->errors, 1);
        qw_free(files);
        qw_free(ord);
        return e;
    }
    qw__job j = {.t = t,
                 .nfiles = nfiles,
                 .rows = b->n,
                 .files = files,
                 .t0 = t0,
                 .snap_id = qw_ice_random_id(),
                 .since_ms = since_ms};
    qw__commit_push(s, &j);             /* the committer owns the files now */
    atomic_store(&s->writing_ms[t], 0); /* after the push: the job protects them now */
    b->n = 0;
    b->seq = 0;
    b->last = 0;
    for (size_t k = 0; k < b->np; k++) {
        b->p[k].n = 0;
        b->p[k].sb.n = 0;
    }
    qw_free(ord);
    return QW_OK;
}

static void backoff_after(qw_store *s, qw_err worst)
{
    if (worst != QW_OK && worst != QW_AGAIN) { /* AGAIN: commits behind, not a failure */
        s->retry_ms = s->retry_ms ? (s->retry_ms * 2 > 30000 ? 30000 : s->retry_ms * 2) : 250;
        s->retry_at_ns = qw_now_mono_ns() + (int64_t)s->retry_ms * QW_NS_PER_MS;
    } else {
        s->retry_ms = 0;
        s->retry_at_ns = 0;
    }
}

static qw_err flush_all(qw_store *s)
{
    qw_err worst = QW_OK;
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        qw_err e = flush_table(s, t);
        if (e != QW_OK && (worst == QW_OK || worst == QW_AGAIN))
            worst = e;
    }
    s->last_flush_ns = qw_now_mono_ns();
    backoff_after(s, worst);
    return worst;
}

static int buffers_full(const qw_store *s)
{
    for (int t = 0; t < QW_TBL_COUNT; t++)
        if (s->buf[t].n >= (size_t)s->o.flush_rows * 4)
            return 1;
    return 0;
}

static void writer_cpu(qw_store *s)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store_explicit(&s->st->writer_cpu_ns,
                              (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                              memory_order_relaxed);
}

static void *writer_main(void *arg)
{
    qw_store *s = arg;
    pthread_setname_np(pthread_self(), "qw-writer"); /* top, perf, gdb */
    s->last_flush_ns = qw_now_mono_ns();
    for (;;) {
        int64_t now = qw_now_mono_ns();
        int due = now - s->last_flush_ns >= s->o.flush_ms * QW_NS_PER_MS;
        int want = 0;
        for (int t = 0; t < QW_TBL_COUNT; t++)
            want |= s->buf[t].n >= (size_t)s->o.flush_rows;
        if ((due || want) && (!s->retry_at_ns || now >= s->retry_at_ns)) {
            if (due) { /* the time trigger flushes every table */
                int any = 0;
                for (int t = 0; t < QW_TBL_COUNT; t++)
                    any |= s->buf[t].n > 0;
                if (any)
                    flush_all(s);
                else
                    s->last_flush_ns = now;
            } else { /* the row trigger flushes the tables that reached it */
                qw_err worst = QW_OK;
                for (int t = 0; t < QW_TBL_COUNT; t++)
                    if (s->buf[t].n >= (size_t)s->o.flush_rows) {
                        qw_err e = flush_table(s, t);
                        worst = e != QW_OK ? e : worst;
                    }
                backoff_after(s, worst);
            }
        }
        size_t n = 0;
        void *head = NULL;
        if (!buffers_full(s)) { /* records are read in place in the ring (no copy) */
            int64_t wait = s->o.flush_ms * QW_NS_PER_MS - (qw_now_mono_ns() - s->last_flush_ns);
            n = qw_spsc_peek_wait(s->q, &head, POP_BATCH,
                                  wait > QW_NS_PER_MS ? wait : QW_NS_PER_MS);
        } else if (!s->retry_at_ns) { /* commits behind: until a job slot frees */
            qw__commit_wait_room_ns(s, 50 * QW_NS_PER_MS);
        } else {
            struct timespec ts = {0, 50 * 1000000L}; /* commits failing: wait for the retry */
            nanosleep(&ts, NULL);
        }
        atomic_store_explicit(&s->st->queued, qw_spsc_size(s->q), memory_order_relaxed);
        writer_cpu(s);
        int flush_now = 0;
        const qw_rec *batch = head;
        for (size_t i = 0; i < n; i++) {
            if (batch[i].kind == QW_REC_FLUSH) {
                flush_now = 1;
                continue;
            }
            int t = table_of(&batch[i]);
            if (t < 0)
                continue;
            if (qw__store_buffer_row(s, t, &batch[i]) != 0)
                atomic_fetch_add(&s->st->dropped, 1);
        }
        if (n)
            qw_spsc_release(s->q, n);
        if (flush_now)
            flush_all(s);
        if (n == 0 && qw_spsc_closed(s->q) && qw_spsc_size(s->q) == 0)
            break;
        int64_t hard = atomic_load(&s->hard_deadline_ns);
        if (hard && qw_now_mono_ns() >= hard && qw_spsc_closed(s->q)) {
            size_t left = qw_spsc_size(s->q); /* records, about one row each */
            if (left) {
                QW_LOG(ERROR, "close timeout: %zu queued records given up", left);
                atomic_fetch_add(&s->st->rows_given_up, left);
                s->final_error = 1;
            }
            break;
        }
    }
    /* final flush: everything buffered goes to the committer (which, once
     * closing, gives up on failing commits after a grace period); failing
     * file writes get a few attempts, then what is left is reported */
    for (int attempt = 0; attempt < 20;) {
        qw_err worst = QW_OK;
        int again = 0;
        for (int t = 0; t < QW_TBL_COUNT; t++) {
            qw_err e = flush_table(s, t);
            if (e == QW_AGAIN)
                again = 1;
            else if (e != QW_OK)
                worst = e;
        }
        if (!again && worst == QW_OK)
            break;
        if (again)
            qw__commit_wait_room(s);
        int64_t hard = atomic_load(&s->hard_deadline_ns);
        if (hard && qw_now_mono_ns() >= hard)
            break;
        if (worst != QW_OK) {
            attempt++;
            struct timespec ts = {0, 250 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (int t = 0; t < QW_TBL_COUNT; t++)
        if (s->buf[t].n) {
            QW_LOG(ERROR, "%s: %zu rows could not be committed", qw_tables[t].name, s->buf[t].n);
            atomic_fetch_add(&s->st->rows_given_up, s->buf[t].n);
            s->final_error = 1;
        }
    writer_cpu(s);
    return NULL;
}

/* ---- open / close ---- */

qw_err qw_store_open(qw_store **out, const qw_store_opts *o, qw_store_stats *stats, char *errbuf,
                     size_t errlen)
{
    qw_store *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->o = *o;
    for (size_t i = 0; i < o->features.n && i < QW_NFEATURES_ALL; i++)
        if (o->features.idx[i] >= QW_NFEATURES && o->features.idx[i] < QW_NFEATURES_ALL)
            s->feat_cols |= 1u << (o->features.idx[i] - QW_NFEATURES);
    if (s->o.flush_rows <= 0)
        s->o.flush_rows = 50000;
    if (s->o.flush_ms <= 0)
        s->o.flush_ms = 5000;
    if (!s->o.queue_records) /* store.h: a ring sized for the mode */
        s->o.queue_records = s->o.blocking ? QW_STORE_QUEUE_REPLAY : QW_STORE_QUEUE_LIVE;
    s->st = stats;
    s->rl = (qw_ratelimit){.first = 5, .every = 100};
    qw_ice_uuid(s->run_id);
    if (o->shard_n > 0) /* rows of a product shard are traceable to it */
        snprintf(s->run_id + 36, sizeof s->run_id - 36, "-s%dof%d", o->shard_i, o->shard_n);
    qw_err e = qw_store_resolve(o->warehouse, o->catalog_uri, s->wh, sizeof s->wh, s->caturi,
                                sizeof s->caturi, errbuf, errlen);
    if (e != QW_OK)
        goto fail;
    snprintf(s->whpath, sizeof s->whpath, "%.4000s",
             strncmp(s->wh, "file://", 7) == 0 ? s->wh + 7 : s->wh);
    if (strlen(s->whpath) > 700) {
        snprintf(errbuf, errlen, "warehouse path longer than 700 bytes");
        e = QW_INVAL;
        goto fail;
    }
    if (!o->io) { /* the bucket is checked before the catalog is touched */
        if ((e = qw_store_fileio(&s->io, s->wh, &o->os, errbuf, errlen)) != QW_OK)
            goto fail;
        s->own_io = 1;
    } else {
        s->io = o->io;
    }
    qw__os_counters(s);
    if ((e = qw_catalog_open(&s->cat, s->caturi, "quotewatch", errbuf, errlen)) != QW_OK)
        goto fail;
    qw_ice_catalog_sql(&s->ops, s->cat);
    if ((e = qw__lease_take(s, errbuf, errlen)) != QW_OK) /* before any file is written */
        goto fail;
    qw_ice_spec spec;
    qw_tbl_spec(&spec);
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        qw_ice_schema sc;
        qw_tbl_schema(&qw_tables[t], &sc);
        char loc[QW_ICE_LOC_MAX], tl[QW_ICE_LOC_MAX];
        snprintf(tl, sizeof tl, "%.900s/%s/%s", s->wh, QW_TBL_NS, qw_tables[t].name);
        /* upkeep defaults (docs/STORAGE.md "Maintenance"): at one commit per
         * 5 s a table makes ~17,000 snapshots a day */
        qw_ice_kv props[] = {{"write.format.default", "parquet"},
                             {"write.metadata.delete-after-commit.enabled", "true"},
                             {"write.metadata.previous-versions-max", "100"},
                             {"history.expire.max-snapshot-age-ms", "21600000"},
                             {"history.expire.min-snapshots-to-keep", "1"}};
        e = qw_ice_create_table(&s->ops, s->io, QW_TBL_NS, qw_tables[t].name, tl, &sc, &spec, props,
                                sizeof props / sizeof props[0], loc, sizeof loc);
        if (e == QW_EXISTS) {
            snprintf(errbuf, errlen,
                     "table %s.%s is not in the catalog, but %s holds its committed metadata "
                     "(%s): the catalog was lost or emptied. Creating a new table would orphan "
                     "that data; run `quotewatch lake register` with the same warehouse and "
                     "catalog to register the existing tables",
                     QW_TBL_NS, qw_tables[t].name, tl, loc);
            goto fail;
        }
        if (e != QW_OK) {
            snprintf(errbuf, errlen, "cannot create table %s.%s: %s (%s)", QW_TBL_NS,
                     qw_tables[t].name, qw_strerror(e), qw_catalog_errmsg(s->cat));
            goto fail;
        }
        /* a table from an earlier version (decimal(18, 8) prices and sizes)
         * is widened in place by an allowed type promotion */
        int promoted;
        char why[256];
        if ((e = qw_ice_evolve_schema(&s->ops, s->io, QW_TBL_NS, qw_tables[t].name, &sc, &promoted,
                                      why, sizeof why)) != QW_OK) {
            snprintf(errbuf, errlen, "table %s.%s: cannot evolve its schema: %s", QW_TBL_NS,
                     qw_tables[t].name, why);
            goto fail;
        }
    }
    if ((e = qw_spsc_create(&s->q, s->o.queue_records, sizeof(qw_rec))) != QW_OK)
        goto fail;
    if ((e = qw_pq_ctx_new(&s->pqx)) != QW_OK)
        goto fail;
    if ((e = qw__commit_start(s)) != QW_OK)
        goto fail;
    atomic_store(&stats->enabled, 1);
    atomic_store(&stats->capacity, qw_spsc_capacity(s->q));
    if (pthread_create(&s->th, NULL, writer_main, s) != 0) {
        e = QW_NOMEM;
        goto fail;
    }
    s->started = 1;
    if ((e = qw__maint_start(s)) != QW_OK)
        QW_LOG(ERROR, "--maintain: cannot start the maintenance thread: %s", qw_strerror(e));
    QW_LOG(INFO, "persistence: warehouse %s, run %s, flush every %ld rows / %ld ms", s->wh,
           s->run_id, s->o.flush_rows, s->o.flush_ms);
    *out = s;
    return QW_OK;
fail:
    qw__commit_finish(s);
    if (s->cat)
        qw__lease_release(s);
    qw_pq_ctx_free(s->pqx);
    qw_spsc_destroy(s->q);
    if (s->own_io)
        qw_fileio_destroy(s->io);
    qw_catalog_close(s->cat);
    qw_free(s);
    return e;
}

void qw_store_begin_close(qw_store *s)
{
    int64_t none = 0;
    if (s && s->o.close_timeout_ms > 0)
        atomic_compare_exchange_strong(&s->hard_deadline_ns, &none,
                                       qw_now_mono_ns() + s->o.close_timeout_ms * QW_NS_PER_MS);
}

qw_err qw_store_close(qw_store *s)
{
    if (!s)
        return QW_OK;
    int64_t t0 = qw_now_mono_ns();
    qw_store_begin_close(s);
    qw__maint_stop(s); /* its round in progress ends on its own; joined after the commits */
    qw_spsc_close(s->q);
    if (s->cstarted)
        qw__commit_closing(s);
    if (s->started)
        pthread_join(s->th, NULL);
    qw__commit_finish(s); /* commits what the writer queued last */
    qw__maint_join(s);
    qw__lease_release(s);
    qw__os_counters(s);
    qw_err e = s->final_error ? QW_IO : QW_OK;
    {
        uint64_t rows = 0;
        for (int t = 0; t < QW_TBL_COUNT; t++)
            rows += atomic_load(&s->st->rows_written[t]);
        qw_log_write(e == QW_OK ? QW_LOG_INFO : QW_LOG_ERROR, QW_MODULE,
                     "persistence closed in %.2f s: %llu rows committed, %llu given up",
                     (double)(qw_now_mono_ns() - t0) / 1e9, (unsigned long long)rows,
                     (unsigned long long)atomic_load(&s->st->rows_given_up));
    }
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        for (size_t k = 0; k < s->buf[t].np; k++)
            qw__store_part_free(&s->buf[t].p[k], t);
        qw_free(s->buf[t].p);
    }
    qw_free(s->zeros);
    qw_pq_ctx_free(s->pqx);
    qw_spsc_destroy(s->q);
    if (s->own_io)
        qw_fileio_destroy(s->io);
    qw_catalog_close(s->cat);
    qw_free(s);
    return e;
}
