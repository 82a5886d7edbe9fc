/* The machine line of train.log (see hwinfo.h). */
#include "train/hwinfo.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void train_cpu_name(char *buf, size_t n) {
    char model[256] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            /* x86: "model name"; some Arm kernels: "Model" */
            if (strncmp(line, "model name", 10) && strncmp(line, "Model\t", 6)) continue;
            const char *c = strchr(line, ':');
            if (!c) continue;
            c++;
            while (*c == ' ' || *c == '\t') c++;
            snprintf(model, sizeof model, "%s", c);
            model[strcspn(model, "\n")] = 0;
            break;
        }
        fclose(f);
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(buf, n, "%s (%ld CPUs online)", model[0] ? model : "unknown CPU", online);
}
