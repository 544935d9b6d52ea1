/* strset.c - see strset.h */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strset.h"

int sysg_strset_has(const struct sysg_strset *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 1;
	return 0;
}

int sysg_strset_add(struct sysg_strset *s, const char *str)
{
	char **v, *copy;

	if (sysg_strset_has(s, str))
		return 0;
	copy = strdup(str);
	v = copy ? realloc(s->v, (s->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	s->v = v;
	s->v[s->n++] = copy;
	return 0;
}

void sysg_strset_free(struct sysg_strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
