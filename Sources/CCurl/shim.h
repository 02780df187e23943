#ifndef CITSCI_CURL_SHIM_H
#define CITSCI_CURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt/getinfo are variadic: one typed wrapper per argument kind. */
static inline CURLcode citsci_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode citsci_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode citsci_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode citsci_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode citsci_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*citsci_curl_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode citsci_curl_setopt_write_function(CURL *h, CURLoption o, citsci_curl_write_cb cb) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode citsci_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode citsci_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
#endif
