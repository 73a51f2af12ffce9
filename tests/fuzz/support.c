#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_quiet(void)
{
    static FILE *devnull;
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    if (devnull != NULL)
        log_set_stream(devnull);
    setenv("AWS_CONFIG_FILE", "/nonexistent/drr-fuzz/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-fuzz/credentials", 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    fuzz_init();
    return 0;
}
