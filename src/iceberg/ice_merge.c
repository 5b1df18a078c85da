/* ice_merge.c: manifest merge on commit (iceberg.h "fast append"), as
 * Iceberg Java's MergingSnapshotProducer does for appends: with
 * commit.manifest-merge.enabled (default true), when the new list would
 * hold more than commit.manifest.min-count-to-merge manifests (default
 * 100), the parent's data manifests of the default spec smaller than
 * commit.manifest.target-size-bytes (default 8 MiB) are rewritten into
 * one: their live entries as EXISTING with their snapshot ids and sequence
 * numbers kept (DELETED entries, which only mattered to the snapshot that
 * wrote them, are dropped). The manifest list of a table written every few
 * seconds so stays short, and so does scan planning.
 *
 * Memory bound: entries are read whole (a qw_ice_data_file is ~13 KB in
 * memory), so one merge takes at most MERGE_MAX_ENTRIES entries (~27 MB),
 * oldest manifests first, and a manifest holding half that or more is left
 * as it is. Without the bound every merge re-read the previous merged
 * manifest: a 64-product live run peaked at 184, 345, then 508 MiB, one
 * step every ~100 commits (docs/PERFORMANCE.md, "Memory"). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "iceberg/ice_int.h"

#define DEFAULT_MIN_COUNT 100
#define DEFAULT_TARGET (8ll << 20)
#define MERGE_MAX_ENTRIES 2048

static int64_t entries(const qw_ice_manifest_file *mf)
{
    return (int64_t)mf->added_files + mf->existing_files + mf->deleted_files;
}

static int mergeable(const qw_ice_meta *p, const qw_ice_manifest_file *mf, int64_t target)
{
    return mf->content == 0 && mf->spec_id == p->spec.spec_id && mf->length < target &&
           entries(mf) < MERGE_MAX_ENTRIES / 2;
}

/* Which manifests this merge takes: mergeable ones, oldest first (the list
 * is newest first), while their entries fit MERGE_MAX_ENTRIES. */
static size_t choose(const qw_ice_meta *p, const qw_ice_manifest_file *mfs, size_t nmf,
                     int64_t target, unsigned char *take)
{
    size_t cand = 0;
    int64_t sum = 0;
    memset(take, 0, nmf);
    for (size_t i = nmf; i-- > 0;) {
        if (!mergeable(p, &mfs[i], target) || sum + entries(&mfs[i]) > MERGE_MAX_ENTRIES)
            continue;
        take[i] = 1;
        sum += entries(&mfs[i]);
        cand++;
    }
    return cand;
}

qw_err qw__ice_merge_manifests(qw_fileio *io, const qw_ice_meta *p, int64_t snap_id, int64_t seq,
                               const char *path, qw_ice_manifest_file *mfs, size_t *nmf,
                               int *merged, char *err, size_t errlen)
{
    const json_t *root = qw__ice_root(p);
    *merged = 0;
    int64_t min_count =
        qw__ice_prop_int(root, "commit.manifest.min-count-to-merge", DEFAULT_MIN_COUNT);
    int64_t target = qw__ice_prop_int(root, "commit.manifest.target-size-bytes", DEFAULT_TARGET);
    if (!qw__ice_prop_bool(root, "commit.manifest-merge.enabled", 1) ||
        (int64_t)*nmf + 1 <= (min_count > 1 ? min_count : 1))
        return QW_OK;
    unsigned char *take = qw_malloc(*nmf);
    if (!take)
        return QW_NOMEM;
    if (choose(p, mfs, *nmf, target, take) < 2) {
        qw_free(take);
        return QW_OK;
    }
    qw_ice_data_file *all = NULL;
    size_t n = 0, cap = 0;
    qw_err e = QW_OK;
    for (size_t k = 0; k < *nmf && e == QW_OK; k++) {
        if (!take[k])
            continue;
        uint8_t *buf;
        size_t len, ndf;
        qw_ice_data_file *df;
        if ((e = qw_fileio_read(io, mfs[k].path, QW__ICE_MAX_AVRO, &buf, &len)) != QW_OK) {
            QW_SETERR(err, errlen, "merge: read manifest %.200s: %s", mfs[k].path, qw_err_name(e));
            break;
        }
        e = qw_ice_manifest_read(buf, len, &mfs[k], p, &df, &ndf, err, errlen);
        qw_free(buf);
        if (e != QW_OK)
            break;
        for (size_t j = 0; j < ndf && e == QW_OK; j++) {
            if (df[j].status == QW_ICE_STATUS_DELETED)
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                qw_ice_data_file *na = qw_realloc(all, nc * sizeof *na);
                if (!na) {
                    e = QW_NOMEM;
                    break;
                }
                all = na;
                cap = nc;
            }
            all[n] = df[j];
            all[n++].status = QW_ICE_STATUS_EXISTING;
        }
        qw_free(df);
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (e == QW_OK)
        e = qw_ice_manifest_write_entries(p, all, n, &bytes, &len);
    if (e == QW_OK && (e = qw_fileio_write(io, path, bytes, len)) != QW_OK)
        QW_SETERR(err, errlen, "merge: write %.200s: %s", path, qw_err_name(e));
    qw_free(bytes);
    if (e != QW_OK) {
        qw_free(all);
        qw_free(take);
        return e;
    }
    qw_ice_manifest_file m;
    qw_ice_manifest_summarize(p, snap_id, all, n, &m);
    snprintf(m.path, sizeof m.path, "%s", path);
    m.length = (int64_t)len;
    m.added_files = 0;
    m.added_rows = 0;
    m.existing_files = (int32_t)n;
    m.sequence_number = m.min_sequence_number = seq;
    for (size_t i = 0; i < n; i++) {
        m.existing_rows = qw__ice_sat_add(m.existing_rows, all[i].record_count);
        if (all[i].sequence_number >= 0 && all[i].sequence_number < m.min_sequence_number)
            m.min_sequence_number = all[i].sequence_number;
    }
    qw_free(all);
    size_t w = 0; /* in place: the merged manifest, then the others in order */
    for (size_t k = 0; k < *nmf; k++)
        if (!take[k])
            mfs[w++] = mfs[k];
    qw_free(take);
    memmove(mfs + 1, mfs, w * sizeof *mfs); /* room: at least two were merged */
    mfs[0] = m;
    size_t out = w + 1;
    *nmf = out;
    *merged = 1;
    return QW_OK;
}
