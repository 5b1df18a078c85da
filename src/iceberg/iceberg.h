/* iceberg.h: Apache Iceberg format v2 for QuoteWatch's lake: schemas with
 * field ids, partition specs (identity, day), table metadata JSON, data-file
 * statistics with single-value binary bounds, manifests and manifest lists
 * (Avro, same schemas and file metadata as Iceberg Java / pyiceberg), scan
 * planning, and the fast-append commit through a compare-and-swap catalog.
 *
 * Commit protocol (qw_ice_append): load metadata_location from the catalog,
 * read that metadata, write a new manifest (ADDED entries), a new manifest
 * list (the new manifest first, then every manifest of the parent snapshot,
 * the small ones merged into one past commit.manifest.min-count-to-merge:
 * ice_merge.c) and a new metadata JSON -- each written completely and made durable by
 * fileio BEFORE the catalog CAS. On QW_CONFLICT: back off, reload, and build a
 * new list + metadata on the new parent (the manifest is reused: its entries
 * inherit sequence numbers). Losers' list/metadata files are removed.
 * See docs/ICEBERG.md.
 *
 * Not thread-safe per table handle; different threads may commit to the same
 * table (the CAS serialises them).
 */
#ifndef QW_ICEBERG_H
#define QW_ICEBERG_H

#include <stddef.h>
#include <stdint.h>

#include "core/dec.h"
#include "core/err.h"
#include "core/fileio.h"

#define QW_ICE_NAME_MAX 64
#define QW_ICE_MAX_FIELDS 64
/* Column statistics kept per data file in memory (every QuoteWatch table
 * has at most 24 columns, storage/tables.h). A manifest entry with more is
 * read with the first QW_ICE_MAX_STATS only (the rest prune nothing); the
 * manifests this library rewrites (merge, replace) are of QuoteWatch's own
 * tables, whose stats all fit. 32 instead of 64 halves an entry
 * (~7.5 KB instead of ~13 KB): compaction and scans hold thousands. */
#define QW_ICE_MAX_STATS 32
#define QW_ICE_MAX_PART 8
#define QW_ICE_BOUND_MAX 64   /* column bounds longer than this are dropped on read */
#define QW_ICE_PBOUND_MAX 256 /* partition summary bounds */
#define QW_ICE_STR_TRUNC 16   /* string bounds are truncated to 16 bytes */
#define QW_ICE_LOC_MAX 1024

/* ---- types and schemas ---- */
typedef enum {
    QW_ICE_UNKNOWN = 0,
    QW_ICE_BOOLEAN,
    QW_ICE_INT,
    QW_ICE_LONG,
    QW_ICE_FLOAT,
    QW_ICE_DOUBLE,
    QW_ICE_DATE,
    QW_ICE_TIME,
    QW_ICE_TIMESTAMP,
    QW_ICE_TIMESTAMPTZ,
    QW_ICE_STRING,
    QW_ICE_UUID,
    QW_ICE_FIXED,
    QW_ICE_BINARY,
    QW_ICE_DECIMAL,
    QW_ICE_NESTED
} qw_ice_type;

typedef struct qw_ice_field {
    int id;
    char name[QW_ICE_NAME_MAX];
    qw_ice_type type;
    int precision, scale; /* decimal; fixed length in precision */
    int required;
} qw_ice_field;

typedef struct qw_ice_schema {
    int schema_id;
    int nfields;
    qw_ice_field fields[QW_ICE_MAX_FIELDS];
} qw_ice_schema;

typedef enum {
    QW_ICE_T_IDENTITY = 0,
    QW_ICE_T_DAY,
    QW_ICE_T_MONTH,
    QW_ICE_T_YEAR,
    QW_ICE_T_HOUR,
    QW_ICE_T_BUCKET,
    QW_ICE_T_TRUNCATE,
    QW_ICE_T_VOID,
    QW_ICE_T_OTHER
} qw_ice_transform;

typedef struct qw_ice_part_field {
    int source_id, field_id; /* field ids start at 1000 */
    char name[QW_ICE_NAME_MAX];
    qw_ice_transform transform;
    int param; /* bucket[N] / truncate[W] */
} qw_ice_part_field;

