#ifndef CITSCI_CURL_SHIM_H
#define CITSCI_CURL_SHIM_H
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>

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

/* A connection cache shared by every easy handle of one client, across threads: libcurl asks for
   a lock per kind of shared data; the mutexes live beside the share handle and go with it. */
typedef struct {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} citsci_curl_cache;

static void citsci_curl_cache_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u) {
    (void)h; (void)a;
    pthread_mutex_lock(&((citsci_curl_cache *)u)->locks[d]);
}
static void citsci_curl_cache_unlock(CURL *h, curl_lock_data d, void *u) {
    (void)h;
    pthread_mutex_unlock(&((citsci_curl_cache *)u)->locks[d]);
}

static inline citsci_curl_cache *citsci_curl_cache_new(void) {
    citsci_curl_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->share = curl_share_init();
    if (!c->share) { free(c); return NULL; }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&c->locks[i], NULL);
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, citsci_curl_cache_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, citsci_curl_cache_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return c;
}

static inline void citsci_curl_cache_free(citsci_curl_cache *c) {
    if (!c) return;
    curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&c->locks[i]);
    free(c);
}

static inline CURLcode citsci_curl_use_cache(CURL *h, citsci_curl_cache *c) { return curl_easy_setopt(h, CURLOPT_SHARE, c->share); }
#endif
