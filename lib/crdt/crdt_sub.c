/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subscriptions: prefix -> bounded FIFO of copied events. The merge core calls
 * crdt_sub_notify after a change is fully applied, so a subscriber sees the post-merge
 * state (for epoch_max the merged value, for a losing remote op nothing at all). A queue
 * full by count or by bytes drops the new event and counts it (never blocks the merge
 * lcore); consumers that need completeness re-read with get/foreach. Events are polled on
 * the store's thread; the returned event stays valid until the next poll.
 */
#include "crdt_internal.h"

static const struct {
	const char *prefix;
	uint32_t capacity;
} default_caps[] = {
	{ "worker:", 1000 }, { "policy:", 100 }, { "rl:", 100 },	{ "config:", 100 },
	{ "td:", 50 },	     { "tree:req:", 100 }, { "tree:page:", 32 },
};

uint32_t
mesh_crdt_sub_default_capacity(const char *prefix)
{
	for (size_t i = 0; prefix && i < MESH_ARRAY_SIZE(default_caps); i++)
		if (strcmp(prefix, default_caps[i].prefix) == 0)
			return default_caps[i].capacity;
	return 100;
}

struct mesh_crdt_sub *
mesh_crdt_sub_new(struct mesh_crdt_store *s, const void *prefix, size_t prefix_len,
		  uint32_t capacity, size_t max_bytes)
{
	struct mesh_crdt_sub *sub;

	if (s == NULL || capacity == 0 || prefix_len > MESH_CRDT_KEY_MAX ||
	    (prefix_len && prefix == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	sub = calloc(1, sizeof(*sub));
	if (sub == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	sub->ring = calloc(capacity, sizeof(*sub->ring));
	if (sub->ring == NULL) {
		free(sub);
		errno = ENOMEM;
		return NULL;
	}
	if (prefix_len)
		memcpy(sub->prefix, prefix, prefix_len);
	sub->prefix_len = (uint32_t)prefix_len;
	sub->capacity = capacity;
	sub->max_bytes = max_bytes;
	sub->store = s;
	sub->next = s->subs;
	s->subs = sub;
	s->n_subs++;
	return sub;
}

static void
ev_free(struct crdt_subev *ev)
{
	free(ev->buf);
	ev->buf = NULL;
}

static void
sub_free(struct mesh_crdt_sub *sub)
{
	for (uint32_t i = 0; i < sub->count; i++)
		ev_free(&sub->ring[(sub->head + i) % sub->capacity]);
	ev_free(&sub->cur);
	free(sub->ring);
	free(sub);
}

void
mesh_crdt_sub_delete(struct mesh_crdt_sub *sub)
{
	struct mesh_crdt_sub **pp;

	if (sub == NULL)
		return;
	for (pp = &sub->store->subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			sub->store->n_subs--;
			break;
		}
	}
	sub_free(sub);
}

void
crdt_sub_free_all(struct mesh_crdt_store *s)
{
	while (s->subs != NULL) {
		struct mesh_crdt_sub *n = s->subs->next;

		sub_free(s->subs);
		s->subs = n;
	}
	s->n_subs = 0;
}

void
crdt_sub_notify(struct mesh_crdt_store *s, const void *key, uint32_t key_len,
		const void *value, uint32_t value_len, uint8_t flags, uint64_t peer,
		uint64_t origin_ns)
{
	size_t sz = (size_t)key_len + value_len;

	for (struct mesh_crdt_sub *sub = s->subs; sub != NULL; sub = sub->next) {
		struct crdt_subev *ev;

		if (key_len < sub->prefix_len || memcmp(key, sub->prefix, sub->prefix_len) != 0)
			continue;
		if (sub->mark_only) { /* crdt_watch.c */
			sub->marks++;
			continue;
		}
		if (sub->count == sub->capacity ||
		    (sub->max_bytes && sub->bytes + sz > sub->max_bytes)) {
			sub->dropped++;
			crdt_ctr(s, MESH_CTR_crdt_sub_drop, 1);
			continue;
		}
		ev = &sub->ring[(sub->head + sub->count) % sub->capacity];
		ev->buf = malloc(sz ? sz : 1);
		if (ev->buf == NULL) {
			sub->dropped++;
			crdt_ctr(s, MESH_CTR_crdt_sub_drop, 1);
			continue;
		}
		memcpy(ev->buf, key, key_len);
		if (value_len)
			memcpy(ev->buf + key_len, value, value_len);
		ev->key_len = key_len;
		ev->value_len = value_len;
		ev->flags = flags;
		ev->peer = peer;
		ev->origin_ns = origin_ns;
		ev->seq = (flags & CRDT_EV_STREAM) ? 0 : s->seq; /* notify follows the change */
		sub->count++;
		sub->bytes += sz;
		crdt_ctr(s, MESH_CTR_crdt_sub_event, 1);
	}
}

int
mesh_crdt_sub_poll(struct mesh_crdt_sub *sub, struct mesh_crdt_event *ev)
{
	struct crdt_subev *e;

	ev_free(&sub->cur);
	if (sub->count == 0)
		return 0;
	e = &sub->ring[sub->head];
	sub->cur = *e;
	e->buf = NULL;
	sub->head = (sub->head + 1) % sub->capacity;
	sub->count--;
	sub->bytes -= (size_t)sub->cur.key_len + sub->cur.value_len;

	ev->key = sub->cur.buf;
	ev->key_len = sub->cur.key_len;
	ev->tombstone = (sub->cur.flags & CRDT_F_TOMB) != 0;
	ev->stream = (sub->cur.flags & CRDT_EV_STREAM) != 0;
	ev->value = ev->tombstone ? NULL : sub->cur.buf + sub->cur.key_len;
	ev->value_len = sub->cur.value_len;
	ev->peer = sub->cur.peer;
	ev->origin_ns = sub->cur.origin_ns;
	ev->seq = sub->cur.seq;
	return 1;
}

uint64_t
mesh_crdt_sub_dropped(const struct mesh_crdt_sub *sub)
{
	return sub->dropped;
}

uint32_t
mesh_crdt_sub_pending(const struct mesh_crdt_sub *sub)
{
	return sub->count;
}