typedef struct qw_ice_spec {
    int spec_id;
    int nfields;
    qw_ice_part_field fields[QW_ICE_MAX_PART];
} qw_ice_spec;

/* "decimal(18, 8)", "timestamptz", ... (Java spelling) into buf. */
const char *qw_ice_type_str(const qw_ice_field *f, char *buf, size_t cap);
/* Parse a primitive type string; nested types give QW_ICE_NESTED. */
qw_err qw_ice_type_parse(const char *s, qw_ice_field *f);
/* Result type of a transform over the source field (day -> date, ...). */
qw_ice_type qw_ice_transform_result(qw_ice_transform t, qw_ice_type source);
/* "identity", "day", "bucket[16]" */
const char *qw_ice_transform_str(const qw_ice_part_field *pf, char *buf, size_t cap);
/* day transform: days since 1970-01-01 of a timestamp in microseconds (floor). */
int32_t qw_ice_day_from_us(int64_t us);

/* ---- values ---- */
typedef struct qw_ice_datum {
    qw_ice_type type;
    int is_null;
    int64_t i;               /* boolean, int, long, date, time, timestamp(tz), decimal unscaled */
    double d;                /* float, double */
    char s[QW_ICE_NAME_MAX]; /* string (NUL-terminated) */
} qw_ice_datum;

typedef struct qw_ice_bytes {
    uint16_t len;
    uint8_t has; /* 0: absent */
    uint8_t b[QW_ICE_BOUND_MAX];
} qw_ice_bytes;

/* Single-value binary serialization (Iceberg spec appendix D). */
void qw_ice_bound_bool(qw_ice_bytes *o, int v);
void qw_ice_bound_int(qw_ice_bytes *o, int32_t v);   /* int, date: 4 bytes LE */
void qw_ice_bound_long(qw_ice_bytes *o, int64_t v);  /* long, time, timestamp(tz): 8 LE */
void qw_ice_bound_double(qw_ice_bytes *o, double v); /* 8 bytes LE IEEE */
void qw_ice_bound_float(qw_ice_bytes *o, float v);
/* decimal: unscaled value, big-endian two's complement, minimum bytes */
void qw_ice_bound_decimal(qw_ice_bytes *o, int64_t unscaled);
void qw_ice_bound_decimal128(qw_ice_bytes *o, qw_sz unscaled); /* decimal(38, S) */
/* string lower bound: the first <= 16 bytes, cut on a UTF-8 boundary */
void qw_ice_bound_string_lower(qw_ice_bytes *o, const char *s, size_t n);
/* string upper bound: that prefix with its last byte incremented (carrying);
 * the bound is left absent (has = 0) when no such prefix exists. */
void qw_ice_bound_string_upper(qw_ice_bytes *o, const char *s, size_t n);
/* Encode a datum per its type (partition summaries). */
qw_err qw_ice_bound_datum(qw_ice_bytes *o, const qw_ice_datum *d);
/* Decoders: QW_CORRUPT on a wrong length. */
qw_err qw_ice_bound_get_long(const qw_ice_bytes *b, qw_ice_type t, int64_t *out);
qw_err qw_ice_bound_get_double(const qw_ice_bytes *b, qw_ice_type t, double *out);

/* ---- data files ---- */
typedef struct qw_ice_col_stats {
    int field_id;
    int64_t column_size, value_count, null_count, nan_count; /* -1: absent */
    qw_ice_bytes lower, upper;
} qw_ice_col_stats;

enum { QW_ICE_STATUS_EXISTING = 0, QW_ICE_STATUS_ADDED = 1, QW_ICE_STATUS_DELETED = 2 };
enum { QW_ICE_CONTENT_DATA = 0, QW_ICE_CONTENT_POS_DELETES = 1, QW_ICE_CONTENT_EQ_DELETES = 2 };

