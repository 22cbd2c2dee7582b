/* json_parse() fed with arbitrary bytes (execguard learn reads audit files that may be cut
 * short or edited). Invariants: it never crashes or leaks (the sanitizers say), a parse
 * that fails says where, inside the input; a parse that succeeds gives strings without
 * NULs inside the bytes decoded, member names on every object member, and a tree that
 * json_get() walks.
 *
 * Input: the document, as a line of a JSON audit file. */
#include <string.h>

#include "fuzz.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct json *j, int depth) {
        for (; j; j = j->next) {
                if (depth > 70)
                        fuzz_fail("nested %d deep: past the parser's limit", depth);
                if (j->type == JSON_STRING && !j->string)
                        fuzz_fail("a string without its text");
                if (j->type == JSON_OBJECT)
                        for (const struct json *m = j->kid; m; m = m->next)
                                if (!m->key)
                                        fuzz_fail("an object member without a name");
                walk(j->kid, depth + 1);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct json *j = NULL;
        size_t at = 0;
        const char *why = NULL;
        int r = json_parse((const char *) data, size, &j, &at, &why);
        if (r < 0) {
                if (!why || at > size)
                        fuzz_fail("a failed parse without its place: %s at %zu of %zu", why ? why : "?", at, size);
                return 0;
        }
        walk(j, 0);
        (void) json_get_string(j, "event.action");
        (void) json_get(j, "process.parent.pid");
        json_free(j);
        return 0;
}
