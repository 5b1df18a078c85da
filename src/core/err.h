/* err.h: the one error enum of QuoteWatch.
 *
 * Every fallible function returns qw_err. The X-macro table below generates
 * the enum, qw_strerror() and qw_err_name(); the names double as metric
 * labels and as the keys of the summary's rejected_by_reason object, so they
 * are part of the public contract. Add new codes LAST; never renumber.
 */
#ifndef QW_CORE_ERR_H
#define QW_CORE_ERR_H

#include <stddef.h>

#define QW_ERR_MAP(X)                                                                              \
    X(OK, "ok", "ok")                                                                              \
    X(NOMEM, "nomem", "out of memory")                                                             \
    X(BAD_JSON, "bad_json", "malformed JSON")                                                      \
    X(BAD_TYPE, "bad_type", "JSON value of the wrong type")                                        \
    X(MISSING_FIELD, "missing_field", "required field missing")                                    \
    X(BAD_NUMBER, "bad_number", "bad or out-of-range decimal number")                              \
    X(BAD_TIME, "bad_time", "bad timestamp")                                                       \
    X(BAD_SIDE, "bad_side", "bad side")                                                            \
    X(BAD_PRODUCT, "bad_product", "bad product id")                                                \
    X(TOO_LARGE, "too_large", "message larger than the limit")                                     \
    X(TOO_DEEP, "too_deep", "JSON nested too deeply")                                              \
    X(BAD_BOOK, "bad_book", "inconsistent book data")                                              \
    X(TOO_MANY_PRODUCTS, "too_many_products", "product table full")                                \
    X(BOOK_FULL, "book_full", "book side exceeds the level limit")                                 \
    X(BAD_SEQUENCE, "bad_sequence", "bad sequence number")                                         \
    X(NOT_MESSAGE, "not_message", "line is not a feed message")                                    \
    X(IO, "io", "I/O error")                                                                       \
    X(INVAL, "inval", "invalid argument")                                                          \
    X(FULL, "full", "queue full")                                                                  \
    X(CORRUPT, "corrupt", "corrupt or incompatible file")                                          \
    X(NOT_FOUND, "not_found", "not found")                                                         \
    X(UNSUPPORTED, "unsupported", "unsupported")                                                   \
    X(TIME_RANGE, "time_range", "timestamp outside 1970..2262")                                    \
    X(CONFLICT, "conflict", "concurrent update: reload and retry")                                 \
    X(EXISTS, "exists", "already exists")                                                          \
    X(AGAIN, "again", "try again later")                                                           \
    X(TIMEOUT, "timeout", "timed out")                                                             \
    X(PROTOCOL, "protocol", "protocol violation")                                                  \
    X(DB, "db", "database error")

#define QW_ERR_ENUM(id, name, msg) QW_##id,
typedef enum { QW_ERR_MAP(QW_ERR_ENUM) QW__ERR_COUNT } qw_err;
#undef QW_ERR_ENUM

/* Human text; never NULL. */
const char *qw_strerror(qw_err e);
/* Short snake_case name (metrics label, summary key); never NULL. */
const char *qw_err_name(qw_err e);

/* errno's text, thread-safe (strerror is not): into buf, or a static
 * string; never NULL. */
const char *qw_errno_str(int err, char *buf, size_t cap);

/* Formats a message into the caller's (errbuf, errlen) if one was given: the
 * convention of every function that reports "why" next to its qw_err.
 * Needs <stdio.h>. */
#define QW_SETERR(errbuf, errlen, ...)                                                             \
    do {                                                                                           \
        if ((errbuf) && (errlen))                                                                  \
            snprintf((errbuf), (errlen), __VA_ARGS__);                                             \
    } while (0)

#endif