typedef struct qw_ice_data_file {
    int content; /* QW_ICE_CONTENT_* */
    char path[QW_ICE_LOC_MAX];
    char format[16]; /* "PARQUET" */
    int npart;
    qw_ice_datum part[QW_ICE_MAX_PART]; /* in spec order */
    int64_t record_count, file_size_in_bytes;
    int ncols;
    qw_ice_col_stats cols[QW_ICE_MAX_STATS];
    /* filled by readers (ignored by writers) */
    int status, spec_id;
    int64_t snapshot_id, sequence_number, file_sequence_number; /* -1: null */
} qw_ice_data_file;

/* Stats slot for field_id (created if missing; NULL if full). */
qw_ice_col_stats *qw_ice_data_file_col(qw_ice_data_file *f, int field_id);
const qw_ice_col_stats *qw_ice_data_file_find(const qw_ice_data_file *f, int field_id);
/* Pruning helpers: 0 when the file certainly has no row with a long /
 * timestamp column in [lo, hi] (inclusive), or no string column value == s;
 * 1 otherwise (including "no statistics"). */
int qw_ice_file_may_overlap_long(const qw_ice_data_file *f, int field_id, qw_ice_type t, int64_t lo,
                                 int64_t hi);
int qw_ice_file_may_contain_string(const qw_ice_data_file *f, int field_id, const char *s);

/* ---- table metadata ---- */
typedef struct qw_ice_kv {
    const char *key, *value;
} qw_ice_kv;

/* A parsed metadata document. Only qw_ice_meta_parse / _new / _read make
 * one: the fields below are the parsed view, and the document itself (kept
 * whole, so fields written by other engines survive a commit) is private to
 * iceberg/ -- read it through the accessors below. */
typedef struct qw_ice_meta {
    int format_version;
    char uuid[40];
    char location[QW_ICE_LOC_MAX];
    int64_t last_sequence_number, last_updated_ms;
    int last_column_id, last_partition_id, current_schema_id, default_spec_id;
    int64_t current_snapshot_id; /* -1: none */
    qw_ice_schema schema;        /* the current schema */
    qw_ice_spec spec;            /* the default spec */
} qw_ice_meta;

/* Schema evolution by type promotion (int -> long, float -> double,
 * decimal(P, S) -> decimal(P', S), P' > P): *changes = how many fields of
 * cur would change type to become want (0: same schema). QW_UNSUPPORTED
 * with a message in err when want is not cur with promotions (fields
 * matched by id; names and requiredness must agree). */
qw_err qw_ice_schema_promotion(const qw_ice_schema *cur, const qw_ice_schema *want, int *changes,
                               char *err, size_t errlen);
/* What an evolution from a table's schema to want changes. */
typedef struct qw_ice_evolution {
    int promoted;       /* fields whose type is promoted */
    int added;          /* optional fields added */
    int last_column_id; /* the table's last-column-id after it */
} qw_ice_evolution;
/* Schema evolution by type promotion and added optional fields (Iceberg
 * spec "Schema Evolution"): every field of cur must be in want with the
 * same id, name and requiredness (never dropped or renamed), its type the
 * same or an allowed promotion; a field of want whose id cur lacks is an
 * addition and must be optional, with an id above last_column_id and cur's
 * ids (ids are never reused) and a name cur does not have. QW_UNSUPPORTED
 * with a message in err otherwise (out, ev unchanged). out (may be NULL):
 * cur's fields in cur's order with want's types, then the added fields in
 * want's order; schema_id is cur's (the commit assigns a new one). */
qw_err qw_ice_schema_evolution(const qw_ice_schema *cur, int last_column_id,
                               const qw_ice_schema *want, qw_ice_schema *out, qw_ice_evolution *ev,
                               char *err, size_t errlen);
/* Parse metadata JSON (ours, Java's, pyiceberg's; v1 and v2). QW_CORRUPT
 * with a message for a document a commit could not extend: among others
 * last-sequence-number or last-updated-ms outside [0, QW_ICE_COUNTER_MAX],
 * last-column-id or last-partition-id outside [0, INT_MAX). */
#define QW_ICE_COUNTER_MAX ((int64_t)1 << 62)
qw_err qw_ice_meta_parse(const char *json, size_t len, qw_ice_meta **out, char *err, size_t errlen);
/* New v2 metadata for an empty table. */
qw_err qw_ice_meta_new(qw_ice_meta **out, const char *location, const qw_ice_schema *schema,
                       const qw_ice_spec *spec, const qw_ice_kv *props, size_t nprops,
                       int64_t now_ms);
