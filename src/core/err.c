/* err.c: text and names for qw_err, generated from QW_ERR_MAP. */
#include "core/err.h"

#include <string.h>

#define QW_ERR_NAME(id, name, msg) name,
#define QW_ERR_TEXT(id, name, msg) msg,
static const char *const names[] = {QW_ERR_MAP(QW_ERR_NAME)};
static const char *const texts[] = {QW_ERR_MAP(QW_ERR_TEXT)};

const char *qw_strerror(qw_err e)
{
    if ((unsigned)e >= QW__ERR_COUNT)
        return "unknown error";
    return texts[e];
}

const char *qw_err_name(qw_err e)
{
    if ((unsigned)e >= QW__ERR_COUNT)
        return "unknown";
    return names[e];
}

const char *qw_errno_str(int err, char *buf, size_t cap)
{
    return strerror_r(err, buf, cap); /* GNU: returns the text (in buf or static) */
}
