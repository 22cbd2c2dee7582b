/* Parsing a "#!" line exactly as the kernel's binfmt_script does (fs/binfmt_script.c). */
#pragma once

#include <stddef.h>

/* buf holds the first EG_SHEBANG_BUF bytes of a file, zero-filled past its end (the kernel
 * zero-fills bprm->buf the same way). On success stores the interpreter path (NUL-terminated,
 * at most size-1 bytes) and returns 0, or 1 when the line also has the optional argument the
 * kernel passes to the interpreter, which is then stored in ret_arg (if not NULL; it holds
 * EG_SHEBANG_BUF bytes) and may be empty. Returns -ENOEXEC when the file is not a #! script or
 * the kernel would reject its #! line (no interpreter, or a name cut off by the buffer),
 * -ENAMETOOLONG if the name does not fit in size. */
int shebang_parse(const char buf[], char *ret_interp, size_t size, char *ret_arg);
