/* file.h: durable whole-file writes (temp file, fsync, rename, fsync dir)
 * for regular files; FIFOs, character devices and descriptor paths such as
 * /dev/stdout are written in place, symlinks followed (core/file.c). */
#ifndef QW_CORE_FILE_H
#define QW_CORE_FILE_H

#include <stddef.h>

#include "core/err.h"

/* Replace path with data[0..len) atomically and durably when it is (or
 * will be) a regular file, following symlinks to their target; write in
 * place to a FIFO, a character device or /dev/std*, /dev/fd/N. QW_IO/QW_NOMEM
 * on failure with the reason in errbuf (may be NULL); a regular file is then
 * untouched. */
qw_err qw_file_write_atomic(const char *path, const void *data, size_t len, char *errbuf,
                            size_t errlen);

#endif
