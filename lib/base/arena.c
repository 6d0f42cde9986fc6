/* arena.c - region allocator: bump allocation in malloc'd blocks.
 *
 * Blocks form a singly linked list; the head is the block being filled.
 * Every byte taken from malloc, headers included, counts against max so the
 * cap bounds the process's real memory use. */
#include "nqba/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK ((size_t)64 * 1024)

struct nq_arena_block {
    nq_arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t off;  /* bytes of them handed out */
};

/* The header is padded so that data starts as aligned as malloc's result. */
#define ARENA_HDR \
    ((sizeof(nq_arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

static unsigned char *block_data(nq_arena_block *b) { return (unsigned char *)b + ARENA_HDR; }

void nq_arena_init(nq_arena *a, size_t block, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
    a->max = max;
    a->block = block ? block : ARENA_DEFAULT_BLOCK;
}

/* Carve size bytes from b, or NULL if they do not fit. Alignment is computed
 * on the address, so it holds even where malloc aligns to less than 16. */
static void *block_take(nq_arena *a, nq_arena_block *b, size_t size)
{
    unsigned char *p = block_data(b) + b->off;
    size_t pad = (size_t)(-(uintptr_t)p & (ARENA_ALIGN - 1));
    size_t left = b->size - b->off;
    if (pad > left || size > left - pad)
        return NULL;
    b->off += pad + size;
    a->used += pad + size;
    return p + pad;
}

/* A block that can hold `need` bytes: the default size, or larger for a big
 * request, or smaller when only that much of the cap remains. */
static nq_arena_block *block_new(nq_arena *a, size_t need)
{
    size_t size = need > a->block ? need : a->block;
    if (a->max) {
        size_t left = a->max > a->reserved ? a->max - a->reserved : 0;
        if (left < ARENA_HDR || left - ARENA_HDR < need)
            return NULL;
        if (size > left - ARENA_HDR)
            size = left - ARENA_HDR;
    }
    if (size > SIZE_MAX - ARENA_HDR)
        return NULL;
    nq_arena_block *b = malloc(ARENA_HDR + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->off = 0;
    a->reserved += ARENA_HDR + size;
    return b;
}

void *nq_arena_alloc(nq_arena *a, size_t size)
{
    if (size == 0)
        size = 1; /* distinct pointers for distinct calls */
    void *p = a->head ? block_take(a, a->head, size) : NULL;
    if (p)
        return p;
    if (size > SIZE_MAX - ARENA_HDR - ARENA_ALIGN)
        return NULL;
    size_t need = size + ARENA_ALIGN - 1;
    nq_arena_block *b = block_new(a, need);
    if (!b)
        return NULL;
    /* An oversized block goes behind the head so the head's free space is
     * not abandoned for one big allocation. */
    if (a->head && need > a->block) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return block_take(a, b, size);
}

void *nq_arena_calloc(nq_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = nq_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *nq_arena_strndup(nq_arena *a, const char *s, size_t len)
{
    if (!s || len == SIZE_MAX)
        return NULL;
    char *p = nq_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *nq_arena_strdup(nq_arena *a, const char *s)
{
    return s ? nq_arena_strndup(a, s, strlen(s)) : NULL;
}

void nq_arena_free(nq_arena *a)
{
    if (!a)
        return;
    nq_arena_block *b = a->head;
    while (b) {
        nq_arena_block *next = b->next;
        free(b);
        b = next;
    }
    /* Keep max and block so the arena can be reused as it was set up. */
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
}
