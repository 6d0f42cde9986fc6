/* hex.h - the value of a hexadecimal digit, for the parsers that read
 * them (percent-encoding, \u escapes, URLs). */
#ifndef NQBA_HEX_H
#define NQBA_HEX_H

/* 0..15 for 0-9, a-f, A-F; -1 for anything else (any int, EOF too). */
static inline int nq_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
