/* file.h: durable whole-file writes (temp file, fsync, rename, fsync dir). */
#ifndef QW_CORE_FILE_H
#define QW_CORE_FILE_H

#include <stddef.h>

#include "core/err.h"

/* Replace path with data[0..len) atomically and durably. QW_IO/QW_NOMEM on
 * failure with the reason in errbuf (may be NULL); path is then untouched. */
qw_err qw_file_write_atomic(const char *path, const void *data, size_t len, char *errbuf,
                            size_t errlen);

#endif
