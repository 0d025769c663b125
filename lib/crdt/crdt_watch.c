/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watch reads: a reader's cursor over the change index (crdt_log.c), like a peer's export
 * cursor but filtered by key prefix. The index holds each key's latest version once, in
 * local change sequence order, so reading from a cursor S yields every key changed after
 * S (its latest value or tombstone) in seq order; a key changed again later reappears
 * further on with its new seq, never earlier. What the index cannot give back are the
 * tombstones GC collected: the store remembers the highest seq of a collected tombstone
 * (gc_seq, raised in crdt_gc.c), and a resume from S is complete only if gc_seq <= S.
 * Each read is bounded in ops returned and in index records scanned, so a huge store is
 * read across many calls without stalling the merge core. A marker (a subscription that
 * only counts the changes under its prefix) tells a reader that nothing it watches changed,
 * so it need not scan the other prefixes' changes at all.
 */
#include "crdt_internal.h"

uint64_t
mesh_crdt_store_gc_seq(const struct mesh_crdt_store *s)
{
	return s->gc_seq;
}

bool
mesh_crdt_watch_can_resume(const struct mesh_crdt_store *s, uint64_t seq)
{
	return seq <= s->seq && s->gc_seq <= seq;
}

uint32_t
mesh_crdt_watch_read(const struct mesh_crdt_store *s, const void *prefix, size_t prefix_len,
		     uint64_t *cursor, uint64_t until, bool live_only, struct mesh_crdt_op *ops,
		     uint32_t max_ops, uint32_t max_scan, bool *done)
{
	const struct crdt_log *l = &s->log;
	uint32_t i = crdt_log_seek(l, *cursor), n = 0, scanned = 0;

	*done = false;
	for (; i < l->len && n < max_ops && scanned < max_scan; i++, scanned++) {
		const struct crdt_entry *e;

		if (l->rec[i].seq > until)
			break;
		*cursor = l->rec[i].seq;
		if (!crdt_log_is_valid(l, i))
			continue;
		e = l->rec[i].e;
		if (e->key_len < prefix_len || (prefix_len && memcmp(e->key, prefix, prefix_len)))
			continue;
		if (live_only && (e->flags & CRDT_F_TOMB))
			continue;
		crdt_entry_op(e, &ops[n++]);
	}
	if (i >= l->len || l->rec[i].seq > until) {
		*done = true;
		if (until != UINT64_MAX && *cursor < until)
			*cursor = until;
	}
	return n;
}

struct mesh_crdt_sub *
mesh_crdt_watch_mark_new(struct mesh_crdt_store *s, const void *prefix, size_t prefix_len)
{
	struct mesh_crdt_sub *sub = mesh_crdt_sub_new(s, prefix, prefix_len, 1, 0);

	if (sub != NULL)
		sub->mark_only = true;
	return sub;
}

uint64_t
mesh_crdt_watch_marks(const struct mesh_crdt_sub *sub)
{
	return sub->marks;
}
