/*
 * engram.h - the C API of libengram, an inference engine for DeepSeek Engram
 * ("conditional memory") language models.
 *
 * If it is not in this header, it is not API.
 *
 * Conventions (they hold for every function below unless its note says otherwise):
 *
 *  - Status: functions return an engram_status. ENGRAM_OK is 0; on any other value a
 *    message for this thread is available from engram_last_error() and every output
 *    parameter is left untouched (the one exception: `*needed` of a caller-owned buffer
 *    is written with ENGRAM_E_BUFFER_TOO_SMALL, so the caller can grow the buffer).
 *  - Never a crash: NULL handles and pointers, zero, negative or absurd sizes are
 *    reported as ENGRAM_E_INVALID_ARGUMENT (or a more precise status), never a trap.
 *  - Handles are opaque. Every create/load has a free; free accepts NULL.
 *  - Caller-owned buffers come as (T *out, size_t capacity, size_t *needed): the
 *    function writes the number of elements it needs to *needed; if capacity is too
 *    small it returns ENGRAM_E_BUFFER_TOO_SMALL and writes nothing to out. Passing
 *    out == NULL with capacity == 0 is a size query: it returns ENGRAM_OK and sets *needed.
 *    Sizes are size_t, token ids int32_t, hashes/row ids int64_t, tensors float32 row-major.
 *  - Strings in are UTF-8 with an explicit byte length (no NUL needed); strings out are
 *    NUL-terminated UTF-8 owned by the library unless stated otherwise.
 *  - Threads: a model or tokenizer is immutable after load and may be shared by any
 *    number of threads; a context belongs to one thread at a time. engram_last_error()
 *    is per thread.
 */
#ifndef ENGRAM_H
#define ENGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ENGRAM_API __attribute__((visibility("default")))
#else
#define ENGRAM_API
#endif

/* ------------------------------------------------------------------------------------ */
/* Versions                                                                             */
/* ------------------------------------------------------------------------------------ */

#define ENGRAM_VERSION_MAJOR 0
#define ENGRAM_VERSION_MINOR 1
#define ENGRAM_VERSION_PATCH 0
#define ENGRAM_VERSION_STRING "0.1.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH */
#define ENGRAM_VERSION_NUMBER \
    (ENGRAM_VERSION_MAJOR * 1000000 + ENGRAM_VERSION_MINOR * 1000 + ENGRAM_VERSION_PATCH)
/* Bumped whenever a declaration in this header changes incompatibly. */
#define ENGRAM_ABI_VERSION 1

/* The runtime library's version, "MAJOR.MINOR.PATCH"; equals ENGRAM_VERSION_STRING when
 * header and library match. Static storage, never NULL. Thread-safe. */
ENGRAM_API const char *engram_version(void);

/* The runtime library's ENGRAM_VERSION_NUMBER. Thread-safe. */
ENGRAM_API int32_t engram_version_number(void);

/* The runtime library's ENGRAM_ABI_VERSION; a host built against another ABI version
 * must not call anything else. Thread-safe. */
ENGRAM_API int32_t engram_abi_version(void);

/* ------------------------------------------------------------------------------------ */
/* Status and errors                                                                    */
/* ------------------------------------------------------------------------------------ */

typedef enum engram_status {
    ENGRAM_OK = 0,
    ENGRAM_E_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, bad value */
    ENGRAM_E_BUFFER_TOO_SMALL = 2, /* caller buffer too small; *needed tells the size */
    ENGRAM_E_IO = 3,               /* a file could not be opened, read or mapped */
    ENGRAM_E_FORMAT = 4,           /* a file is malformed or inconsistent */
    ENGRAM_E_UNSUPPORTED = 5,      /* valid input asking for a feature not implemented */
    ENGRAM_E_OUT_OF_RANGE = 6,     /* an id, layer or position outside its range */
    ENGRAM_E_OUT_OF_MEMORY = 7,    /* an allocation failed or would exceed limits */
    ENGRAM_E_INVALID_UTF8 = 8,     /* text is not valid UTF-8; the message names the offset */
    ENGRAM_E_STATE = 9,            /* the call does not fit the object's state (context full) */
    ENGRAM_E_CANCELLED = 10,       /* a callback asked to stop */
    ENGRAM_E_INTERNAL = 11         /* a bug in libengram; please report it */
} engram_status;

/* A short constant description of a status ("ok", "invalid argument", ...); unknown
 * values give "unknown status". Static storage, never NULL. Thread-safe. */
ENGRAM_API const char *engram_status_string(engram_status status);

/* The message of the last failed call on this thread, "" if the last call succeeded.
 * Owned by the library; valid until the next libengram call on the same thread.
 * Never NULL. */
ENGRAM_API const char *engram_last_error(void);

/* ------------------------------------------------------------------------------------ */
/* Tokenizer (tokenizer.json, byte-level BPE)                                           */
/* ------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------ */
/* Model: load, compress, hash, retrieve                                                */
/* ------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------ */
/* Fuse, forward, context and generation                                                */
/* ------------------------------------------------------------------------------------ */

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_H */
