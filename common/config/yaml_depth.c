#include "config/yaml_depth.h"

#include <yaml.h>

#include "core/err.h"

int yaml_depth_check(const char *yaml, size_t len, const char *name, int max_depth, struct err *e)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, ERR_INTERNAL, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* a syntax error: the loader reports it */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > max_depth)
                rc = err_set(e, ERR_CONFIG,
                             "%s:%zu:%zu: nested more than %d levels deep "
                             "(not a configuration file)",
                             name, ev.start_mark.line + 1, ev.start_mark.column + 1, max_depth);
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc != 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}