/* Serialized text (free with qw_free). */
qw_err qw_ice_meta_dump(const qw_ice_meta *m, char **out, size_t *len);
void qw_ice_meta_free(qw_ice_meta *m); /* NULL is a no-op */
/* One entry of the document's "snapshots" (absent integers: -1, except
 * sequence_number 0 as v1 tables imply; absent strings: ""). */
typedef struct qw_ice_snapshot {
    int64_t snapshot_id, parent_snapshot_id, sequence_number, timestamp_ms;
    int schema_id;
    char operation[32]; /* summary "operation" */
    char manifest_list[QW_ICE_LOC_MAX];
} qw_ice_snapshot;
/* Number of snapshots; the i-th in document order (QW_NOT_FOUND past the end). */
size_t qw_ice_meta_nsnapshots(const qw_ice_meta *m);
qw_err qw_ice_meta_snapshot_at(const qw_ice_meta *m, size_t i, qw_ice_snapshot *out);
/* Snapshot by id; QW_NOT_FOUND if the table has none with that id (out may be NULL). */
qw_err qw_ice_meta_snapshot(const qw_ice_meta *m, int64_t snapshot_id, qw_ice_snapshot *out);
/* Summary property of a snapshot ("total-records", ...), NULL when the
 * snapshot or the key is absent or not a string. Borrowed: valid while m is. */
const char *qw_ice_meta_summary(const qw_ice_meta *m, int64_t snapshot_id, const char *key);
/* Table property (the "properties" object), NULL when absent. Borrowed. */
const char *qw_ice_meta_property(const qw_ice_meta *m, const char *key);
/* Entries in the "snapshot-log" and "metadata-log" arrays. */
size_t qw_ice_meta_snapshot_log_len(const qw_ice_meta *m);
size_t qw_ice_meta_metadata_log_len(const qw_ice_meta *m);
/* Partition spec by id into out. QW_NOT_FOUND if absent. */
qw_err qw_ice_meta_spec(const qw_ice_meta *m, int spec_id, qw_ice_spec *out);
/* Version number of a metadata file name ("00012-uuid.metadata.json" -> 12,
 * "v3.metadata.json" -> 3), -1 if neither. */
int qw_ice_metadata_version(const char *location);
/* The highest-versioned *.metadata.json under <location>/metadata (ties:
 * the greater name) into loc, its version in *version; QW_NOT_FOUND when
 * there is none. For register-table and the create guard. */
qw_err qw_ice_find_latest_metadata(qw_fileio *io, const char *location, char *loc, size_t cap,
                                   int *version);

/* ---- manifests ---- */
typedef struct qw_ice_field_summary {
    int contains_null;
    int contains_nan; /* -1: null */
    uint16_t lower_len, upper_len;
    uint8_t has_lower, has_upper;
    uint8_t lower[QW_ICE_PBOUND_MAX], upper[QW_ICE_PBOUND_MAX];
} qw_ice_field_summary;

typedef struct qw_ice_manifest_file {
    char path[QW_ICE_LOC_MAX];
    int64_t length;
    int spec_id, content; /* content: 0 data, 1 deletes */
    int64_t sequence_number, min_sequence_number, added_snapshot_id;
    int32_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    int npart; /* -1: partitions null */
    qw_ice_field_summary part[QW_ICE_MAX_PART];
} qw_ice_manifest_file;

/* Manifest of ADDED entries for snapshot_id (sequence numbers inherited),
 * partitioned by m's default spec. deflate codec. Caller frees *out. */
qw_err qw_ice_manifest_write(const qw_ice_meta *m, int64_t snapshot_id,
                             const qw_ice_data_file *files, size_t n, uint8_t **out, size_t *len);
/* Manifest whose entries keep their own status, snapshot_id,
 * sequence_number and file_sequence_number (-1: null, inherited): EXISTING
 * and DELETED entries carried into a rewrite (replace snapshots, merged
 * manifests). */
qw_err qw_ice_manifest_write_entries(const qw_ice_meta *m, const qw_ice_data_file *files, size_t n,
                                     uint8_t **out, size_t *len);
