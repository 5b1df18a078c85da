/* warehouse.c: where the lake lives: warehouse URI -> absolute path, the
 * default catalog inside it (shared by the writer, the reader and
 * `quotewatch lake`). */
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
                         /* replay commits everything; live has a shutdown budget */
                         .close_timeout_ms = blocking ? 0 : (long)(c->close_timeout_s * 1000)};
}

qw_err qw_store_resolve(const char *warehouse, const char *catalog_uri, char *wh, size_t whcap,
                        char *cat, size_t catcap, char *errbuf, size_t errlen)
{
    const char *w = warehouse && *warehouse ? warehouse : "./warehouse";
    if (strncmp(w, "file://", 7) == 0)
        w += 7;
    else if (strstr(w, "://")) {
        snprintf(errbuf, errlen, "warehouse %s: only file:// warehouses are supported", warehouse);
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
