// glibc's allocator settings (mallopt), for the executable's start-up: see CitSci.main.
#include <malloc.h>