/* Summary entry describing that manifest (path/length/sequence set by caller). */
qw_err qw_ice_manifest_summarize(const qw_ice_meta *m, int64_t snapshot_id,
                                 const qw_ice_data_file *files, size_t n,
                                 qw_ice_manifest_file *out);
qw_err qw_ice_manifest_list_write(int64_t snapshot_id, int64_t parent_id, int64_t seq,
                                  const qw_ice_manifest_file *mf, size_t n, uint8_t **out,
                                  size_t *len);
/* Readers: arrays allocated with qw_malloc (free with qw_free). Sequence
 * numbers that are null in the file are inherited per the spec (entries from
 * the manifest's sequence_number when status is ADDED). */
qw_err qw_ice_manifest_list_read(const uint8_t *data, size_t len, qw_ice_manifest_file **out,
                                 size_t *n, char *err, size_t errlen);
qw_err qw_ice_manifest_read(const uint8_t *data, size_t len, const qw_ice_manifest_file *mf,
                            const qw_ice_meta *m, qw_ice_data_file **out, size_t *n, char *err,
                            size_t errlen);

/* ---- scan planning ---- */
typedef struct qw_ice_scan {
    int64_t snapshot_id; /* -1: table has no snapshot */
    size_t nmanifests;
    qw_ice_data_file *files; /* live entries (status != DELETED), data and delete files */
    size_t nfiles, ndata_files, ndelete_files;
    int64_t data_records; /* sum of record_count over live data files */
} qw_ice_scan;

/* Files of snapshot_id (-1 = current). Paths are as written in the manifests
 * (resolve them through io's maps to open them). */
qw_err qw_ice_scan_plan(qw_fileio *io, const qw_ice_meta *m, int64_t snapshot_id, qw_ice_scan *out,
                        char *err, size_t errlen);
/* The same with only the live entries keep(ctx, f) accepts listed and
 * counted (compaction: its candidates, not every live file's ~25 KB entry). */
qw_err qw_ice_scan_plan_where(qw_fileio *io, const qw_ice_meta *m, int64_t snapshot_id,
                              int (*keep)(void *ctx, const qw_ice_data_file *f), void *ctx,
                              qw_ice_scan *out, char *err, size_t errlen);
void qw_ice_scan_free(qw_ice_scan *s);

/* ---- catalog and commit ---- */
/* The catalog contract of iceberg/catalog.h as a vtable, so the commit is
 * testable without a database (qw_ice_catalog_sql wraps a qw_catalog). */
typedef struct qw_ice_catalog_ops {
    void *ctx;
    qw_err (*create_namespace)(void *ctx, const char *ns);
    qw_err (*load)(void *ctx, const char *ns, const char *table, char *loc, size_t cap);
    qw_err (*create)(void *ctx, const char *ns, const char *table, const char *loc);
    qw_err (*commit)(void *ctx, const char *ns, const char *table, const char *expected,
                     const char *loc);
    /* The commit leases on ns.table (catalog.h); NULL: the catalog keeps
     * none (then only file age protects uncommitted files). */
    qw_err (*leases)(void *ctx, const char *ns, const char *table,
                     int (*fn)(void *fctx, const char *holder, int64_t since_ms,
                               int64_t heartbeat_ms),
                     void *fctx);
} qw_ice_catalog_ops;

struct qw_catalog;
void qw_ice_catalog_sql(qw_ice_catalog_ops *ops, struct qw_catalog *c);

/* Read and parse the metadata file at loc. */
qw_err qw_ice_meta_read(qw_fileio *io, const char *loc, qw_ice_meta **out, char *err,
                        size_t errlen);
/* Load ns.table's current metadata through the catalog. */
qw_err qw_ice_load_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                         const char *table, qw_ice_meta **out, char *loc, size_t cap);

/* Make want the current schema of ns.table when it evolves the current one
 * (qw_ice_schema_evolution: promotions, added optional fields): a new entry
 * in "schemas" with a new schema-id, made current with last-column-id
 * raised, in one metadata commit through the catalog's compare-and-swap
 * (re-read and retried on conflict). *changed = fields promoted + fields
 * added (0: nothing to do, no commit). */
