/* ice_int.h: helpers shared by the ice_*.c files (never leaves iceberg/). */
#ifndef QW_ICEBERG_ICE_INT_H
#define QW_ICEBERG_ICE_INT_H

#include <jansson.h>
#include <stdio.h> /* QW_SETERR */

#include "core/fileio.h"
#include "iceberg/iceberg.h"

#define QW__ICE_MAX_AVRO (256u << 20) /* manifest / list file size limit */
#define QW__ICE_MAX_META (64u << 20)  /* metadata JSON size limit */

/* o[k] as an integer, dflt when absent or not an integer (the one
 * jansson integer helper of the module). */
static inline int64_t qw__ice_jint(const json_t *o, const char *k, int64_t dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* Every qw_ice_meta is allocated as this (qw__ice_meta_wrap): the public
 * parsed view first, then the document it was parsed from. */
typedef struct qw__ice_meta_doc {
    qw_ice_meta pub; /* must stay the first member */
    json_t *root;    /* the whole document (owned): unknown fields survive a commit */
} qw__ice_meta_doc;

/* The document behind m (borrowed). */
static inline json_t *qw__ice_root(const qw_ice_meta *m)
{
    return ((const qw__ice_meta_doc *)(const void *)m)->root;
}
/* A new qw_ice_meta over root (takes ownership of root, also on error):
 * parses the view; err may be NULL. */
qw_err qw__ice_meta_wrap(json_t *root, qw_ice_meta **out, char *err, size_t errlen);
/* Snapshot object by id (borrowed) or NULL. */
const json_t *qw__ice_snapshot_json(const qw_ice_meta *m, int64_t snapshot_id);

/* a + b, saturating at INT64_MAX / INT64_MIN: sums of record counts and
 * sizes read from manifests other writers made (each >= 0, but any number
 * of them may claim up to INT64_MAX) */
static inline int64_t qw__ice_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

/* Table property key of root as an integer (dflt when absent or not a
 * decimal integer). */
int64_t qw__ice_prop_int(const json_t *root, const char *key, int64_t dflt);
/* Table property key of root is "true" (case-insensitive); dflt if absent. */
int qw__ice_prop_bool(const json_t *root, const char *key, int dflt);
/* metadata-log += {ts, loc}, then drop the oldest entries beyond
 * write.metadata.previous-versions-max (default 100, at least 1), as
 * Iceberg Java's TableMetadata.addPreviousFile. */
void qw__ice_metadata_log_push(json_t *root, int64_t ts, const char *loc);
/* Write m as <location>/metadata/<5-digit version>-<uuid>.metadata.json. */
qw_err qw__ice_write_meta(qw_fileio *io, const qw_ice_meta *m, int version, char *loc, size_t cap);
/* The version of the next metadata file after parent_loc (root: the new
 * document, for parents whose name carries no version). */
int qw__ice_next_version(const char *parent_loc, const json_t *root);
/* After a successful swap from parent to next (at nloc): delete the
 * metadata files that fell off the metadata-log when
 * write.metadata.delete-after-commit.enabled is true, and rewrite
 * <location>/metadata/version-hint.text unless hint is 0 (the caller
 * writes it: qw_ice_write_version_hint). Best effort: failures are logged. */
void qw__ice_after_commit(qw_fileio *io, const qw_ice_meta *parent, const qw_ice_meta *next,
                          const char *nloc, int hint);
/* The next metadata document: a deep copy of p plus snapshot snap_id (seq,
 * list_loc, summary sum: owned), made current on main; logs extended. */
qw_err qw__ice_next_meta(const qw_ice_meta *p, const char *parent_loc, int64_t snap_id, int64_t seq,
                         const char *list_loc, json_t *sum, int64_t ts, qw_ice_meta **out);
/* Manifests of p's current snapshot (n = 0 if none); qw_free *mfs. */
qw_err qw__ice_parent_manifests(qw_fileio *io, const qw_ice_meta *p, qw_ice_manifest_file **mfs,
                                size_t *n, char *err, size_t errlen);
/* Manifest merge on commit (ice_merge.c): when the table's properties ask
 * for it, the mergeable manifests of mfs[0..*nmf) are rewritten into one
 * at path (for snapshot snap_id, sequence seq) and mfs becomes [merged,
 * the others...] (*nmf updated, *merged = 1); else nothing changes. */
qw_err qw__ice_merge_manifests(qw_fileio *io, const qw_ice_meta *p, int64_t snap_id, int64_t seq,
                               const char *path, qw_ice_manifest_file *mfs, size_t *nmf,
                               int *merged, char *err, size_t errlen);
/* sum[key] = parent[key] (a decimal string, else 0) + add, as a string. */
void qw__ice_put_total(json_t *sum, const json_t *parent, const char *key, int64_t add);
/* Exponential backoff with jitter before retry attempt+1 (20 ms doubling, cap 2 s). */
void qw__ice_backoff(int attempt, int base_ms);

/* ---- reference cache (ice_refcache.c), for snapshot expiry ----
 * What committed manifest lists and manifests reference, kept across calls
 * in one process (they are immutable): a round of --maintain reads only
 * what was committed since the last. begin() locks it for one expiry and
 * end() unlocks it (entries unused by the last 16 calls are freed);
 * pointers returned are valid until the next call into it. */
void qw__ice_refcache_begin(void);
void qw__ice_refcache_end(void);
/* The manifests a list names (*mfs: qw_malloc'd array of borrowed entries). */
qw_err qw__ice_refcache_list(qw_fileio *io, const char *list, const qw_ice_manifest_file ***mfs,
                             size_t *n, char *err, size_t errlen);
/* Local paths (qw_fileio_local_path) of mf's live (not DELETED) entries. */
qw_err qw__ice_refcache_live(qw_fileio *io, const qw_ice_meta *m, const qw_ice_manifest_file *mf,
                             const char *const **paths, size_t *n, char *err, size_t errlen);
typedef struct qw_ice_refcache_stats {
    uint64_t lists_read, lists_hit, manifests_read, manifests_hit, evicted;
    size_t lists, manifests; /* held now */
} qw_ice_refcache_stats;
void qw__ice_refcache_stats(qw_ice_refcache_stats *out);
void qw__ice_refcache_clear(void); /* tests */

/* Iceberg JSON of a schema (struct) and of a spec's field array. */
json_t *qw__ice_schema_json(const qw_ice_schema *s);
json_t *qw__ice_spec_json(const qw_ice_spec *sp);
/* Result type of partition field i of sp under schema s. */
qw_ice_type qw__ice_part_type(const qw_ice_schema *s, const qw_ice_part_field *pf);

#endif
