/* UTF-8 as the escapers of records (audit.c) and messages (log.c) read it: one rule for
 * what is text and what is shown as \xNN. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at p (n bytes left; 1 for ASCII), or 0:
 * overlong forms, surrogates, code points above U+10FFFF and cut sequences are not
 * well-formed (Unicode Table 3-7). */
size_t utf8_sequence(const unsigned char *p, size_t n);

/* Whether the sequence of len bytes at p is a C1 control (U+0080-U+009F): a terminal may act
 * on U+009B as on ESC [, so it is escaped like the C0 controls. */
static inline bool utf8_is_c1(const unsigned char *p, size_t len) {
        return len == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}
