#ifndef CITSCI_POSTGRES_SHIM_H
#define CITSCI_POSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
