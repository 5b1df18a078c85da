/* ice_refcache.c: what a manifest list and a manifest reference, cached
 * across snapshot expiries in one process (ice_int.h "reference cache").
 *
 * Snapshot expiry must know every manifest a kept snapshot's list names,
 * and, when a manifest is no longer named, every data file the kept
 * manifests list live. Read from scratch each time, that is every kept
 * list and every live manifest of the table: the `--maintain` thread
 * expiring every second paid for the table's whole retained history each
 * round (bench/lake_day.sh: ~200 lists, 0.3-1.2 s a round on a loaded
 * machine). Manifest lists and manifests are immutable once a committed
 * snapshot names them (their names carry a UUID or a snapshot id and are
 * never rewritten), so what they reference is read once and kept while
 * expiries keep asking for it: a round reads only the lists and manifests
 * committed since the last one.
 *
 * Only files named by committed metadata are cached (expire reads nothing
 * else). An entry not used by the last EVICT_AFTER calls is freed, so the
 * cache holds what the retained snapshots reference, not the history.
 * QW_ICE_REFCACHE=0 in the environment turns it off (every read from the
 * file store, as before). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "iceberg/ice_int.h"

#define EVICT_AFTER 16 /* calls (expire of one table each) */

typedef struct rc_man {
    uint64_t h;
    char *key; /* the manifest's path as the list names it */
    qw_ice_manifest_file mf;
    char **live; /* local paths of its live data files (has_live) */
    size_t nlive;
    int has_live;
    uint64_t used;
} rc_man;

typedef struct rc_list {
    uint64_t h;
    char *key;
    size_t *man; /* indices into mans */
    size_t n;
    uint64_t used;
} rc_list;

static struct {
    pthread_mutex_t mu;
    int off; /* -1: not decided */
    uint64_t gen;
    rc_list *lists;
    size_t nl, cl;
    rc_man *mans;
    size_t nm, cm;
    qw_ice_refcache_stats st;
} C = {.mu = PTHREAD_MUTEX_INITIALIZER, .off = -1};

static uint64_t fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = qw_malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static long find_man(const char *path, uint64_t h)
{
    for (size_t i = 0; i < C.nm; i++)
        if (C.mans[i].h == h && strcmp(C.mans[i].key, path) == 0)
            return (long)i;
    return -1;
}

static void free_man(rc_man *m)
{
    for (size_t i = 0; i < m->nlive; i++)
        qw_free(m->live[i]);
    qw_free(m->live);
    qw_free(m->key);
}

/* Drop what no call used lately; list entries index mans, so both go
 * together (a kept list's manifests are used with it). */
static void evict(void)
{
    if (C.gen < EVICT_AFTER)
        return;
    uint64_t old = C.gen - EVICT_AFTER;
    size_t *map = qw_malloc((C.nm ? C.nm : 1) * sizeof *map);
    if (!map)
        return;
    size_t k = 0;
    for (size_t i = 0; i < C.nm; i++) {
        if (C.mans[i].used <= old) {
            free_man(&C.mans[i]);
            map[i] = (size_t)-1;
            C.st.evicted++;
            continue;
        }
        map[i] = k;
        C.mans[k++] = C.mans[i];
    }
    C.nm = k;
    k = 0;
    for (size_t i = 0; i < C.nl; i++) {
        rc_list *l = &C.lists[i];
        int gone = l->used <= old;
        for (size_t j = 0; !gone && j < l->n; j++)
            gone = (l->man[j] = map[l->man[j]]) == (size_t)-1;
        if (gone) {
            qw_free(l->key);
            qw_free(l->man);
            C.st.evicted++;
            continue;
        }
        C.lists[k++] = *l;
    }
    C.nl = k;
    qw_free(map);
}

void qw__ice_refcache_begin(void)
{
    pthread_mutex_lock(&C.mu);
    if (C.off < 0) {
        const char *v = getenv("QW_ICE_REFCACHE");
        C.off = v && strcmp(v, "0") == 0;
    }
    C.gen++;
}

static void clear(void)
{
    for (size_t i = 0; i < C.nm; i++)
        free_man(&C.mans[i]);
    for (size_t i = 0; i < C.nl; i++) {
        qw_free(C.lists[i].key);
        qw_free(C.lists[i].man);
    }
    qw_free(C.mans);
    qw_free(C.lists);
    C.mans = NULL;
    C.lists = NULL;
    C.nm = C.cm = C.nl = C.cl = 0;
}

void qw__ice_refcache_end(void)
{
    if (C.off) /* QW_ICE_REFCACHE=0: nothing kept for the next call */
        clear();
    else
        evict();
    pthread_mutex_unlock(&C.mu);
}

static qw_err read_file(qw_fileio *io, const char *path, const char *what, uint8_t **buf,
                        size_t *len, char *err, size_t errlen)
{
    qw_err e = qw_fileio_read(io, path, QW__ICE_MAX_AVRO, buf, len);
    if (e != QW_OK)
        QW_SETERR(err, errlen, "read %s %s: %s", what, path, qw_err_name(e));
    return e;
}

