/* randid.h - random identifiers: 32 lowercase hex digits (128 bits) from
 * the kernel's CSPRNG, so that knowing one id (a job's, a lease token)
 * reveals nothing about another. */
#ifndef NQBA_RANDID_H
#define NQBA_RANDID_H

/* Fill out with a new id (NUL-terminated). NQ_EIO when getrandom fails
 * (out is then unspecified). */
int nq_random_id(char out[33]);
/* The same shape, for records stored under it (jobs, decisions): the first
 * 12 digits are the time in milliseconds since 1970 (UTC), the other 20
 * random (80 bits). Ids made later sort later, so a store's index on them
 * takes each new one at its end instead of at a random page: far fewer
 * pages written per commit. Guessing one still means guessing 80 random
 * bits; what an id tells is when it was made. */
int nq_time_id(char out[33]);
/* 1 when id is exactly 32 lowercase hex digits. */
int nq_id_valid(const char *id);

#endif
