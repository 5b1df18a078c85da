/* objstore.h: the lake on an S3-compatible object store (s3://, gs:// via
 * GCS's XML API with HMAC keys, or without them with an OAuth access token
 * from the metadata server, gcs_token.c), as a core/fileio.h backend.
 *
 * Transport: libcurl (one CURLSH shares DNS, TLS sessions and the
 * connection cache; a small pool of easy handles, so every thread reuses
 * warm connections). Signing is libcurl's CURLOPT_AWS_SIGV4 only; we add
 * x-amz-content-sha256 (hex SHA-256 of the body, OpenSSL) because libcurl
 * 7.88 does not, build canonical (sorted, percent-encoded) query strings,
 * and send a session token as x-amz-security-token. TLS verification is
 * never turned off; plain http:// is accepted only for an explicit
 * endpoint (a loopback test server). Secrets are never logged; logged URLs
 * carry no credentials (SigV4 puts them in headers, never in the query).
 *
 * XML: S3 answers ListObjectsV2, CreateMultipartUpload and errors in XML.
 * We need five elements of three documents, so s3_xml.c is a minimal,
 * bounded scanner (no DTD, no namespaces, entities &amp; &lt; &gt; &quot;
 * &apos; &#N; &#xN;) rather than a general parser with its own allocation
 * and entity-expansion surface; it is unit-tested on its own.
 *
 * Retries: 5xx, 429, SlowDown, timeouts and connection failures are retried
 * with exponential backoff and full jitter, bounded by a count and a total
 * time; every retry is counted. Every request is idempotent (a PUT is the
 * same key with the same bytes; a part is the same upload id and number).
 * Other 4xx are final and mapped to clear messages (403: credentials or
 * signature for bucket X; 404 NoSuchBucket: bucket X does not exist).
 *
 * Writes are write-once objects: a streaming writer keeps up to part_size
 * bytes (default 8 MiB, at least 5 MiB) in memory; a smaller object goes up
 * as one PUT at commit; a larger one as a multipart upload whose parts are
 * the coalesced 1 MiB chunks of the fileio front end; any failure aborts the
 * upload. Either way a reader never sees half an object. A deferred-sync
 * commit (QW_FILEIO_DEFER_SYNC: the lake writer's data files) that fits one
 * PUT is uploaded by 2 background threads (at most 64 MiB queued,
 * s3_async.c) and sync waits for it; a failed one is PUT again at sync;
 * reads of that key through the same client wait for it. mkdirs is a no-op
 * and list is a prefix listing (ListObjectsV2, paginated).
 *
 * Reads: a ranged read of an object that a stat saw to be at most
 * QW_S3_WHOLE_MAX (8 MiB) is served from one whole-object GET kept in a
 * bounded per-client cache (64 MiB, 32 objects; s3_cache.c), so a Parquet
 * file costs HEAD + GET instead of a request per footer and column chunk.
 * Each successful request is logged at DEBUG (method, key, status, bytes,
 * ms; never a credential).
 *
 * Threads: a qw_s3 is shared by threads (the pool and the share are
 * locked); counters are atomic. The last error text is per thread.
 */
#ifndef QW_OBJSTORE_OBJSTORE_H
#define QW_OBJSTORE_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/fileio.h"

#define QW_S3_MIN_PART ((size_t)5 << 20)
#define QW_S3_KEY_MAX 1024

typedef struct qw_s3_opts {
    const char *endpoint;      /* "https://host[:port]"; NULL/"" = AWS for region (or GCS) */
    int path_style;            /* 1: endpoint/bucket/key; 0: bucket.endpoint/key */
    const char *region;        /* NULL = us-east-1 */
    const char *access_key;    /* required */
    const char *secret_key;    /* required */
    const char *token;         /* session token or NULL */
    int gcs_oauth;             /* gs:// without HMAC keys: "Authorization: Bearer" with a token
                                  from the metadata server instead of SigV4 (keys unused) */
    const char *metadata_host; /* gcs_oauth: HOST[:PORT]; NULL = metadata.google.internal */
    const char *sa_key_file;   /* gcs_oauth: a service-account key (JSON): tokens by a signed
                                  JWT from its token_uri instead of the metadata server */
    long connect_timeout_ms;   /* 0 = 5000 */
    long timeout_ms;           /* whole request; 0 = 120000 */
    int max_retries;           /* 0 = 6; -1 = none */
    long retry_budget_ms;      /* total sleeping + retrying; 0 = 60000 */
    long backoff_ms;           /* first backoff; 0 = 100 */
    size_t part_size;          /* multipart part size; 0 = 8 MiB; < 5 MiB is raised to 5 MiB */
    int list_max_keys;         /* ListObjectsV2 page size; 0 = 1000 (tests page smaller) */
} qw_s3_opts;

typedef struct qw_s3 qw_s3;

