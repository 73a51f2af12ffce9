/* A main() for replaying inputs through a harness without libFuzzer: every file
 * named, and every file in every directory named, runs once through
 * LLVMFuzzerTestOneInput. Built with gcc and ASan/UBSan (make check, make
 * asan) so that a fixed bug stays fixed, deterministically and fast; a report
 * aborts (-fno-sanitize-recover). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    struct buf b = BUF_INIT;
    int r = buf_read_file(&b, f, (size_t)64 << 20);
    fclose(f);
    if (r != 0) {
        fprintf(stderr, "%s: cannot read (or over 64 MiB)\n", path);
        buf_release(&b);
        return -1;
    }
    /* A copy of exactly the file's bytes, so ASan sees reads past the end. */
    uint8_t *data = xmalloc(b.len ? b.len : 1);
    if (b.len > 0)
        memcpy(data, b.data, b.len);
    LLVMFuzzerTestOneInput(data, b.len);
    free(data);
    buf_release(&b);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue; /* a target without past crashes: no dir */
        if (!S_ISDIR(st.st_mode)) {
            bad |= run_file(argv[i]) != 0;
            n++;
            continue;
        }
        struct dirent **ents;
        int m = scandir(argv[i], &ents, NULL, by_name);
        for (int j = 0; j < m; j++) {
            if (ents[j]->d_name[0] != '.') {
                char *p = xasprintf("%s/%s", argv[i], ents[j]->d_name);
                bad |= run_file(p) != 0;
                n++;
                free(p);
            }
            free(ents[j]);
        }
        free(ents);
    }
    printf("%s: %d inputs replayed\n", argv[0], n);
    return bad ? 1 : 0;
}
