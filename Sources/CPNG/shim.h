#ifndef CITSCI_PNG_SHIM_H
#define CITSCI_PNG_SHIM_H
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* PNG_IMAGE_SIZE and friends are function-like macros. */
static inline size_t citsci_png_image_row_stride(const png_image *img) { return PNG_IMAGE_ROW_STRIDE(*img); }
static inline size_t citsci_png_image_buffer_size(const png_image *img) { return PNG_IMAGE_SIZE(*img); }

/* The classic writer, for what the simplified API cannot set: the row filter and the zlib level.
 * libpng reports errors by longjmp, so the setjmp lives here, in C, with no Swift frame between. */
typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
} citsci_png_buffer;

static void citsci_png_write_data(png_structp png, png_bytep bytes, size_t length) {
    citsci_png_buffer *b = (citsci_png_buffer *)png_get_io_ptr(png);
    if (b->size + length > b->capacity) {
        size_t cap = b->capacity ? b->capacity * 2 : 65536;
        while (cap < b->size + length) cap *= 2;
        unsigned char *grown = (unsigned char *)realloc(b->data, cap);
        if (!grown) { b->failed = 1; png_error(png, "out of memory"); }
        b->data = grown;
        b->capacity = cap;
    }
    memcpy(b->data + b->size, bytes, length);
    b->size += length;
}

static void citsci_png_flush(png_structp png) { (void)png; }

static void citsci_png_error(png_structp png, png_const_charp message) {
    char *slot = (char *)png_get_error_ptr(png);
    strncpy(slot, message, 199);
    slot[199] = 0;
    png_longjmp(png, 1);
}

static void citsci_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

/* Writes 8-bit grey (channels 1) or RGB (3) rows, top first, with an sRGB chunk. On success the
 * caller owns *out (free it); on failure returns 0 with the reason in error (200 bytes). */
static inline int citsci_png_write(const unsigned char *pixels, unsigned width, unsigned height, int channels,
                                   int level, int filters, unsigned char **out, size_t *out_size, char *error) {
    citsci_png_buffer buffer = {0, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, citsci_png_error, citsci_png_warning);
    if (!png) { strcpy(error, "png_create_write_struct failed"); return 0; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(buffer.data);
        if (!info) strcpy(error, "png_create_info_struct failed");
        return 0;
    }
    png_set_write_fn(png, &buffer, citsci_png_write_data, citsci_png_flush);
    png_set_IHDR(png, info, width, height, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_sRGB_gAMA_and_cHRM(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_set_compression_level(png, level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_write_info(png, info);
    for (unsigned y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = buffer.data;
    *out_size = buffer.size;
    return 1;
}
#endif
