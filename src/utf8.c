#include "utf8.h"

size_t utf8_sequence(const unsigned char *p, size_t n) {
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;
        if (p[0] < 0x80)
                return 1;
        if (p[0] < 0xc2)
                return 0;
        if (p[0] < 0xe0)
                len = 2;
        else if (p[0] < 0xf0) {
                len = 3;
                if (p[0] == 0xe0)
                        lo = 0xa0;
                else if (p[0] == 0xed)
                        hi = 0x9f;
        } else if (p[0] < 0xf5) {
                len = 4;
                if (p[0] == 0xf0)
                        lo = 0x90;
                else if (p[0] == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < len || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return len;
}
