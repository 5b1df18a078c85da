/* avro_json.h: INTERNAL -- the jansson view of the Avro reader, for the
 * iceberg layer (manifests, manifest lists) and tests only. Public callers
 * use avro.h, which does not mention jansson.
 *
 * Records decode schema-driven into jansson values:
 *   null -> null, boolean -> true/false, int/long -> integer,
 *   float/double -> real (NaN/inf as null: JSON cannot hold them),
 *   string -> string (must be valid UTF-8), enum -> symbol string,
 *   bytes/fixed -> lowercase hex string ("" for zero bytes; qw_avro_hex_decode
 *   turns it back), record -> object in field order, array -> array,
 *   map -> object (keys must be valid UTF-8), union -> the branch's value.
 * Iceberg's int-keyed maps are arrays of {key, value} records and decode as
 * arrays of objects.
 */
#ifndef QW_AVRO_AVRO_JSON_H
#define QW_AVRO_AVRO_JSON_H

#include <jansson.h>

#include "avro/avro.h"

/* The parsed avro.schema (borrowed, valid until close). */
const json_t *qw_avro_reader_schema(const qw_avro_reader *r);
/* Next record: *out = new reference (caller json_decref), or NULL at the end
 * of the file (QW_OK). Any error is sticky. */
qw_err qw_avro_reader_next(qw_avro_reader *r, json_t **out);

#endif
