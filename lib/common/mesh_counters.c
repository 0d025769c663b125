/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-writer counter tables. Each row is padded to a cache line so writers on different
 * lcores never share a line; reads sum rows with relaxed loads. Names and descriptions
 * are the module's X-macro arrays, referenced, not copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

int
mesh_counters_create(struct mesh_counters *t, const char *const *names,
		     const char *const *descs, uint32_t n, uint32_t n_rows)
{
	size_t bytes;
	void *mem;

	if (t == NULL || names == NULL || descs == NULL || n == 0 || n_rows == 0)
		return -EINVAL;
	t->names = names;
	t->descs = descs;
	t->n_counters = n;
	t->n_rows = n_rows;
	t->row_stride = MESH_ALIGN_UP(n, MESH_CACHE_LINE / sizeof(uint64_t));
	bytes = (size_t)t->row_stride * n_rows * sizeof(uint64_t);
	if (posix_memalign(&mem, MESH_CACHE_LINE, bytes) != 0)
		return -ENOMEM;
	memset(mem, 0, bytes);
	t->values = mem;
	return 0;
}

void
mesh_counters_destroy(struct mesh_counters *t)
{
	if (t == NULL)
		return;
	free(t->values);
	t->values = NULL;
}

uint64_t
mesh_counters_sum(const struct mesh_counters *t, uint32_t idx)
{
	uint64_t sum = 0;

	if (idx >= t->n_counters)
		return 0;
	for (uint32_t r = 0; r < t->n_rows; r++)
		sum += mesh_counter_read(&mesh_counters_row(t, r)[idx]);
	return sum;
}

void
mesh_counters_sum_all(const struct mesh_counters *t, uint64_t *out)
{
	memset(out, 0, sizeof(*out) * t->n_counters);
	for (uint32_t r = 0; r < t->n_rows; r++) {
		const uint64_t *row = mesh_counters_row(t, r);
		for (uint32_t i = 0; i < t->n_counters; i++)
			out[i] += mesh_counter_read(&row[i]);
	}
}
