/* Built by a configure+make under policy/build-host.ini (tests/e2e/buildhost.sh). */
#include "config.h"

#include <stdio.h>

int main(void) {
#if defined(HAVE_UNAME) && defined(HAVE_SYS_UTSNAME_H) && defined(HAVE_STRNDUP)
        puts("hello, configured");
#else
        puts("hello, unconfigured");
#endif
        return 0;
}