/* a manifest entry for mf (new or existing), -1 out of memory */
static long put_man(const qw_ice_manifest_file *mf)
{
    uint64_t h = fnv(mf->path);
    long i = find_man(mf->path, h);
    if (i >= 0)
        return i;
    if (C.nm == C.cm) {
        size_t nc = C.cm ? C.cm * 2 : 64;
        rc_man *nv = qw_realloc(C.mans, nc * sizeof *nv);
        if (!nv)
            return -1;
        C.mans = nv;
        C.cm = nc;
    }
    rc_man *m = &C.mans[C.nm];
    memset(m, 0, sizeof *m);
    if (!(m->key = dup(mf->path)))
        return -1;
    m->h = h;
    m->mf = *mf;
    m->used = C.gen;
    return (long)C.nm++;
}

qw_err qw__ice_refcache_list(qw_fileio *io, const char *list, const qw_ice_manifest_file ***mfs,
                             size_t *n, char *err, size_t errlen)
{
    *mfs = NULL;
    *n = 0;
    uint64_t h = fnv(list);
    rc_list *l = NULL;
    for (size_t i = 0; i < C.nl && !l; i++)
        if (C.lists[i].h == h && strcmp(C.lists[i].key, list) == 0)
            l = &C.lists[i];
    if (!l) {
        uint8_t *buf;
        size_t len, nmf;
        qw_ice_manifest_file *v;
        qw_err e = read_file(io, list, "manifest list", &buf, &len, err, errlen);
        if (e != QW_OK)
            return e;
        e = qw_ice_manifest_list_read(buf, len, &v, &nmf, err, errlen);
        qw_free(buf);
        if (e != QW_OK)
            return e;
        C.st.lists_read++;
        if (C.nl == C.cl) {
            size_t nc = C.cl ? C.cl * 2 : 64;
            rc_list *nv = qw_realloc(C.lists, nc * sizeof *nv);
            if (!nv) {
                qw_free(v);
                return QW_NOMEM;
            }
            C.lists = nv;
            C.cl = nc;
        }
        l = &C.lists[C.nl];
        memset(l, 0, sizeof *l);
        l->man = qw_malloc((nmf ? nmf : 1) * sizeof *l->man);
        l->key = dup(list);
        for (size_t k = 0; l->man && l->key && k < nmf; k++) {
            long mi = put_man(&v[k]);
            if (mi < 0)
                break;
            l->man[l->n++] = (size_t)mi;
        }
        qw_free(v);
        if (!l->man || !l->key || l->n != nmf) {
            qw_free(l->man);
            qw_free(l->key);
            return QW_NOMEM;
        }
        l->h = h;
        C.nl++;
    } else {
        C.st.lists_hit++;
    }
    l->used = C.gen;
    const qw_ice_manifest_file **out = qw_malloc((l->n ? l->n : 1) * sizeof *out);
    if (!out)
        return QW_NOMEM;
    for (size_t k = 0; k < l->n; k++) {
        C.mans[l->man[k]].used = C.gen;
        out[k] = &C.mans[l->man[k]].mf;
    }
    *mfs = out;
    *n = l->n;
    return QW_OK;
}

qw_err qw__ice_refcache_live(qw_fileio *io, const qw_ice_meta *m, const qw_ice_manifest_file *mf,
                             const char *const **paths, size_t *n, char *err, size_t errlen)
{
    long mi = put_man(mf);
    if (mi < 0)
        return QW_NOMEM;
    rc_man *c = &C.mans[mi];
    c->used = C.gen;
    if (c->has_live) {
        C.st.manifests_hit++;
    } else {
        uint8_t *buf;
        size_t len, ndf;
        qw_ice_data_file *df;
        qw_err e = read_file(io, mf->path, "manifest", &buf, &len, err, errlen);
        if (e != QW_OK)
            return e;
        e = qw_ice_manifest_read(buf, len, mf, m, &df, &ndf, err, errlen);
        qw_free(buf);
        if (e != QW_OK)
            return e;
        C.st.manifests_read++;
        char **live = qw_malloc((ndf ? ndf : 1) * sizeof *live);
        size_t nl = 0;
        for (size_t j = 0; live && j < ndf; j++) {
            char p[QW_ICE_LOC_MAX];
            if (df[j].status == QW_ICE_STATUS_DELETED)
                continue; /* a replace or delete removed it: no snapshot of this list reads it */
            if (qw_fileio_local_path(df[j].path, p, sizeof p) != QW_OK)
                snprintf(p, sizeof p, "%s", df[j].path);
            if (!(live[nl] = dup(p)))
                break;
            nl++;
        }
        size_t want = 0;
        for (size_t j = 0; j < ndf; j++)
            want += df[j].status != QW_ICE_STATUS_DELETED;
        qw_free(df);
        if (!live || nl != want) {
            for (size_t j = 0; live && j < nl; j++)
                qw_free(live[j]);
            qw_free(live);
            return QW_NOMEM;
        }
        c->live = live;
        c->nlive = nl;
        c->has_live = 1;
    }
    *paths = (const char *const *)c->live;
    *n = c->nlive;
    return QW_OK;
}

void qw__ice_refcache_stats(qw_ice_refcache_stats *out)
{
    pthread_mutex_lock(&C.mu);
    *out = C.st;
    out->lists = C.nl;
    out->manifests = C.nm;
    pthread_mutex_unlock(&C.mu);
}

void qw__ice_refcache_clear(void)
{
    pthread_mutex_lock(&C.mu);
    clear();
    memset(&C.st, 0, sizeof C.st);
    pthread_mutex_unlock(&C.mu);
}
