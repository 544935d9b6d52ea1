/* check_graph.c - topological waves, cycles and stop order. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "testutil.h"

#define MAXN 16

/* A graph under test: deps[i] points into storage[i]. */
struct g {
	size_t n;
	size_t storage[MAXN][MAXN];
	size_t *deps[MAXN];
	size_t ndeps[MAXN];
};

static void g_init(struct g *g, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->n = n;
	for (size_t i = 0; i < MAXN; i++)
		g->deps[i] = g->storage[i];
}

/* Node A depends on B. */
static void dep(struct g *g, size_t a, size_t b)
{
	g->deps[a][g->ndeps[a]++] = b;
}

struct result {
	int r;
	size_t **waves, *sizes, nwaves, *cycle, cycle_len;
};

static void run(struct g *g, struct result *res)
{
	res->r = sysg_graph_waves(g->n, g->deps, g->ndeps, &res->waves,
				  &res->sizes, &res->nwaves, &res->cycle,
				  &res->cycle_len);
}

static void result_free(struct result *res)
{
	sysg_graph_free_waves(res->waves, res->sizes, res->nwaves);
	free(res->cycle);
}

/* Wave K is exactly the COUNT node indexes that follow. */
static void expect_wave(const struct result *res, size_t k, size_t count,
			...)
{
	va_list ap;

	ck_assert_uint_lt(k, res->nwaves);
	ck_assert_msg(res->sizes[k] == count, "wave %zu has %zu nodes, want %zu",
		      k, res->sizes[k], count);
	va_start(ap, count);
	for (size_t i = 0; i < count; i++) {
		size_t want = va_arg(ap, size_t);

		ck_assert_msg(res->waves[k][i] == want,
			      "wave %zu[%zu] = %zu, want %zu", k, i,
			      res->waves[k][i], want);
	}
	va_end(ap);
}

/* The cycle is exactly the COUNT node indexes that follow. */
static void expect_cycle(const struct result *res, size_t count, ...)
{
	va_list ap;

	ck_assert_int_eq(res->r, -ELOOP);
	ck_assert_ptr_null(res->waves);
	ck_assert_uint_eq(res->nwaves, 0);
	ck_assert_ptr_nonnull(res->cycle);
	ck_assert_uint_eq(res->cycle_len, count);
	va_start(ap, count);
	for (size_t i = 0; i < count; i++) {
		size_t want = va_arg(ap, size_t);

		ck_assert_msg(res->cycle[i] == want, "cycle[%zu] = %zu, want %zu",
			      i, res->cycle[i], want);
	}
	va_end(ap);
}

/* ORDER from sysg_graph_stop_order puts every node before its deps. */
static void expect_stop_order_valid(struct g *g)
{
	size_t order[MAXN], pos[MAXN], seen = 0;

	ck_assert_int_eq(sysg_graph_stop_order(g->n, g->deps, g->ndeps, order),
			 0);
	for (size_t i = 0; i < g->n; i++)
		pos[i] = SIZE_MAX;
	for (size_t i = 0; i < g->n; i++) {
		ck_assert_uint_lt(order[i], g->n);
		ck_assert_msg(pos[order[i]] == SIZE_MAX, "node %zu twice",
			      order[i]);
		pos[order[i]] = i;
		seen++;
	}
	ck_assert_uint_eq(seen, g->n);
	for (size_t i = 0; i < g->n; i++)
		for (size_t k = 0; k < g->ndeps[i]; k++)
			ck_assert_msg(pos[i] < pos[g->deps[i][k]],
				      "%zu stops after its dependency %zu", i,
				      g->deps[i][k]);
}

#define Z(x) ((size_t)(x))

START_TEST(test_empty)
{
	struct g g;
	struct result res;
	size_t order[1];

	g_init(&g, 0);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 0);
	ck_assert_ptr_null(res.cycle);
	result_free(&res);
	ck_assert_int_eq(sysg_graph_stop_order(0, g.deps, g.ndeps, order), 0);
}
END_TEST

