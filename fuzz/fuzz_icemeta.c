/* fuzz_icemeta.c: libFuzzer target for Iceberg table metadata JSON
 * (iceberg/ice_meta.c: ours, Java's, pyiceberg's; v1 and v2), read from a
 * warehouse other engines write: any input parses or fails cleanly; a
 * parsed document answers every accessor, and its dump parses again to the
 * same dump (a commit rewrites the document it read). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "iceberg/iceberg.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    qw_ice_meta *m;
    char err[256];
    if (qw_ice_meta_parse((const char *)data, size, &m, err, sizeof err) != QW_OK)
        return 0;
    if (memchr(m->location, 0, sizeof m->location) == NULL ||
        memchr(m->uuid, 0, sizeof m->uuid) == NULL)
        abort();
    size_t n = qw_ice_meta_nsnapshots(m);
    for (size_t i = 0; i < n && i < 1000; i++) {
        qw_ice_snapshot s;
        if (qw_ice_meta_snapshot_at(m, i, &s) != QW_OK)
            continue;
        if (!memchr(s.manifest_list, 0, sizeof s.manifest_list) ||
            !memchr(s.operation, 0, sizeof s.operation))
            abort();
        (void)qw_ice_meta_snapshot(m, s.snapshot_id, NULL);
        (void)qw_ice_meta_summary(m, s.snapshot_id, "total-records");
    }
    if (qw_ice_meta_snapshot_at(m, n, NULL) == QW_OK)
        abort();
    (void)qw_ice_meta_property(m, "write.format.default");
    (void)qw_ice_meta_snapshot_log_len(m);
    (void)qw_ice_meta_metadata_log_len(m);
    qw_ice_spec sp;
    (void)qw_ice_meta_spec(m, m->default_spec_id, &sp);
    char *d1, *d2;
    size_t l1, l2;
    if (qw_ice_meta_dump(m, &d1, &l1) == QW_OK) {
        qw_ice_meta *m2;
        if (qw_ice_meta_parse(d1, l1, &m2, err, sizeof err) != QW_OK)
            abort(); /* what we write, we read */
        if (qw_ice_meta_dump(m2, &d2, &l2) != QW_OK || l1 != l2 || memcmp(d1, d2, l1) != 0)
            abort();
        qw_free(d2);
        qw_ice_meta_free(m2);
        qw_free(d1);
    }
    qw_ice_meta_free(m);
    return 0;
}
