/* arena.h - region allocator with a hard size cap.
 *
 * Many small allocations that die together (one parse, one request) come
 * from an arena and are released at once by nq_arena_free. The cap makes a
 * hostile input fail with NQ_ELIMIT instead of exhausting memory. */
#ifndef NQBA_ARENA_H
#define NQBA_ARENA_H

#include <stddef.h>

typedef struct nq_arena_block nq_arena_block;

typedef struct nq_arena {
    nq_arena_block *head; /* private */
    size_t used;          /* read-only: bytes handed out, plus alignment */
    size_t reserved;      /* read-only: bytes taken from malloc */
    size_t max;           /* cap on reserved; 0 = no cap */
    size_t block;         /* default block size */
} nq_arena;

/* max = 0 means unlimited; block = 0 picks 64 KiB. */
void nq_arena_init(nq_arena *a, size_t block, size_t max);

/* Aligned (16 bytes) memory, or NULL when the cap or malloc fails. */
void *nq_arena_alloc(nq_arena *a, size_t size);

/* Zeroed memory, checking count * size for overflow. */
void *nq_arena_calloc(nq_arena *a, size_t count, size_t size);

/* Copy a string (len bytes, NUL added) into the arena. */
char *nq_arena_strndup(nq_arena *a, const char *s, size_t len);
char *nq_arena_strdup(nq_arena *a, const char *s);

/* Release every block; the arena may be reused after nq_arena_init. NULL ok. */
void nq_arena_free(nq_arena *a);

#endif
