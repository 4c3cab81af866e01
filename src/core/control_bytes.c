/* Finding control bytes in a line: every line of every log goes through
 * this, so it reads eight bytes at a time and looks byte by byte only at a
 * word that may hold one. */
#include "vigil/core.h"

#include <stdint.h>
#include <string.h>

/* 1 if the word holds a byte below 0x20 or equal to 0x7f (exact as an
 * answer for the whole word, though not for which byte; TAB counts here). */
static inline int word_may_have_control(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t below = (x - ones * 0x20) & ~x & highs;
    uint64_t del = x ^ (ones * 0x7f);
    del = (del - ones) & ~del & highs;
    return (below | del) != 0;
}

static inline int is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

size_t vg_find_control(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (!word_may_have_control(x)) continue;
        for (size_t k = i; k < i + 8; k++)
            if (is_control((unsigned char)s[k])) return k;
    }
    for (; i < len; i++)
        if (is_control((unsigned char)s[i])) return i;
    return len;
}
