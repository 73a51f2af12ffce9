#include "core/sanitizer.h"

#if defined(__SANITIZE_ADDRESS__)
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *hook_command = "unknown";

/* Called from inside the sanitizer runtime: open/close only, no malloc. */
static void mark_report(void)
{
    const char *dir = getenv("DRR_SANITIZER_DIR");
    if (dir == NULL || dir[0] == '\0')
        return;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s.%ld", dir, hook_command, (long)getpid());
    if (n <= 0 || (size_t)n >= sizeof path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

/* The runtimes' weak hooks: ASan calls this on every error it reports, UBSan
 * on every report; LeakSanitizer's leak report ends in the death callback. */
void __asan_on_error(void);
void __asan_on_error(void)
{
    mark_report();
}

void __ubsan_on_report(void);
void __ubsan_on_report(void)
{
    mark_report();
}

void sanitizer_hooks_install(const char *command)
{
    if (command != NULL && command[0] != '\0')
        hook_command = command;
    __sanitizer_set_death_callback(mark_report);
}

int sanitizer_build(void)
{
    return 1;
}

#else

void sanitizer_hooks_install(const char *command)
{
    (void)command;
}

int sanitizer_build(void)
{
    return 0;
}

#endif
