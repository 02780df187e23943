// glibc calls Swift's Glibc module does not expose: the allocator's settings (mallopt, for the
// executable's start-up: see CitSci.main) and syncfs (a GNU extension: the folder sink makes a
// batch's frames durable with one call, see FrameFiles).
#include <malloc.h>

static inline int citsci_syncfs(int fd) {
    extern int syncfs(int);
    return syncfs(fd);
}
