/* The JSON type of a cJSON value in words, for error messages that say what a
 * field held instead of what it should ("expected a string, got a number"). */
#ifndef DRR_JSON_TYPE_H
#define DRR_JSON_TYPE_H

#include <cjson/cJSON.h>

/* "an object", "an array", "a string", "a number", "a boolean", "null";
 * "nothing" for NULL (an absent member); "an invalid value" otherwise. */
const char *json_type_name(const cJSON *v);

#endif