qw_err qw_ice_evolve_schema(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                            const char *table, const qw_ice_schema *want, int *changed, char *err,
                            size_t errlen);
/* Create namespace + table (metadata 00000-<uuid>.metadata.json under
 * location/metadata). If the table already exists (QW_EXISTS from the
 * catalog, or found by load), its metadata location is returned and QW_OK.
 * QW_EXISTS with loc_out = the latest metadata file found when the catalog
 * has no entry but location holds a table that committed (metadata
 * version >= 1): see qw_ice_register_table. */
qw_err qw_ice_create_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                           const char *table, const char *location, const qw_ice_schema *schema,
                           const qw_ice_spec *spec, const qw_ice_kv *props, size_t nprops,
                           char *loc_out, size_t cap);

/* Iceberg's register-table: point the catalog at an existing metadata file
 * (the latest under location when metadata_loc is NULL). QW_EXISTS if the
 * catalog already has the table; QW_NOT_FOUND without metadata; the file
 * must parse. loc_out gets the registered location. */
qw_err qw_ice_register_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                             const char *table, const char *location, const char *metadata_loc,
                             char *loc_out, size_t cap);

/* ---- commit leases (ice_lease.c) ----
 * What maintenance (orphan cleaning now; snapshot expiry and compaction
 * later) must never delete: files a commit in progress may still
 * reference. A writer keeps a lease per table whose since_ms is no later
 * than the creation of any file it has not committed yet (or removed), and
 * renews heartbeat_ms every QW_ICE_LEASE_HEARTBEAT_MS. A lease whose
 * heartbeat is older than QW_ICE_LEASE_TTL_MS is a crashed writer's: it
 * protects nothing any more. Every file modified at or after the oldest
 * live lease's since_ms minus QW_ICE_LEASE_SKEW_MS (clock skew between the
 * writer and the file store, coarse mtimes) is protected, whatever its age. */
#define QW_ICE_LEASE_HEARTBEAT_MS 30000
#define QW_ICE_LEASE_TTL_MS (10 * QW_ICE_LEASE_HEARTBEAT_MS)
#define QW_ICE_LEASE_SKEW_MS 5000

typedef struct qw_ice_protection {
    int64_t since_ms;  /* files with mtime >= since_ms are protected */
    size_t live;       /* live leases */
    size_t expired;    /* leases past the TTL (crashed writers), ignored */
    char holder[128];  /* holder of the oldest live lease ("" if none) */
    int64_t oldest_ms; /* its since_ms (without the skew margin) */
} qw_ice_protection;

/* The protection on ns.table at now_ms (0: wall clock): files modified at
 * or after the oldest live lease's since_ms, and files modified after now_ms
 * (a writer that starts after this read), skew margin included. Call it
 * BEFORE reading what the table references (a writer advances its lease
 * once its commit landed). An error (the leases cannot be read) means
 * nothing may be deleted. */
qw_err qw_ice_protected_since(const qw_ice_catalog_ops *cat, const char *ns, const char *table,
                              int64_t now_ms, qw_ice_protection *out);
/* A file of mtime_ms: may maintenance delete it? (lease-wise only) 1 =
 * protected. mtime_ms <= 0 is an unknown age (an object store that sent no
 * or no usable Last-Modified): protected, since the file may be a writer's
 * not yet committed; 1970 is not a time a lake file is written at. */
int qw_ice_protected(const qw_ice_protection *p, int64_t mtime_ms);

/* ---- orphan files (ice_orphans.c) ---- */
typedef struct qw_ice_orphan_opts {
    int64_t older_than_ms; /* younger unreferenced files are left alone (running writers) */
    int remove;            /* 0: only report */
    int64_t now_ms;        /* 0: wall clock */
} qw_ice_orphan_opts;
typedef struct qw_ice_orphan_result {
    size_t orphans;       /* unreferenced and old enough (removed unless dry run) */
    uint64_t bytes;       /* their size */
    size_t young;         /* unreferenced but younger than older_than_ms: left */
    size_t remove_failed; /* of orphans */
    size_t leased;        /* unreferenced but protected by a commit lease: left */
    qw_ice_protection prot;
} qw_ice_orphan_result;
/* Called per orphan with its URI (as listed) and, when removing, the
 * result of the removal. */
