/* The host's binfmt_misc handlers (/proc/sys/fs/binfmt_misc, fs/binfmt_misc.c): the program
 * the kernel runs in place of a file that none of its own loaders takes, so that the
 * handler can be judged before the exec as a #! interpreter is. What the kernel finally
 * runs is judged again at the exec stop (verify.h, verifier_judge_ran()), which also covers
 * a user namespace's own instance, which the supervisor cannot read. */
#pragma once

#include <stddef.h>

#define BINFMT_MISC_DIR "/proc/sys/fs/binfmt_misc"

/* The handler registered in the instance at dir for a file the exec names name (its
 * extension counts) and whose first head_len bytes are head (the kernel's buffer: the first
 * 256). Returns 1 with the interpreter's path, 0 when none matches (or binfmt_misc is not
 * mounted there, or disabled), or -errno. Where several match, the first in the
 * directory's order is taken; the kernel takes the one registered last, and the check at
 * the exec stop judges that one. */
int binfmt_handler(const char *dir, const char *name, const void *head, size_t head_len, char *ret_interp, size_t size);
