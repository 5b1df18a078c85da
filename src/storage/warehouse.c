/* warehouse.c: where the lake lives: warehouse URI -> absolute path (or an
 * object-store URI), the default catalog inside it, the fileio for it
 * (shared by the writer, the reader and `quotewatch lake`). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/store.h"

int qw_store_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void qw_store_opts_from_config(qw_store_opts *o, const qw_config *c, int blocking)
{
    *o = (qw_store_opts){.warehouse = c->warehouse,
                         .catalog_uri = c->catalog_uri,
                         .flush_rows = c->flush_rows,
                         .flush_ms = c->flush_ms,
                         .compression = c->compression,
                         .blocking = blocking,
                         .zstd_level = c->zstd_level,
                         .delta = c->int_delta,
                         .queue_records = c->queue_records,
                         .os = {c->s3_endpoint, c->s3_path_style},
                         .maintain_ms = (long)(c->maintain_s * 1000),
                         .maintain_expire_age_ms = (long)(c->maintain_expire_age_s * 1000),
                         .maintain_target_size = c->maintain_target_size,
                         .shard_i = c->shard_i,
                         .shard_n = c->shard_n,
                         .features = qw_featset_of(c->bt_features[0]),
                         /* replay commits everything; live has a shutdown budget */
                         .close_timeout_ms = blocking ? 0 : (long)(c->close_timeout_s * 1000)};
}

void qw_store_objstore_cfg(qw_objstore_cfg *o, const qw_config *c)
{
    *o = (qw_objstore_cfg){c->s3_endpoint, c->s3_path_style};
}

qw_err qw_store_fileio(qw_fileio **io, const char *wh, const qw_objstore_cfg *os, char *errbuf,
                       size_t errlen)
{
    qw_err e = qw_objstore_fileio_open(io, wh, os, errbuf, errlen);
    if (e == QW_NOMEM)
        snprintf(errbuf, errlen, "fileio: out of memory");
    return e;
}

static int is_postgres(const char *uri)
{
    return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0 ||
           strncmp(uri, "postgresql+", 11) == 0;
}

/* s3://bucket/prefix, gs://bucket/prefix: kept as given, no trailing '/'. */
static qw_err resolve_remote(const char *w, const char *catalog_uri, char *wh, size_t whcap,
                             char *cat, size_t catcap, char *errbuf, size_t errlen)
{
    size_t n = strlen(w);
    while (n > 5 && w[n - 1] == '/')
        n--;
    if (n + 1 > whcap || n > 700) {
        snprintf(errbuf, errlen, "warehouse URI longer than 700 bytes");
        return QW_INVAL;
    }
    memcpy(wh, w, n);
    wh[n] = 0;
    const char *allow = getenv("QW_ALLOW_LOCAL_CATALOG");
    int local_ok = allow && strcmp(allow, "1") == 0;
    if (!catalog_uri || !*catalog_uri) {
        snprintf(errbuf, errlen,
                 "warehouse %s is an object store: set ICEBERG_CATALOG_URI (--catalog-uri) to a "
                 "PostgreSQL catalog (postgresql://...); the default SQLite file lives inside a "
                 "local warehouse only",
                 wh);
        return QW_INVAL;
    }
    if (!is_postgres(catalog_uri) && !local_ok) {
        snprintf(errbuf, errlen,
                 "warehouse %s is an object store, but the catalog is a SQLite file: a SQLite "
                 "file cannot be shared across machines; use a PostgreSQL catalog "
                 "(postgresql://...)",
                 wh);
        return QW_INVAL;
    }
    snprintf(cat, catcap, "%s", catalog_uri);
    return QW_OK;
}

qw_err qw_store_resolve(const char *warehouse, const char *catalog_uri, char *wh, size_t whcap,
                        char *cat, size_t catcap, char *errbuf, size_t errlen)
{
    const char *w = warehouse && *warehouse ? warehouse : "./warehouse";
    if (qw_objstore_is_remote(w))
        return resolve_remote(w, catalog_uri, wh, whcap, cat, catcap, errbuf, errlen);
    if (strncmp(w, "file://", 7) == 0)
        w += 7;
    else if (strstr(w, "://")) {
        snprintf(errbuf, errlen,
                 "warehouse %s: only file://, s3:// and gs:// warehouses are supported", warehouse);
        return QW_UNSUPPORTED;
    }
    char abs[PATH_MAX];
    if (qw_store_mkdirs(w) != 0 || !realpath(w, abs)) {
        snprintf(errbuf, errlen, "warehouse %s: %s", w, strerror(errno));
        return QW_IO;
    }
    if ((size_t)snprintf(wh, whcap, "file://%s", abs) >= whcap) {
        snprintf(errbuf, errlen, "warehouse path too long");
        return QW_INVAL;
    }
    if (catalog_uri && *catalog_uri)
        snprintf(cat, catcap, "%s", catalog_uri);
    else
        snprintf(cat, catcap, "sqlite:///%s/catalog.db",
                 abs); /* SQLAlchemy: 4 slashes = absolute */
    return QW_OK;
}
