/* Verified near-dedup (internal to the data module; see dedup_plan.c).
 *
 * Pass 1 turns equal keys into edges; the plan built from them says, for pass 2, which documents share an
 * exact key (the first copy is the representative) and which share an LSH bucket (candidates). Pass 2 then
 * visits the documents in input order and keeps each one unless a kept document among its candidates is
 * at least `threshold` similar, so every removed document names a kept partner above the threshold and
 * similarity is never treated as transitive. */
#ifndef LMC_DATA_DEDUP_PLAN_H
#define LMC_DATA_DEDUP_PLAN_H

#include "data/data.h"

/* One key equality from pass 1: tag 0 = exact key, 1 + b = LSH band b; a is the smallest document of the
 * run of equal keys, b another member. The same edge set comes from one process or from MPI ranks. */
typedef struct data_dedup_edge { uint32_t tag, a, b; } data_dedup_edge;

/* What pass 2 computes for a candidate document (the fields its verification mode needs). */
typedef struct data_dedup_item {
    uint64_t *set;    /* sorted distinct shingle hashes (jaccard, both) */
    size_t nset;
    uint64_t *sig;    /* MinHash signature, bands*rows values (signature, both) */
} data_dedup_item;

typedef struct data_dedup_plan data_dedup_plan;

/* Build the plan for n documents from the edges (sorted in place, so their order does not matter). */
int data_dedup_plan_new(data_dedup_plan **p, size_t n, data_dedup_edge *e, size_t ne, const data_minhash *mh,
                        double threshold, int verify, lmc_err *err);
/* Does pass 2 need document i's item (it is an exact representative sharing an LSH bucket)? */
int data_dedup_plan_needs(const data_dedup_plan *p, uint32_t i);
/* Compute the item of a document (thread-safe; tmp and sig scratch are per thread). */
int data_dedup_item_compute(const data_dedup_plan *p, const char *text, size_t len, data_dedup_item *it,
                            lmc_buf *tmp, lmc_err *err);
void data_dedup_item_free(data_dedup_item *it);
/* Decide document i; call for i = 0, 1, 2, ... in order. Takes over it's arrays (it may be NULL when
 * data_dedup_plan_needs said no). */
int data_dedup_plan_visit(data_dedup_plan *p, uint32_t i, data_dedup_item *it, lmc_err *err);
/* After the visit: the kept partner of document i (i itself when kept), the similarity to it (1 for an
 * exact copy of a kept document) and whether the removal was an exact match. */
uint32_t data_dedup_partner(const data_dedup_plan *p, uint32_t i);
double data_dedup_similarity(const data_dedup_plan *p, uint32_t i);
int data_dedup_is_exact(const data_dedup_plan *p, uint32_t i);
/* Counts and memory of the verification, as a JSON object for the report. */
json_t *data_dedup_plan_json(const data_dedup_plan *p);
size_t data_dedup_plan_bytes(const data_dedup_plan *p);  /* plan arrays + peak of held sets */
void data_dedup_plan_free(data_dedup_plan *p);

#endif
