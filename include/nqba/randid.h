/* randid.h - random identifiers: 32 lowercase hex digits (128 bits) from
 * the kernel's CSPRNG, so that knowing one id (a job's, a lease token)
 * reveals nothing about another. */
#ifndef NQBA_RANDID_H
#define NQBA_RANDID_H

/* Fill out with a new id (NUL-terminated). NQ_EIO when getrandom fails
 * (out is then unspecified). */
int nq_random_id(char out[33]);
/* 1 when id is exactly 32 lowercase hex digits. */
int nq_id_valid(const char *id);

#endif
