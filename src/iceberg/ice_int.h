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

/* Iceberg JSON of a schema (struct) and of a spec's field array. */
json_t *qw__ice_schema_json(const qw_ice_schema *s);
json_t *qw__ice_spec_json(const qw_ice_spec *sp);
/* Result type of partition field i of sp under schema s. */
qw_ice_type qw__ice_part_type(const qw_ice_schema *s, const qw_ice_part_field *pf);

#endif
