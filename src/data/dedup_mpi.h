/* Dedup across MPI processes (internal to the data module; see dedup_mpi.c). */
#ifndef LMC_DATA_DEDUP_MPI_H
#define LMC_DATA_DEDUP_MPI_H

#include "data/data.h"
#include "data/dedup_plan.h"

/* 1 when MPI is initialized with more than one process; *rank, *size always set (0, 1 otherwise). */
int data_mpi_world(int *rank, int *size);

/* Distributed pass 1 of dedup (collective: every rank calls it). On rank 0, *edges (malloc'd) holds the
 * key equalities of all *ndocs documents, as one process finds them; other ranks get *ndocs set only. */
int data_dedup_mpi_pass1(const data_pipeline_cfg *c, const data_minhash *mh, int nthreads, data_dedup_edge **edges,
                         size_t *nedges, uint64_t *ndocs, lmc_err *err);

#endif
