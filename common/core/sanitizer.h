/* Sanitizer reports that a test cannot miss.
 *
 * Under `make asan` every command is built with AddressSanitizer + UBSan; a
 * report ends the command with exit 1 (23 for some leaks), which a test that
 * expects "any failure" (the driver with DBLab down, say) would accept. So,
 * in a sanitizer build only, every report (an ASan error, a UBSan error, a
 * LeakSanitizer leak) also creates an empty file named COMMAND.PID in the
 * directory $DRR_SANITIZER_DIR, when that is set: a test runner that sets it
 * fails the test whenever the directory is not empty afterwards. In a normal
 * build, and without the variable, this does nothing. */
#ifndef DRR_SANITIZER_H
#define DRR_SANITIZER_H

/* Installs the hooks (app_start does it for every command). Idempotent. */
void sanitizer_hooks_install(const char *command);

/* 1 when this build has the sanitizers (the hooks are real), else 0. */
int sanitizer_build(void);

#endif
