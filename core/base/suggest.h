/* suggest.h - "did you mean": the likely intended word for a typo.
 *
 * Used for misspelt config keys, unknown commands, options and service
 * names. */
#ifndef SYSG_SUGGEST_H
#define SYSG_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance of A and B (SIZE_MAX when either is longer than
 * 64 characters). */
size_t sysg_edit_distance(const char *a, const char *b);

/* The closest of the NULL-terminated CANDIDATES to S (NULL when there
 * are none), its distance in *DIST. */
const char *sysg_closest(const char *s, const char *const *candidates,
			 size_t *dist);

/* The closest of the NULL-terminated CANDIDATES to S, or NULL when none
 * is close enough to be a likely typo (1 edit for words shorter than 3,
 * 2 below 6, a third of the length above). */
const char *sysg_suggest(const char *s, const char *const *candidates);

#endif
