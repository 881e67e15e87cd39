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

/* A Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, Llama 3, Qwen2,
 * DeepSeek-V3 style), encoding to the same ids as the `tokenizers` library. Features the
 * file asks for that libengram does not implement are refused at load time with
 * ENGRAM_E_UNSUPPORTED and a message naming them, never silently approximated.
 * A tokenizer is immutable after load: any number of threads may use it at once. */
typedef struct engram_tokenizer engram_tokenizer;

/* Loads the tokenizer.json at `path` (NUL-terminated). On success *out receives a new
 * tokenizer the caller frees with engram_tokenizer_free. Errors: ENGRAM_E_IO (cannot read),
 * ENGRAM_E_FORMAT (malformed JSON or inconsistent vocabulary), ENGRAM_E_UNSUPPORTED. */
ENGRAM_API engram_status engram_tokenizer_load(const char *path, engram_tokenizer **out);

/* As engram_tokenizer_load, from `len` bytes of tokenizer.json content (copied as needed;
 * the caller keeps ownership of `json`). */
ENGRAM_API engram_status engram_tokenizer_load_from_memory(const char *json, size_t len,
                                                           engram_tokenizer **out);

/* Frees a tokenizer; NULL is accepted. */
ENGRAM_API void engram_tokenizer_free(engram_tokenizer *tok);

/* The number of token ids: one more than the largest id of the vocabulary and the added
 * tokens. Writes *out. */
ENGRAM_API engram_status engram_tokenizer_vocab_size(const engram_tokenizer *tok, size_t *out);

/* Encodes `text_len` bytes of UTF-8 `text` into token ids. With add_special != 0 the
 * tokens of the file's post-processor are added (e.g. Llama 3's <|begin_of_text|>);
 * special tokens written in the text are always recognised. Caller-owned buffer: *needed
 * receives the number of ids; ids == NULL with capacity 0 is a size query (it still
 * encodes: call once with a generous buffer when speed matters).
 * Errors: ENGRAM_E_INVALID_UTF8 (the message names the byte offset), ENGRAM_E_BUFFER_TOO_SMALL. */
ENGRAM_API engram_status engram_tokenize(const engram_tokenizer *tok, const char *text, size_t text_len,
                                         int add_special, int32_t *ids, size_t capacity, size_t *needed);

/* Decodes `n` ids into UTF-8 text (special tokens kept; bytes that do not form valid UTF-8
 * become U+FFFD). Caller-owned buffer of `capacity` bytes: *needed receives the text's
 * length in bytes plus one for the terminating NUL, which is written.
 * Errors: ENGRAM_E_OUT_OF_RANGE (an id outside the vocabulary), ENGRAM_E_BUFFER_TOO_SMALL. */
ENGRAM_API engram_status engram_detokenize(const engram_tokenizer *tok, const int32_t *ids, size_t n,
                                           char *out, size_t capacity, size_t *needed);

/* The spelling of token `id` as written in tokenizer.json (byte-level characters such as
 * "Ġthe" for model tokens, the content for added tokens), NUL-terminated, into a
 * caller-owned buffer as engram_detokenize. Errors: ENGRAM_E_OUT_OF_RANGE. */
ENGRAM_API engram_status engram_token_to_piece(const engram_tokenizer *tok, int32_t id,
                                               char *out, size_t capacity, size_t *needed);

/* The id of the token spelled exactly `piece` (`len` bytes of UTF-8), written to *id.
 * Errors: ENGRAM_E_OUT_OF_RANGE when no token has that spelling. */
ENGRAM_API engram_status engram_token_to_id(const engram_tokenizer *tok, const char *piece, size_t len,
                                            int32_t *id);

/* The Engram compression table (SPEC section 2): for every id in 0..vocab_size-1 its
 * compressed id, into a caller-owned int64_t buffer of vocab_size elements (*needed).
 * *count (may be NULL) receives the number of compressed ids. Computed on each call
 * (about a second for a 128k vocabulary): keep the result. */
ENGRAM_API engram_status engram_tokenizer_compression_table(const engram_tokenizer *tok, int64_t *out,
                                                            size_t capacity, size_t *needed,
                                                            size_t *count);

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