/* 0 <- 1 <- 2 <- 3 (3 depends on 2 ...). */
START_TEST(test_chain)
{
	struct g g;
	struct result res;
	size_t order[4];

	g_init(&g, 4);
	dep(&g, 1, 0);
	dep(&g, 2, 1);
	dep(&g, 3, 2);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 4);
	for (size_t k = 0; k < 4; k++)
		expect_wave(&res, k, 1, k);
	ck_assert_ptr_null(res.cycle);
	result_free(&res);
	ck_assert_int_eq(sysg_graph_stop_order(4, g.deps, g.ndeps, order), 0);
	ck_assert_uint_eq(order[0], 3);
	ck_assert_uint_eq(order[1], 2);
	ck_assert_uint_eq(order[2], 1);
	ck_assert_uint_eq(order[3], 0);
}
END_TEST

/* Reverse-indexed chain: 0 depends on 1 depends on 2. */
START_TEST(test_chain_reverse_indexes)
{
	struct g g;
	struct result res;

	g_init(&g, 3);
	dep(&g, 0, 1);
	dep(&g, 1, 2);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 3);
	expect_wave(&res, 0, 1, Z(2));
	expect_wave(&res, 1, 1, Z(1));
	expect_wave(&res, 2, 1, Z(0));
	result_free(&res);
	expect_stop_order_valid(&g);
}
END_TEST

/* 3 depends on 1 and 2, both depend on 0. */
START_TEST(test_diamond)
{
	struct g g;
	struct result res;

	g_init(&g, 4);
	dep(&g, 1, 0);
	dep(&g, 2, 0);
	dep(&g, 3, 2);
	dep(&g, 3, 1);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 3);
	expect_wave(&res, 0, 1, Z(0));
	expect_wave(&res, 1, 2, Z(1), Z(2));
	expect_wave(&res, 2, 1, Z(3));
	result_free(&res);
	expect_stop_order_valid(&g);
}
END_TEST

/* A node's wave is 1 + its deepest dependency, not its shallowest. */
START_TEST(test_uneven_depths)
{
	struct g g;
	struct result res;

	g_init(&g, 4);
	dep(&g, 1, 0);
	dep(&g, 2, 1);
	dep(&g, 3, 0);
	dep(&g, 3, 2);
	dep(&g, 3, 0);          /* duplicate edge */
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 4);
	expect_wave(&res, 3, 1, Z(3));
	result_free(&res);
	expect_stop_order_valid(&g);
}
END_TEST

/* 10 nodes, 5 levels of 2, each depending on both nodes of the level
 * below, listed in a shuffled index order. */
START_TEST(test_ten_node_five_levels)
{
	static const size_t lvl[10] = { 4, 0, 3, 1, 2, 0, 4, 2, 1, 3 };
	struct g g;
	struct result res;

	g_init(&g, 10);
	for (size_t i = 0; i < 10; i++)
		for (size_t j = 0; j < 10; j++)
			if (lvl[i] > 0 && lvl[j] == lvl[i] - 1)
				dep(&g, i, j);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 5);
	expect_wave(&res, 0, 2, Z(1), Z(5));
	expect_wave(&res, 1, 2, Z(3), Z(8));
	expect_wave(&res, 2, 2, Z(4), Z(7));
	expect_wave(&res, 3, 2, Z(2), Z(9));
	expect_wave(&res, 4, 2, Z(0), Z(6));
	result_free(&res);
	expect_stop_order_valid(&g);
}
END_TEST

START_TEST(test_independent)
{
	struct g g;
	struct result res;

	g_init(&g, 5);
	run(&g, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.nwaves, 1);
	expect_wave(&res, 0, 5, Z(0), Z(1), Z(2), Z(3), Z(4));
	result_free(&res);
	expect_stop_order_valid(&g);
}
END_TEST

START_TEST(test_self_loop)
{
	struct g g;
	struct result res;
	size_t order[3];

	g_init(&g, 3);
	dep(&g, 1, 0);
	dep(&g, 2, 2);
	run(&g, &res);
	expect_cycle(&res, 2, Z(2), Z(2));
	result_free(&res);
	ck_assert_int_eq(sysg_graph_stop_order(3, g.deps, g.ndeps, order),
			 -ELOOP);
}
END_TEST

START_TEST(test_two_cycle)
{
	struct g g;
	struct result res;

	g_init(&g, 4);
	dep(&g, 3, 1);
	dep(&g, 1, 3);
	dep(&g, 2, 0);
	run(&g, &res);
	expect_cycle(&res, 3, Z(1), Z(3), Z(1));
	result_free(&res);
}
END_TEST

/* 4 -> 2 -> 3 -> 4: reported from 2, in dependency direction. */
START_TEST(test_three_cycle)
{
	struct g g;
	struct result res;

	g_init(&g, 5);
	dep(&g, 4, 2);
	dep(&g, 2, 3);
	dep(&g, 3, 4);
	dep(&g, 1, 0);
	run(&g, &res);
	expect_cycle(&res, 4, Z(2), Z(3), Z(4), Z(2));
	result_free(&res);
}
END_TEST

/* 0 -> 1 -> 2 -> 3 -> 4 -> 2: nodes 0 and 1 only lead to the cycle, so
 * the cycle starts at 2 and does not include them. */
START_TEST(test_cycle_behind_prefix)
{
	struct g g;
	struct result res;

	g_init(&g, 6);
	dep(&g, 0, 1);
	dep(&g, 1, 2);
	dep(&g, 2, 3);
	dep(&g, 3, 4);
	dep(&g, 4, 2);
	dep(&g, 4, 5);          /* an acyclic branch off the cycle */
	run(&g, &res);
	expect_cycle(&res, 4, Z(2), Z(3), Z(4), Z(2));
	result_free(&res);
}
END_TEST

/* Two cycles: the one holding the smallest index is reported, and the
 * shortest path through it. */
START_TEST(test_two_cycles_smallest)
{
	struct g g;
	struct result res;

	g_init(&g, 7);
	dep(&g, 5, 6);
	dep(&g, 6, 5);
	dep(&g, 1, 4);
	dep(&g, 4, 3);
	dep(&g, 3, 1);
	dep(&g, 4, 1);          /* shorter: 1 -> 4 -> 1 */
	dep(&g, 0, 5);
	run(&g, &res);
	expect_cycle(&res, 3, Z(1), Z(4), Z(1));
	result_free(&res);
}
END_TEST

START_TEST(test_bad_index)
{
	struct g g;
	struct result res;

	g_init(&g, 2);
	dep(&g, 0, 2);
	run(&g, &res);
	ck_assert_int_eq(res.r, -EINVAL);
	ck_assert_ptr_null(res.waves);
	ck_assert_ptr_null(res.cycle);
}
END_TEST

START_TEST(test_cycle_out_params_optional)
{
	struct g g;
	size_t **waves, *sizes, nwaves;

	g_init(&g, 2);
	dep(&g, 0, 1);
	dep(&g, 1, 0);
	ck_assert_int_eq(sysg_graph_waves(2, g.deps, g.ndeps, &waves, &sizes,
					  &nwaves, NULL, NULL), -ELOOP);
	ck_assert_ptr_null(waves);
}
END_TEST

static Suite *make_graph_suite(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("waves");
	TCase *cy = tcase_create("cycles");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_chain_reverse_indexes);
	tcase_add_test(tc, test_diamond);
	tcase_add_test(tc, test_uneven_depths);
	tcase_add_test(tc, test_ten_node_five_levels);
	tcase_add_test(tc, test_independent);
	tcase_add_test(cy, test_self_loop);
	tcase_add_test(cy, test_two_cycle);
	tcase_add_test(cy, test_three_cycle);
	tcase_add_test(cy, test_cycle_behind_prefix);
	tcase_add_test(cy, test_two_cycles_smallest);
	tcase_add_test(cy, test_bad_index);
	tcase_add_test(cy, test_cycle_out_params_optional);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, cy);
	return s;
}

int main(void)
{
	return tu_run_suite(make_graph_suite());
}
