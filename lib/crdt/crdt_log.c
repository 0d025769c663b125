/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Change index: entries ordered by local change sequence, without an op log.
 *
 * rec[] is append-only and sorted by seq. An entry owns exactly one valid record (bit set
 * in valid[]); changing it appends a new record and clears the old bit (one bit write into
 * a small bitmap, no pointer chasing). Exporting from a peer's cursor is a binary search
 * plus a forward walk over valid records. When the array holds 3x as many records as
 * entries (and at least 4096), it is compacted in place and every surviving entry learns
 * its new index: amortized O(1) per change, memory O(entries).
 */
#include "crdt_internal.h"

#define LOG_MIN_CAP 4096u

static int
log_reserve(struct crdt_log *l, uint32_t cap)
{
	struct crdt_logrec *rec;
	uint64_t *valid;
	size_t words = (cap + 63) / 64, old_words = (l->cap + 63) / 64;

	rec = realloc(l->rec, (size_t)cap * sizeof(*rec));
	if (rec == NULL)
		return -ENOMEM;
	l->rec = rec;
	valid = realloc(l->valid, words * sizeof(*valid));
	if (valid == NULL)
		return -ENOMEM;
	memset(valid + old_words, 0, (words - old_words) * sizeof(*valid));
	l->valid = valid;
	l->cap = cap;
	return 0;
}

int
crdt_log_init(struct crdt_log *l)
{
	memset(l, 0, sizeof(*l));
	return log_reserve(l, LOG_MIN_CAP);
}

void
crdt_log_fini(struct crdt_log *l)
{
	free(l->rec);
	free(l->valid);
	memset(l, 0, sizeof(*l));
}

static inline void
bit_clear(struct crdt_log *l, uint32_t i)
{
	l->valid[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

static inline void
bit_set(struct crdt_log *l, uint32_t i)
{
	l->valid[i >> 6] |= UINT64_C(1) << (i & 63);
}

static void
compact(struct crdt_log *l)
{
	uint32_t w = 0;

	for (uint32_t r = 0; r < l->len; r++) {
		if (!crdt_log_is_valid(l, r))
			continue;
		if (r + 8 < l->len)
			__builtin_prefetch(l->rec[r + 8].e, 1);
		l->rec[w] = l->rec[r];
		l->rec[w].e->log_idx = w;
		w++;
	}
	memset(l->valid, 0, ((l->len + 63) / 64) * sizeof(*l->valid));
	for (uint32_t i = 0; i < w / 64; i++)
		l->valid[i] = UINT64_MAX;
	for (uint32_t i = w & ~63u; i < w; i++)
		bit_set(l, i);
	l->len = w;
}

int
crdt_log_prepare(struct mesh_crdt_store *s)
{
	struct crdt_log *l = &s->log;

	if (mesh_likely(l->len < l->cap))
		return 0;
	if (l->len >= MESH_MAX(LOG_MIN_CAP, 3 * (uint64_t)l->live)) {
		compact(l);
		crdt_ctr(s, MESH_CTR_crdt_log_compact, 1);
		if (l->len < l->cap)
			return 0;
	}
	if (l->cap > UINT32_MAX / 2)
		return -ENOMEM;
	return log_reserve(l, l->cap * 2);
}

void
crdt_log_append(struct crdt_log *l, struct crdt_entry *e, bool had_record)
{
	if (had_record) {
		bit_clear(l, e->log_idx);
		l->live--;
	}
	l->rec[l->len].seq = e->seq;
	l->rec[l->len].e = e;
	bit_set(l, l->len);
	e->log_idx = l->len;
	l->len++;
	l->live++;
}

void
crdt_log_forget(struct crdt_log *l, struct crdt_entry *e)
{
	bit_clear(l, e->log_idx);
	l->rec[e->log_idx].e = NULL;
	l->live--;
}

uint32_t
crdt_log_seek(const struct crdt_log *l, uint64_t seq)
{
	uint32_t lo = 0, hi = l->len;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (l->rec[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
