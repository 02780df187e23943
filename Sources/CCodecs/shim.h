#ifndef CITSCI_CODECS_SHIM_H
#define CITSCI_CODECS_SHIM_H
#include <zlib.h>
#include <snappy-c.h>
/* inflateInit2/deflateInit2 are macros. */
static inline int citsci_inflate_init2(z_stream *s, int window_bits) { return inflateInit2(s, window_bits); }
static inline int citsci_deflate_init2(z_stream *s, int level, int window_bits) {
    return deflateInit2(s, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}
#endif
