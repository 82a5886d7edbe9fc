/* TensorBoard event files: the TFRecord framing and the three protobuf messages scalars need, by
 * hand (Debian 12 has no CRC32C library, and protobuf-c would need protoc-c and a .proto at build
 * time for what is ~60 lines of varint code here).
 *
 * A file is a sequence of records: uint64 length (little-endian), uint32 masked CRC32C of those 8
 * bytes, `length` bytes of data, uint32 masked CRC32C of the data; mask(c) = ((c >> 15) | (c << 17))
 * + 0xa282ead8. Each record is an Event message:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; ... }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; TensorProto tensor = 8; ... }
 * The first event of a file carries file_version "brain.Event:2". The writer puts one Event per step
 * with every scalar of that step as a simple_value (a float: TensorBoard's own precision). The reader
 * takes simple_value and also the tensor form of a scalar (TensorProto { dtype = 1; float_val = 5;
 * double_val = 6; tensor_content = 4 }, what tf.summary and TensorBoard's newer writers emit), skips
 * every other field and message, and checks both CRCs. */
#ifndef LMC_TRAIN_TB_EVENTS_H
#define LMC_TRAIN_TB_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/error.h"

uint32_t tb_crc32c(const void *data, size_t n);
uint32_t tb_masked_crc32c(const void *data, size_t n);

/* ---- writer ---- */
typedef struct tb_writer {
    FILE *f;
    char *path;
    unsigned char *vals; /* the open event's encoded Summary.Value fields */
    size_t len, cap;
    int open;            /* an event is open (written when the step changes, or on flush) */
    int64_t step;
    double wall;
} tb_writer;

/* Seconds since the Unix epoch (an event's wall_time). */
double tb_wall_now(void);

/* Create DIR (if needed) and DIR/events.out.tfevents.<time>.<host>[.N], write the file_version event. */
int tb_writer_open(tb_writer *w, const char *dir, double wall_time, lmc_err *err);
/* Add one scalar to the event of `step` (values of one step share one Event). */
int tb_writer_scalar(tb_writer *w, double wall_time, int64_t step, const char *tag, double value, lmc_err *err);
/* Write the open event and flush the file (TensorBoard reads a growing file). */
int tb_writer_flush(tb_writer *w, lmc_err *err);
int tb_writer_close(tb_writer *w, lmc_err *err);
/* One metrics.jsonl record (a JSON object with an integer "step"): every number in it, nested objects
 * flattened to "a/b" tags, becomes a scalar of that step (src/train/tb_metrics.c). So the event file
 * holds every scalar metrics.jsonl holds, whoever adds them. */
int tb_writer_metrics_line(tb_writer *w, const char *line, size_t len, double wall_time, lmc_err *err);

/* ---- reader ---- */
/* Called for every scalar, in file order. Return nonzero to stop (that value is returned). */
typedef int (*tb_scalar_fn)(void *ctx, double wall_time, int64_t step, const char *tag, double value);

/* Parse a whole event file held in memory; name is used in messages (name: record N at byte B: ...).
 * A record cut short at the very end (a writer still running, or killed) ends the file quietly, as
 * in TensorBoard; a CRC mismatch or a malformed message is an error. */
int tb_events_parse(const unsigned char *data, size_t len, const char *name, tb_scalar_fn fn, void *ctx,
                    lmc_err *err);
int tb_events_read_file(const char *path, tb_scalar_fn fn, void *ctx, lmc_err *err);
/* 1 if the file name looks like an event file (contains "tfevents"). */
int tb_is_event_file(const char *name);

#endif
