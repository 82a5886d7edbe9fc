/* A program that claims to have been compiled for every extension the guard knows (it defines
 * lmc_build_isa_bits itself, so the library's build_isa.o is not linked). On any CPU that lacks one of
 * them, cpu_features.c's constructor must stop it before main with the message; isa_guard.sh checks
 * that. A CPU with all of them (none seen yet) cannot exercise the guard: main then exits 77, skipped. */
#include "kernels/cpu/isa_guard.h"
#include "kernels/cpu/kernels.h"
#include <stdio.h>

const unsigned lmc_build_isa_bits = (1u << LMC_X_NBITS) - 1;

int main(void) {
    lmc_cpu_features f = lmc_cpu_detect();   /* references cpu_features.o, which holds the guard */
    (void)f;
    char miss[512];
    if (lmc_isa_missing(lmc_build_isa_bits, lmc_cpu_isa_bits(), miss, sizeof miss) == 0) {
        printf("SKIP: this CPU has every extension the guard knows, so it cannot be made to fire\n");
        return 77;
    }
    printf("main ran: the guard did not stop a build this CPU lacks '%s' for\n", miss);
    return 0;
}
