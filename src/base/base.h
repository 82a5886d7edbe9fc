/* The base module: everything the other modules share. Include this, or the single headers. */
#ifndef LMC_BASE_H
#define LMC_BASE_H
#include "base/error.h"
#include "base/mem.h"
#include "base/io.h"
#include "base/reader.h"
#include "base/json.h"
#include "base/rng.h"
#include "base/progress.h"
#include "base/jsonl.h"
#endif
