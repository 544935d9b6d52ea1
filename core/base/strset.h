/* strset.h - a small set of strings that keeps insertion order.
 *
 * For the handful of service names a command walks (tens, not
 * thousands): membership is a linear scan. The set owns copies of its
 * strings. A zeroed struct is an empty set. */
#ifndef SYSG_STRSET_H
#define SYSG_STRSET_H

#include <stddef.h>

struct sysg_strset {
	char **v;       /* the strings, in the order they were first added */
	size_t n;
};

/* 1 when S holds STR, else 0. */
int sysg_strset_has(const struct sysg_strset *s, const char *str);

/* Add a copy of STR unless S already holds it. 0 or -ENOMEM (S is then
 * unchanged). */
int sysg_strset_add(struct sysg_strset *s, const char *str);

/* Free every string and the array; S is left empty and reusable. */
void sysg_strset_free(struct sysg_strset *s);

#endif