typedef struct qw_s3_counters {
    uint64_t requests, retries, failures, bytes_up, bytes_down, multipart_aborts;
    uint64_t token_fetches;  /* gcs_oauth: access tokens fetched (metadata server or key) */
    uint64_t auth_refreshes; /* gcs_oauth: 401 answers that forced a token refresh and the one
                                retry of that request */
    uint64_t connects;       /* new connections opened (CURLINFO_NUM_CONNECTS summed over every
                                attempt): includes libcurl's silent resend of a request on a
                                fresh connection when a reused one turned out closed */
} qw_s3_counters;

/* Reads no environment; errors into errbuf. */
qw_err qw_s3_create(qw_s3 **out, const qw_s3_opts *o, char *errbuf, size_t errlen);
void qw_s3_destroy(qw_s3 *s); /* NULL is a no-op */
void qw_s3_counters_get(const qw_s3 *s, qw_s3_counters *out);
/* The calling thread's last error text ("" after success). */
const char *qw_s3_errmsg(void);

/* Objects. key: raw (encoded here). QW_NOT_FOUND for a missing key. */
qw_err qw_s3_put(qw_s3 *s, const char *bucket, const char *key, const void *data, size_t len);
/* Whole object, at most max bytes (QW_TOO_LARGE), *out from qw_malloc, NUL-terminated. */
qw_err qw_s3_get(qw_s3 *s, const char *bucket, const char *key, size_t max, uint8_t **out,
                 size_t *len);
/* Up to len bytes at off; *got < len only at the end of the object. */
qw_err qw_s3_get_range(qw_s3 *s, const char *bucket, const char *key, uint64_t off, void *buf,
                       size_t len, size_t *got);
qw_err qw_s3_head(qw_s3 *s, const char *bucket, const char *key, qw_fileio_info *out);
qw_err qw_s3_delete(qw_s3 *s, const char *bucket, const char *key); /* missing is QW_OK on S3 */
/* Every key starting with prefix (all pages); fn nonzero stops. */
qw_err qw_s3_list(qw_s3 *s, const char *bucket, const char *prefix,
                  int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx);
/* The bucket is reachable with these credentials (a one-key listing of
 * prefix); a clear sentence into errbuf otherwise. */
qw_err qw_s3_check(qw_s3 *s, const char *bucket, const char *prefix, char *errbuf, size_t errlen);

/* Multipart upload (the streaming writer uses these; exposed for tests). */
typedef struct qw_s3_upload qw_s3_upload;
qw_err qw_s3_mpu_begin(qw_s3 *s, const char *bucket, const char *key, qw_s3_upload **out);
qw_err qw_s3_mpu_part(qw_s3 *s, qw_s3_upload *u, const void *data, size_t len);
qw_err qw_s3_mpu_complete(qw_s3 *s, qw_s3_upload *u); /* frees u; aborts on failure */
void qw_s3_mpu_abort(qw_s3 *s, qw_s3_upload *u);      /* frees u; NULL is a no-op */

/* ---- fileio backend ---- */

/* "s3://bucket/key" and "gs://bucket/key" -> bucket, key (no leading '/').
 * QW_UNSUPPORTED for other schemes, QW_INVAL without a bucket. */
qw_err qw_s3_split_uri(const char *uri, char *bucket, size_t bcap, char *key, size_t kcap);
/* The ops table (ctx = qw_s3 *). */
const qw_fileio_ops *qw_s3_fileio_ops(void);

/* Settings not in the environment (the --s3-endpoint / --s3-path-style flags). */
typedef struct qw_objstore_cfg {
    const char *endpoint; /* overrides AWS_ENDPOINT_URL */
    int path_style;       /* or AWS_S3_FORCE_PATH_STYLE=true|1 */
} qw_objstore_cfg;

/* The client counters of a fileio opened by qw_objstore_fileio_open on an
 * s3:// or gs:// warehouse: 1, or 0 (out zeroed) for any other fileio.
 * Any thread (the counters are atomic). */
int qw_objstore_counters(const qw_fileio *io, qw_s3_counters *out);

/* 1 for s3:// and gs:// URIs. */
int qw_objstore_is_remote(const char *uri);
/* The fileio for a warehouse URI: local for file:// and paths; the S3
 * backend for s3:// (credentials from AWS_*) and gs:// (GCS XML API,
 * path-style; HMAC keys from GCS_HMAC_ACCESS_ID / GCS_HMAC_SECRET, else
 * AWS_*). For a remote warehouse the bucket is checked first: wrong
 * credentials or a missing bucket fail here with one sentence in errbuf.
 * Destroying the fileio frees the client. */
qw_err qw_objstore_fileio_open(qw_fileio **out, const char *warehouse, const qw_objstore_cfg *cfg,
                               char *errbuf, size_t errlen);

/* internal, exposed for unit tests: the XML scanner */
/* Text of the first <name>...</name> in [*p, end): decoded into out (cap,
 * NUL-terminated); advances *p past it. 0 found, -1 not found / too long /
 * malformed. */
int qw_s3_xml_text(const char **p, const char *end, const char *name, char *out, size_t cap);
/* The content of the next <name>...</name> element in [*p, end) as a
 * [*b, *e) range (not decoded); advances *p. 0 found, -1 not. */
int qw_s3_xml_elem(const char **p, const char *end, const char *name, const char **b,
                   const char **e);

#endif
