/* graph.c - service dependency graph: topological waves and cycles.
 *
 * Waves come from Kahn's algorithm keeping each node's level (1 + the
 * deepest level among its dependencies). When some nodes are never freed
 * the graph has a cycle; the reported one is found by a breadth-first
 * search back to its smallest node, so it is also the shortest through it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

/* Reverse edges in compressed form: the dependents of node i are
 * rev[start[i] .. start[i + 1]). */
struct rgraph {
	size_t *start;
	size_t *rev;
};

static void rgraph_free(struct rgraph *g)
{
	free(g->start);
	free(g->rev);
}

static size_t count_edges(size_t n, const size_t *ndeps)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		m += ndeps[i];
	return m;
}

static int rgraph_build(struct rgraph *g, size_t n, size_t *const *deps,
			const size_t *ndeps)
{
	size_t m = count_edges(n, ndeps), *fill;

	g->start = calloc(n + 1, sizeof(size_t));
	g->rev = malloc((m ? m : 1) * sizeof(size_t));
	fill = calloc(n + 1, sizeof(size_t));
	if (!g->start || !g->rev || !fill) {
		free(fill);
		rgraph_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ndeps[i]; k++)
			g->start[deps[i][k] + 1]++;
	for (size_t i = 0; i < n; i++)
		g->start[i + 1] += g->start[i];
	memcpy(fill, g->start, (n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ndeps[i]; k++)
			g->rev[fill[deps[i][k]]++] = i;
	free(fill);
	return 0;
}

static int check_indexes(size_t n, size_t *const *deps, const size_t *ndeps)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ndeps[i]; k++)
			if (deps[i][k] >= n)
				return -EINVAL;
	return 0;
}

/* Kahn's algorithm: fills LEVEL (SIZE_MAX for nodes on or behind a cycle).
 * Returns the number of nodes placed. */
static size_t kahn_levels(size_t n, const size_t *ndeps,
			  const struct rgraph *g, size_t *level, size_t *queue)
{
	size_t *left = malloc((n ? n : 1) * sizeof(size_t));
	size_t head = 0, tail = 0;

	if (!left)
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		left[i] = ndeps[i];
		level[i] = 0;
		if (!left[i])
			queue[tail++] = i;
	}
	while (head < tail) {
		size_t u = queue[head++];

		for (size_t k = g->start[u]; k < g->start[u + 1]; k++) {
			size_t v = g->rev[k];

			if (level[v] < level[u] + 1)
				level[v] = level[u] + 1;
			if (--left[v] == 0)
				queue[tail++] = v;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (left[i])
			level[i] = SIZE_MAX;
	free(left);
	return tail;
}

/* Group nodes by level, in index order inside each level. */
static int build_waves(size_t n, const size_t *level, size_t nwaves,
		       size_t ***waves, size_t **wave_sizes)
{
	size_t **w = calloc(nwaves ? nwaves : 1, sizeof(*w));
	size_t *sz = calloc(nwaves ? nwaves : 1, sizeof(*sz));

	if (!w || !sz)
		goto oom;
	for (size_t i = 0; i < n; i++)
		sz[level[i]]++;
	for (size_t k = 0; k < nwaves; k++) {
		w[k] = malloc(sz[k] * sizeof(size_t));
		if (!w[k])
			goto oom;
		sz[k] = 0;
	}
	for (size_t i = 0; i < n; i++)
		w[level[i]][sz[level[i]]++] = i;
	*waves = w;
	*wave_sizes = sz;
	return 0;
oom:
	sysg_graph_free_waves(w, sz, w ? nwaves : 0);
	return -ENOMEM;
}

/* Shortest path from S back to S through nodes > S that are in CAND.
 * Returns its length in edges (0: none) and fills PATH from PARENT. */
static size_t cycle_through(size_t s, size_t n, size_t *const *deps,
			    const size_t *ndeps, const size_t *level,
			    size_t *parent, size_t *queue, size_t *path)
{
	size_t head = 0, tail = 0, len = 0, last = SIZE_MAX;

	for (size_t i = 0; i < n; i++)
		parent[i] = SIZE_MAX;
	queue[tail++] = s;
	while (head < tail && last == SIZE_MAX) {
		size_t u = queue[head++];

		for (size_t k = 0; k < ndeps[u]; k++) {
			size_t v = deps[u][k];

			if (v == s) {
				last = u;
				break;
			}
			if (v < s || level[v] != SIZE_MAX ||
			    parent[v] != SIZE_MAX)
				continue;
			parent[v] = u;
			queue[tail++] = v;
		}
	}
	if (last == SIZE_MAX)
		return 0;
	for (size_t v = last; v != s; v = parent[v])
		len++;
	path[0] = s;
	path[len + 1] = s;
	for (size_t v = last, i = len; v != s; v = parent[v], i--)
		path[i] = v;
	return len + 1;
}

static int find_cycle(size_t n, size_t *const *deps, const size_t *ndeps,
		      const size_t *level, size_t **cycle, size_t *cycle_len)
{
	size_t *parent = malloc(n * sizeof(size_t));
	size_t *queue = malloc(n * sizeof(size_t));
	size_t *path = malloc((n + 1) * sizeof(size_t));
	size_t len = 0;

	if (!parent || !queue || !path) {
		free(parent);
		free(queue);
		free(path);
		return -ENOMEM;
	}
	for (size_t s = 0; s < n && !len; s++)
		if (level[s] == SIZE_MAX)
			len = cycle_through(s, n, deps, ndeps, level, parent,
					    queue, path);
	free(parent);
	free(queue);
	if (cycle && cycle_len) {
		*cycle = path;
		*cycle_len = len + 1;
	} else {
		free(path);
	}
	return -ELOOP;
}

static size_t max_level(size_t n, const size_t *level)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (level[i] + 1 > m)
			m = level[i] + 1;
	return m;
}

