/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key table: open addressing with linear probing over 16-byte slots {xxh3, entry *}.
 * The home slot is the top bits of the hash (not the low bits) so that the slots of one
 * digest bucket form a contiguous run (bucket export scans 1/4096 of the table). Deletion
 * shifts the following cluster back instead of leaving markers, so lookups never degrade.
 * The table grows by doubling at 70 % load; a rehash moves slots only (hash is stored), it
 * never touches the entries.
 */
#include <sys/mman.h>

#include "crdt_internal.h"

#define CRDT_TABLE_MIN_BITS 12 /* >= log2(MESH_CRDT_DIGEST_BUCKETS) */
#define CRDT_TABLE_LOAD_PCT 70

#define HUGE_2M (UINT64_C(2) << 20)

/*
 * Large tables are 2 MiB aligned and marked for transparent huge pages: every lookup is a
 * random access, and a TLB miss per lookup costs as much as the cache miss itself.
 */
static struct crdt_slot *
slots_alloc(uint64_t n)
{
	size_t sz = (size_t)n * sizeof(struct crdt_slot);
	void *p;

	if (sz < HUGE_2M)
		return calloc(n, sizeof(struct crdt_slot));
	p = aligned_alloc(HUGE_2M, sz);
	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, sz, MADV_HUGEPAGE);
#endif
	memset(p, 0, sz);
	return p;
}

static int
table_alloc(struct crdt_table *t, uint32_t bits)
{
	uint64_t n = UINT64_C(1) << bits;

	t->slots = slots_alloc(n);
	if (t->slots == NULL)
		return -ENOMEM;
	t->bits = bits;
	t->mask = n - 1;
	t->grow_at = n * CRDT_TABLE_LOAD_PCT / 100;
	return 0;
}

int
crdt_table_init(struct crdt_table *t, uint64_t expected)
{
	uint32_t bits = CRDT_TABLE_MIN_BITS;

	while (bits < 40 && ((UINT64_C(1) << bits) * CRDT_TABLE_LOAD_PCT / 100) < expected)
		bits++;
	t->count = 0;
	return table_alloc(t, bits);
}

void
crdt_table_fini(struct crdt_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}

uint64_t
crdt_table_find(const struct crdt_table *t, uint64_t hash, const void *key, uint32_t key_len)
{
	uint64_t i = crdt_table_home(t, hash);

	for (;;) {
		const struct crdt_slot *sl = &t->slots[i];

		if (sl->e == NULL)
			return UINT64_MAX;
		if (sl->hash == hash && sl->e->key_len == key_len &&
		    memcmp(sl->e->key, key, key_len) == 0)
			return i;
		i = (i + 1) & t->mask;
	}
}

static void
place(struct crdt_table *t, uint64_t hash, struct crdt_entry *e)
{
	uint64_t i = crdt_table_home(t, hash);

	while (t->slots[i].e != NULL)
		i = (i + 1) & t->mask;
	t->slots[i].hash = hash;
	t->slots[i].e = e;
}

static int
grow(struct crdt_table *t)
{
	struct crdt_table old = *t;
	int rc = table_alloc(t, old.bits + 1);

	if (rc) {
		*t = old;
		return rc;
	}
	for (uint64_t i = 0; i <= old.mask; i++)
		if (old.slots[i].e != NULL)
			place(t, old.slots[i].hash, old.slots[i].e);
	t->count = old.count;
	free(old.slots);
	return 0;
}

int
crdt_table_insert(struct crdt_table *t, uint64_t hash, struct crdt_entry *e)
{
	if (t->count + 1 > t->grow_at) {
		int rc = grow(t);

		if (rc)
			return rc;
	}
	place(t, hash, e);
	t->count++;
	return 0;
}

void
crdt_table_remove_at(struct crdt_table *t, uint64_t idx)
{
	uint64_t hole = idx;
	uint64_t i = idx;

	for (;;) {
		uint64_t home;

		i = (i + 1) & t->mask;
		if (t->slots[i].e == NULL)
			break;
		home = crdt_table_home(t, t->slots[i].hash);
		/* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole].e = NULL;
	t->slots[hole].hash = 0;
	t->count--;
}
