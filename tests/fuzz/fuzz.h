/* The libFuzzer entry points every harness in tests/fuzz defines, and the
 * helpers they share. Each harness calls the project's own common/ code on
 * bytes it did not write, exactly as a command would; see docs/fuzzing.md. */
#ifndef DRR_FUZZ_H
#define DRR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined once (support.c): fuzz_quiet(), then the harness's fuzz_init(). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* What a harness sets up once before the first input (may do nothing). */
void fuzz_init(void);

/* data as a malloc'd NUL-terminated string (a NUL inside ends it early, as it
 * would for a C string read from a file). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Logs to /dev/null (the parsers' warnings would flood the fuzzer's output)
 * and the AWS files pointed away from the user's own. */
void fuzz_quiet(void);

#endif
