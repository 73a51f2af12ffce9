/* The AWS shared config and credentials files, read as every command reads
 * them: the input is written to a file that AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE both name, then the lookups config.c and the
 * credential chain make (profiles with and without the "profile " prefix,
 * [default], services sections and their sub-properties, existence, the size
 * check). A file, not a string: the reader's own file handling is under test
 * (issue 18's over-read was at the end of a file without a final newline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_ini.h"
#include "fuzz.h"

static char path[128];

static void remove_file(void)
{
    unlink(path);
}

void fuzz_init(void)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%.40s/drr-fuzz-ini-%ld", dir && *dir ? dir : "/tmp",
             (long)getpid());
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    unsetenv("AWS_PROFILE");
    atexit(remove_file);
}

static void take(char *v)
{
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    if (size > 0)
        fwrite(data, 1, size, f);
    fclose(f);

    /* [default], [profile prod]/[prod], a name with a blank; the keys config.c
     * and the credential chain read, a sub-property block, an empty one. */
    static const char *const profiles[] = {"default", "prod", "a b"};
    static const char *const keys[] = {"region", "services", "endpoint_url", "s3", "cli_pager"};
    struct err e = {0};
    (void)aws_ini_check(&e);
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            char *v = aws_ini_get(profiles[p], keys[k]);
            if (v != NULL) {
                take(aws_ini_subproperty(v, "endpoint_url"));
                take(aws_ini_get_section("services", v, "rds"));
            }
            free(v);
        }
        (void)aws_ini_profile_exists(profiles[p]);
    }
    take(aws_ini_get_section("services", "local", "rds"));
    return 0;
}
