/* Linked into the sanitizer build only (make check-asan; see tests/asan.sh).
 *
 * GCC links UBSan's runtime (libubsan) beside ASan's (libasan), each with its own copy of
 * the sanitizers' common code. libasan takes log_path from ASAN_OPTIONS; libubsan, not
 * initialised as a standalone runtime when ASan is there, ignores log_path wherever it is
 * given and writes its reports to stderr: /dev/null in the supervisor, the daemon and the
 * keeper, a file nobody reads in most tests. A report lost so proves nothing, so this
 * points libubsan's own report path (its __sanitizer_set_report_path(), not libasan's
 * of the same name) at EXECGUARD_UBSAN_LOG_PATH, before main(). */
#include <dlfcn.h>
#include <stdlib.h>

__attribute__((constructor)) static void ubsan_report_path(void) {
        const char *path = getenv("EXECGUARD_UBSAN_LOG_PATH");
        if (!path || !*path)
                return;
        void *ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
        if (!ubsan)
                return;
        void (*set_report_path)(const char *) = (void (*)(const char *)) dlsym(ubsan, "__sanitizer_set_report_path");
        if (set_report_path)
                set_report_path(path);
        dlclose(ubsan);
}
