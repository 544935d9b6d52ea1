/* suggest.c - "did you mean" (see suggest.h). */
#include <stdint.h>
#include <string.h>

#include "suggest.h"

size_t sysg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], i, j;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *sysg_closest(const char *s, const char *const *candidates,
			 size_t *dist)
{
	const char *best = NULL;

	*dist = SIZE_MAX;
	for (; *candidates; candidates++) {
		size_t d = sysg_edit_distance(s, *candidates);

		if (d < *dist) {
			*dist = d;
			best = *candidates;
		}
	}
	return best;
}

const char *sysg_suggest(const char *s, const char *const *candidates)
{
	size_t len = strlen(s), d;
	size_t limit = len < 6 ? (len < 3 ? 1 : 2) : len / 3;
	const char *best = sysg_closest(s, candidates, &d);

	return d <= limit ? best : NULL;
}
