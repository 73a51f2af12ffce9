/* The run document reader (rundoc_parse: one JSON object on one line, the
 * version, the sections a step requires) and the typed field access every
 * command then does on it. */
#include <stdlib.h>

#include "fuzz.h"
#include "app/rundoc.h"

void fuzz_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const required[] = {"source", "clone", NULL};
    static const char *const fields[][2] = {
        {"source", "identifier"}, {"source", "type"},    {"snapshot", "identifier"},
        {"clone", "identifier"},  {"clone", "kind"},     {"endpoint", "host"},
        {"endpoint", "port"},     {"refresh", "status"}, {"deleted", "identifier"},
    };
    char *text = fuzz_cstr(data, size);
    for (int need = 0; need < 2; need++) {
        cJSON *doc = NULL;
        struct err e = {0};
        if (rundoc_parse(text, "stdin", need ? required : NULL, &doc, &e) == 0) {
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
                const char *s;
                long long n;
                struct err fe = {0};
                (void)rundoc_get_string(doc, fields[i][0], fields[i][1], &s, &fe);
                (void)rundoc_get_int(doc, fields[i][0], fields[i][1], &n, &fe);
                (void)rundoc_section(doc, fields[i][0]);
            }
            char *out = cJSON_PrintUnformatted(doc); /* what rundoc_write prints */
            cJSON_free(out);
        }
        cJSON_Delete(doc);
    }
    free(text);
    return 0;
}
