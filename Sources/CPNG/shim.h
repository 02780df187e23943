#ifndef CITSCI_PNG_SHIM_H
#define CITSCI_PNG_SHIM_H
#include <png.h>
/* PNG_IMAGE_SIZE and friends are function-like macros. */
static inline size_t citsci_png_image_row_stride(const png_image *img) { return PNG_IMAGE_ROW_STRIDE(*img); }
static inline size_t citsci_png_image_buffer_size(const png_image *img) { return PNG_IMAGE_SIZE(*img); }
#endif
