#ifndef CITSCI_RDKAFKA_SHIM_H
#define CITSCI_RDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif
