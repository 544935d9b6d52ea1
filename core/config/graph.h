/* graph.h - service dependency graph: topological waves and cycles. */
#ifndef SYSG_GRAPH_H
#define SYSG_GRAPH_H

#include <stddef.h>

/* N nodes; deps[i] lists the ndeps[i] node indexes node i depends on
 * (all < N). On success returns 0 and fills *waves (an array of *nwaves
 * arrays of node indexes, sizes in *wave_sizes): wave 0 holds nodes with no
 * dependencies, wave k nodes whose deepest dependency is in wave k-1.
 * Order inside a wave follows node index. Free with sysg_graph_free_waves.
 *
 * On a cycle returns -ELOOP and sets *cycle to a malloc'd array of node
 * indexes a -> b -> ... -> a (first element repeated at the end, length
 * *cycle_len), starting at the smallest index on the cycle; *waves is NULL.
 * -ENOMEM on allocation failure. */
int sysg_graph_waves(size_t n, size_t *const *deps, const size_t *ndeps,
		     size_t ***waves, size_t **wave_sizes, size_t *nwaves,
		     size_t **cycle, size_t *cycle_len);

void sysg_graph_free_waves(size_t **waves, size_t *wave_sizes, size_t nwaves);

/* Reverse order for stopping: fills ORDER (n entries) with node indexes
 * such that every node comes before all nodes it depends on. 0 or -ELOOP. */
int sysg_graph_stop_order(size_t n, size_t *const *deps, const size_t *ndeps,
			  size_t *order);

#endif
