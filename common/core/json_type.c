#include "core/json_type.h"

#include <math.h>

const char *json_type_name(const cJSON *v)
{
    if (v == NULL)
        return "nothing";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    return "an invalid value";
}

int json_integer(const cJSON *v, long long *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d > JSON_INT_MAX || d < -JSON_INT_MAX)
        return -1;
    *out = (long long)d;
    return 0;
}
