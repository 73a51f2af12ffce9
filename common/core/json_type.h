/* The JSON type of a cJSON value in words, for error messages that say what a
 * field held instead of what it should ("expected a string, got a number");
 * and the one checked conversion of a JSON number to an integer. */
#ifndef DRR_JSON_TYPE_H
#define DRR_JSON_TYPE_H

#include <cjson/cJSON.h>

/* "an object", "an array", "a string", "a number", "a boolean", "null";
 * "nothing" for NULL (an absent member); "an invalid value" otherwise. */
const char *json_type_name(const cJSON *v);

/* JSON_INT_MAX: 2^53, the largest range in which every integer is exactly a
 * JSON number (a double). */
#define JSON_INT_MAX 9007199254740992.0

/* 0 and *out = the value when v is a number holding a whole value within
 * +-JSON_INT_MAX; -1 otherwise (not a number, a fraction, 1e300, inf, nan).
 * cJSON keeps every number as a double: converting one out of range to an
 * integer type is undefined behaviour, so every conversion goes through here. */
int json_integer(const cJSON *v, long long *out);

#endif
