/* helper_file.h - tests only: write a file into a scratch directory. */
#ifndef LL_HELPER_FILE_H
#define LL_HELPER_FILE_H

#include <sys/types.h>

/* hf_write() - @dir/@name holds @text with permissions @mode; fails the test otherwise. */
void hf_write(const char *dir, const char *name, const char *text, mode_t mode);

#endif
