/* The machine line of train.log ("cpu: ..."), which lmc report shows next to the compute line. */
#ifndef LMC_TRAIN_HWINFO_H
#define LMC_TRAIN_HWINFO_H

#include <stddef.h>

/* "AMD EPYC 9R14 (2 CPUs online)": /proc/cpuinfo's model name (or "unknown CPU"). */
void train_cpu_name(char *buf, size_t n);

#endif