typedef void (*qw_ice_orphan_fn)(void *ctx, const char *uri, uint64_t size, qw_err removed);
/* Files under ns.table's location that no metadata version, manifest list,
 * manifest or file entry of any snapshot references, and no live commit
 * lease protects (qw_ice_protected_since). Nothing is removed unless every
 * snapshot and the leases could be read (else the error, with errbuf). */
qw_err qw_ice_orphans(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                      const char *table, const qw_ice_orphan_opts *o, qw_ice_orphan_fn fn,
                      void *fctx, qw_ice_orphan_result *res, char *errbuf, size_t errlen);

/* ---- snapshot expiry (ice_expire.c) ----
 * Iceberg's ExpireSnapshots: a snapshot is kept when a ref (branch or tag)
 * points at it, when it is among the last retain_last ancestors of a
 * branch head (main: the current snapshot), or when it is not older than
 * older_than_ms (moved back to the oldest live commit lease's horizon: a
 * writer retrying an unknown outcome looks its snapshot up); every other
 * snapshot expires. The new metadata (snapshots,
 * snapshot-log and statistics trimmed, refs unchanged, metadata-log += the
 * parent) is committed through the catalog CAS, re-planned on the new
 * parent after a conflict. THEN the manifest lists, manifests and data
 * files that only expired snapshots referenced are deleted, except files
 * a live commit lease protects (qw_ice_protected_since, read before the
 * table). A crash after the swap leaves orphans for clean-orphans; a
 * crash before it changes nothing. */
typedef struct qw_ice_expire_opts {
    /* snapshots with timestamp-ms < this may expire; 0: now minus the
     * table's history.expire.max-snapshot-age-ms (default 5 days) */
    int64_t older_than_ms;
    /* 0: the table's history.expire.min-snapshots-to-keep (default 1) */
    int retain_last;
    int remove;       /* 0: dry run: plan and count, commit and delete nothing */
    int64_t now_ms;   /* 0: wall clock */
    int max_attempts; /* CAS attempts, default 10 */
    /* In-process writers (live --maintain), as qw_ice_replace_opts.turn:
     * from attempt turn_after on, turn(turn_ctx, 1) before the table load
     * and turn(turn_ctx, 0) after the catalog commit (before the delete
     * phase), so the caller's committer waits for that one attempt and its
     * CAS wins. NULL: none. */
    void (*turn)(void *turn_ctx, int take);
    void *turn_ctx;
    int turn_after;
} qw_ice_expire_opts;

typedef struct qw_ice_expire_result {
    size_t snapshots_expired, snapshots_kept;
    size_t lists, manifests, data_files; /* deleted (dry run: deletable) */
    uint64_t bytes;                      /* their size */
    size_t leased;                       /* deletable but protected by a lease: kept */
    size_t remove_failed;
    int attempts;
    int64_t older_than_ms; /* the cutoff used */
    int lease_limited;     /* the cutoff was moved back to the oldest live lease's horizon */
    int retain_last;       /* the count used */
    char metadata_location[QW_ICE_LOC_MAX]; /* the committed metadata ("" if none) */
    qw_ice_protection prot;
} qw_ice_expire_result;

/* The planning step alone: which of m's snapshots (document order) expire
 * (expire[i] = 1) for the cutoff and count; returns how many. expire has
 * qw_ice_meta_nsnapshots(m) entries. QW_NOMEM via *err. */
size_t qw_ice_expire_select(const qw_ice_meta *m, int64_t older_than_ms, int retain_last,
                            uint8_t *expire, qw_err *err);

/* Called per deleted (or, dry run, deletable) file. */
typedef void (*qw_ice_expire_fn)(void *ctx, const char *uri, uint64_t size, qw_err removed);
qw_err qw_ice_expire(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                     const char *table, const qw_ice_expire_opts *o, qw_ice_expire_fn fn,
                     void *fctx, qw_ice_expire_result *res, char *errbuf, size_t errlen);

/* ---- rewrite files (ice_compact.c) ----
 * Iceberg's RewriteFiles: one snapshot with operation "replace" that
 * deletes the data files del (as live in the current snapshot when
 * committing) and adds add, which must hold exactly their rows. The
 * manifests holding del are rewritten into one (del DELETED, the rest
 * EXISTING); the others are carried over. On a CAS conflict the table is
 * reloaded and every file of del checked again: if one is no longer live
 * (replaced or deleted meanwhile) nothing is committed: QW_CONFLICT with
 * res->stale (the caller removes add's files). Appends committed meanwhile
 * are kept. */
typedef struct qw_ice_replace_opts {
    const qw_ice_kv *summary; /* extra snapshot summary properties */
    size_t nsummary;
    int max_attempts; /* default 10 */
    int backoff_ms;   /* default 20 */
    int64_t now_ms;   /* 0: wall clock */
    /* In-process writers (live --maintain): once turn_after attempts lost
     * the race, turn(turn_ctx, 1) is called before each attempt and
     * turn(turn_ctx, 0) after it; the caller's own committer waits
     * meanwhile, so the attempt's CAS wins against it. NULL: none. */
    void (*turn)(void *turn_ctx, int take);
    void *turn_ctx;
    int turn_after;
} qw_ice_replace_opts;
typedef struct qw_ice_replace_result {
    int64_t snapshot_id;
    int attempts;
    int stale;           /* a file of del was no longer live: gave up */
    int outcome_unknown; /* the catalog failed during the swap: add's files may be referenced */
    char metadata_location[QW_ICE_LOC_MAX];
    char err[256];
} qw_ice_replace_result;
qw_err qw_ice_replace(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                      const char *table, const qw_ice_data_file *del, size_t ndel,
                      const qw_ice_data_file *add, size_t nadd, const qw_ice_replace_opts *o,
                      qw_ice_replace_result *res);

typedef struct qw_ice_append_opts {
    const qw_ice_kv *summary; /* extra snapshot summary properties */
    size_t nsummary;
    int max_attempts; /* default 10 */
    int backoff_ms;   /* first backoff, doubled per conflict (cap 2 s), jittered; default 20 */
    int64_t now_ms;   /* 0: wall clock */
    /* 0: a random snapshot id. A caller that retries after an unknown
     * outcome passes the same id again: when a snapshot with that id is
     * already in the table, the earlier attempt landed and the append
     * returns QW_OK without committing twice (res->landed_before). */
    int64_t snapshot_id;
    /* 1: leave <location>/metadata/version-hint.text alone; the caller
     * writes it later with qw_ice_write_version_hint (the lake writer
     * coalesces the hints of back-to-back commits: docs/STORAGE.md). */
    int defer_hint;
} qw_ice_append_opts;

typedef struct qw_ice_commit_result {
    int64_t snapshot_id, sequence_number;
    int attempts;
    int outcome_unknown;  /* the catalog failed during the swap: it may have happened */
    int landed_before;    /* opts.snapshot_id was already committed (an earlier call) */
    int manifests_merged; /* the parent's small manifests were merged into one (ice_merge.c) */
    char metadata_location[QW_ICE_LOC_MAX];
    char err[256];
} qw_ice_commit_result;

/* Fast append of n data files (n >= 1) to ns.table. QW_CONFLICT only when
 * every attempt lost the race. opts and res may be NULL. */
qw_err qw_ice_append(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                     const char *table, const qw_ice_data_file *files, size_t n,
                     const qw_ice_append_opts *opts, qw_ice_commit_result *res);

/* Rewrite version-hint.text next to the metadata file meta_loc (its
 * directory, <location>/metadata/) with meta_loc's name without
 * ".metadata.json": what path-based readers such as DuckDB's iceberg_scan
 * open (docs/STORAGE.md). Whole object, atomic; failures are logged. */
qw_err qw_ice_write_version_hint(qw_fileio *io, const char *meta_loc);

/* Random 63-bit positive id; random UUID v4 text (37 bytes with NUL). */
int64_t qw_ice_random_id(void);
void qw_ice_uuid(char out[37]);

#endif
