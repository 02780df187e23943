#ifndef CITSCI_AVRO_SHIM_H
#define CITSCI_AVRO_SHIM_H
#include <avro.h>

/* The avro_value_* calls are macros dispatching through a vtable; Swift imports only functions. */
static inline avro_type_t citsci_avro_type(avro_value_t v) { return avro_value_get_type(&v); }
static inline int citsci_avro_get_size(avro_value_t v, size_t *n) { return avro_value_get_size(&v, n); }
static inline int citsci_avro_get_by_index(avro_value_t v, size_t i, avro_value_t *child, const char **name) {
    return avro_value_get_by_index(&v, i, child, name);
}
static inline int citsci_avro_get_discriminant(avro_value_t v, int *out) { return avro_value_get_discriminant(&v, out); }
static inline int citsci_avro_get_current_branch(avro_value_t v, avro_value_t *branch) {
    return avro_value_get_current_branch(&v, branch);
}
static inline int citsci_avro_get_boolean(avro_value_t v, int *out) { return avro_value_get_boolean(&v, out); }
static inline int citsci_avro_get_int(avro_value_t v, int32_t *out) { return avro_value_get_int(&v, out); }
static inline int citsci_avro_get_long(avro_value_t v, int64_t *out) { return avro_value_get_long(&v, out); }
static inline int citsci_avro_get_float(avro_value_t v, float *out) { return avro_value_get_float(&v, out); }
static inline int citsci_avro_get_double(avro_value_t v, double *out) { return avro_value_get_double(&v, out); }
static inline int citsci_avro_get_string(avro_value_t v, const char **s, size_t *n) { return avro_value_get_string(&v, s, n); }
static inline int citsci_avro_get_bytes(avro_value_t v, const void **b, size_t *n) { return avro_value_get_bytes(&v, b, n); }
static inline int citsci_avro_get_fixed(avro_value_t v, const void **b, size_t *n) { return avro_value_get_fixed(&v, b, n); }
static inline int citsci_avro_get_enum(avro_value_t v, int *out) { return avro_value_get_enum(&v, out); }

static inline int citsci_avro_set_null(avro_value_t *v) { return avro_value_set_null(v); }
static inline int citsci_avro_set_boolean(avro_value_t *v, int b) { return avro_value_set_boolean(v, b); }
static inline int citsci_avro_set_int(avro_value_t *v, int32_t x) { return avro_value_set_int(v, x); }
static inline int citsci_avro_set_long(avro_value_t *v, int64_t x) { return avro_value_set_long(v, x); }
static inline int citsci_avro_set_float(avro_value_t *v, float x) { return avro_value_set_float(v, x); }
static inline int citsci_avro_set_double(avro_value_t *v, double x) { return avro_value_set_double(v, x); }
static inline int citsci_avro_set_string_len(avro_value_t *v, const char *s, size_t n) { return avro_value_set_string_len(v, s, n); }
static inline int citsci_avro_set_bytes(avro_value_t *v, void *b, size_t n) { return avro_value_set_bytes(v, b, n); }
static inline int citsci_avro_set_fixed(avro_value_t *v, void *b, size_t n) { return avro_value_set_fixed(v, b, n); }
static inline int citsci_avro_set_enum(avro_value_t *v, int x) { return avro_value_set_enum(v, x); }
static inline int citsci_avro_set_branch(avro_value_t *v, int d, avro_value_t *branch) { return avro_value_set_branch(v, d, branch); }
static inline int citsci_avro_append(avro_value_t *v, avro_value_t *child, size_t *index) { return avro_value_append(v, child, index); }
static inline int citsci_avro_add(avro_value_t *v, const char *key, avro_value_t *child, size_t *index, int *is_new) {
    return avro_value_add(v, key, child, index, is_new);
}
static inline int citsci_avro_reset(avro_value_t *v) { return avro_value_reset(v); }
static inline void citsci_avro_value_decref(avro_value_t *v) { avro_value_decref(v); }
static inline void citsci_avro_iface_decref(avro_value_iface_t *i) { avro_value_iface_decref(i); }
static inline void citsci_avro_schema_decref(avro_schema_t s) { avro_schema_decref(s); }
#endif
