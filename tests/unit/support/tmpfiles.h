/* Temporary files and directories for unit tests (mkdtemp under $TMPDIR or
 * /tmp; never a fixed path). */
#ifndef DRR_TEST_TMPFILES_H
#define DRR_TEST_TMPFILES_H

/* Creates a fresh directory; returns its malloc'd path (aborts on failure). */
char *tmp_dir_new(void);
/* Writes content to DIR/name (mode 0600); returns the malloc'd path (aborts on failure). */
char *tmp_write(const char *dir, const char *name, const char *content);
/* Removes DIR and everything below it (no symlink followed), then frees dir. */
void tmp_dir_remove(char *dir);

#endif