/* Levels of all nodes; -ELOOP (with the cycle) when some have none. */
static int compute_levels(size_t n, size_t *const *deps, const size_t *ndeps,
			  size_t *level, size_t **cycle, size_t *cycle_len)
{
	struct rgraph g = { 0 };
	size_t *queue = malloc((n ? n : 1) * sizeof(size_t));
	size_t placed;
	int r = queue ? rgraph_build(&g, n, deps, ndeps) : -ENOMEM;

	if (r < 0) {
		free(queue);
		return r;
	}
	placed = kahn_levels(n, ndeps, &g, level, queue);
	free(queue);
	rgraph_free(&g);
	if (placed == SIZE_MAX)
		return -ENOMEM;
	if (placed < n)
		return find_cycle(n, deps, ndeps, level, cycle, cycle_len);
	return 0;
}

int sysg_graph_waves(size_t n, size_t *const *deps, const size_t *ndeps,
		     size_t ***waves, size_t **wave_sizes, size_t *nwaves,
		     size_t **cycle, size_t *cycle_len)
{
	size_t *level;
	int r;

	*waves = NULL;
	*wave_sizes = NULL;
	*nwaves = 0;
	if (cycle)
		*cycle = NULL;
	if (cycle_len)
		*cycle_len = 0;
	if (check_indexes(n, deps, ndeps) < 0)
		return -EINVAL;
	level = malloc((n ? n : 1) * sizeof(size_t));
	if (!level)
		return -ENOMEM;
	r = compute_levels(n, deps, ndeps, level, cycle, cycle_len);
	if (r == 0 && n > 0) {
		size_t m = max_level(n, level);

		r = build_waves(n, level, m, waves, wave_sizes);
		if (r == 0)
			*nwaves = m;
	}
	free(level);
	return r;
}

void sysg_graph_free_waves(size_t **waves, size_t *wave_sizes, size_t nwaves)
{
	for (size_t k = 0; waves && k < nwaves; k++)
		free(waves[k]);
	free(waves);
	free(wave_sizes);
}

int sysg_graph_stop_order(size_t n, size_t *const *deps, const size_t *ndeps,
			  size_t *order)
{
	size_t **waves, *sizes, nwaves, *cycle, cycle_len, pos = 0;
	int r = sysg_graph_waves(n, deps, ndeps, &waves, &sizes, &nwaves,
				 &cycle, &cycle_len);

	if (r < 0) {
		free(cycle);
		return r;
	}
	for (size_t k = nwaves; k-- > 0;)
		for (size_t i = 0; i < sizes[k]; i++)
			order[pos++] = waves[k][i];
	sysg_graph_free_waves(waves, sizes, nwaves);
	return 0;
}
