/* SPDX-License-Identifier: BSD-3-Clause */
/* Bump arena over caller memory; see mesh_common.h. */
#include "mesh_common.h"

void
mesh_arena_create(struct mesh_arena *a, void *buf, size_t size)
{
	a->base = buf;
	a->size = buf != NULL ? size : 0;
	a->used = 0;
	a->high_water = 0;
	a->failed = 0;
}

void *
mesh_arena_alloc(struct mesh_arena *a, size_t size, size_t align)
{
	uintptr_t start, end;

	if (align == 0)
		align = 16;
	if ((align & (align - 1)) != 0) {
		a->failed++;
		return NULL;
	}
	start = MESH_ALIGN_UP((uintptr_t)a->base + a->used, (uintptr_t)align);
	end = start + size;
	if (end < start || end > (uintptr_t)a->base + a->size) {
		a->failed++;
		return NULL;
	}
	a->used = end - (uintptr_t)a->base;
	if (a->used > a->high_water)
		a->high_water = a->used;
	return (void *)start;
}

void
mesh_arena_reset(struct mesh_arena *a)
{
	a->used = 0;
}
