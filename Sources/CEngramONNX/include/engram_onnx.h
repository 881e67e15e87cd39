/*
 * engram_onnx.h - a plain C view of an ONNX model, over the ONNX library (libonnx 1.12,
 * protobuf). Internal to libengram: the Swift importer (Sources/Engram/Import) calls it;
 * no protobuf or C++ type crosses this header, and every C++ exception becomes a status
 * plus a message.
 *
 * Errors: functions returning int return an engram_onnx_status (0 = ok). On failure the
 * message is copied into (err, err_cap) as a NUL-terminated string (truncated to fit).
 *
 * Lifetime: every pointer handed out (names, dims, raw data, strings) points into the model
 * and stays valid until engram_onnx_free. A model is immutable after load, so concurrent
 * reads from several threads are safe.
 */
#ifndef ENGRAM_ONNX_H
#define ENGRAM_ONNX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Internal to libengram: not exported from the shared library (the version script exports
 * engram_*, and only include/engram.h is API). */
#pragma GCC visibility push(hidden)

/* Same values as engram_status / EngramError.Kind. */
enum {
    ENGRAM_ONNX_OK = 0,
    ENGRAM_ONNX_E_INVALID_ARGUMENT = 1,
    ENGRAM_ONNX_E_IO = 3,
    ENGRAM_ONNX_E_FORMAT = 4,
    ENGRAM_ONNX_E_OUT_OF_MEMORY = 7,
    ENGRAM_ONNX_E_INTERNAL = 11
};

/* Which repeated field of TensorProto holds typed (non-raw) data. */
enum {
    ENGRAM_ONNX_TYPED_NONE = 0,
    ENGRAM_ONNX_TYPED_FLOAT = 1,  /* float_data:  float  */
    ENGRAM_ONNX_TYPED_INT32 = 2,  /* int32_data:  int32_t (also f16/bf16 bits, int8, uint8, bool) */
    ENGRAM_ONNX_TYPED_INT64 = 3,  /* int64_data:  int64_t */
    ENGRAM_ONNX_TYPED_DOUBLE = 4, /* double_data: double */
    ENGRAM_ONNX_TYPED_UINT64 = 5, /* uint64_data: uint64_t (also uint32) */
    ENGRAM_ONNX_TYPED_STRING = 6  /* string_data: not readable through this header */
};

typedef struct engram_onnx_model engram_onnx_model;

/* One initializer. Fields that do not apply are 0 / NULL; lengths of -1 mean "absent". */
typedef struct engram_onnx_tensor {
    const char *name;
    int32_t data_type;          /* TensorProto.DataType: 1 float, 10 float16, 16 bfloat16, 7 int64, ... */
    int32_t rank;
    const int64_t *dims;        /* rank entries */
    int32_t has_raw_data;       /* raw_data field present */
    const void *raw_data;
    size_t raw_size;
    int32_t typed_field;        /* ENGRAM_ONNX_TYPED_* of the first non-empty typed field */
    const void *typed_data;
    size_t typed_count;         /* elements of typed_field */
    int32_t is_external;        /* data_location == EXTERNAL */
    const char *location;       /* external_data "location" (NULL when absent) */
    int64_t offset;             /* external_data "offset" (0 when absent) */
    int64_t length;             /* external_data "length" (-1 when absent) */
    int32_t has_segment;        /* TensorProto.segment set (not supported by the engine) */
} engram_onnx_tensor;

/* One graph node (for mapping renamed or transposed initializers back to their names). */
typedef struct engram_onnx_node {
    const char *op_type;
    const char *name;
    const char *domain;
    size_t input_count;
    size_t output_count;
} engram_onnx_node;

/* Parses the model file at `path` (NUL-terminated). The external data is not read. */
int engram_onnx_load(const char *path, engram_onnx_model **out, char *err, size_t err_cap);

/* Frees a model; NULL is fine. */
void engram_onnx_free(engram_onnx_model *model);

/* Runs the ONNX checker (onnx::checker::check_model) with the model's folder as the base of
 * external data locations. The message is the checker's. */
int engram_onnx_check(const engram_onnx_model *model, char *err, size_t err_cap);

int64_t engram_onnx_ir_version(const engram_onnx_model *model);
/* The opset version imported for the default ("" or "ai.onnx") domain, or -1. */
int64_t engram_onnx_opset(const engram_onnx_model *model);
const char *engram_onnx_producer(const engram_onnx_model *model);

size_t engram_onnx_initializer_count(const engram_onnx_model *model);
/* Fills *out with initializer i (i < count). */
int engram_onnx_initializer(const engram_onnx_model *model, size_t i, engram_onnx_tensor *out,
                            char *err, size_t err_cap);

size_t engram_onnx_metadata_count(const engram_onnx_model *model);
/* Key and value of metadata_props entry i; *key and *value point into the model. Returns 0,
 * or ENGRAM_ONNX_E_INVALID_ARGUMENT when i is out of range. */
int engram_onnx_metadata(const engram_onnx_model *model, size_t i, const char **key, size_t *key_len,
                         const char **value, size_t *value_len);

size_t engram_onnx_node_count(const engram_onnx_model *model);
int engram_onnx_node_info(const engram_onnx_model *model, size_t i, engram_onnx_node *out);
/* Input / output k of node i, or NULL when out of range. "" is an omitted optional input. */
const char *engram_onnx_node_input(const engram_onnx_model *model, size_t i, size_t k);
const char *engram_onnx_node_output(const engram_onnx_model *model, size_t i, size_t k);
/* The INTS attribute `attr` of node i (e.g. Transpose's "perm"): 1 and *values and *count when
 * present, 0 when not. */
int engram_onnx_node_ints(const engram_onnx_model *model, size_t i, const char *attr,
                          const int64_t **values, size_t *count);
/* The INT attribute `attr` of node i: 1 and *value when present, 0 when not. */
int engram_onnx_node_int(const engram_onnx_model *model, size_t i, const char *attr, int64_t *value);

/* Graph inputs and outputs (names). */
size_t engram_onnx_graph_input_count(const engram_onnx_model *model);
const char *engram_onnx_graph_input(const engram_onnx_model *model, size_t i);
size_t engram_onnx_graph_output_count(const engram_onnx_model *model);
const char *engram_onnx_graph_output(const engram_onnx_model *model, size_t i);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_ONNX_H */
