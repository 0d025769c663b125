/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of chunked stream values (upstream ChunkAssembler rules, meshd bounds).
 *
 * Assemblies live in a small array (the bound is tens of entries, so a linear scan beats
 * a map). Each holds one generation of one (peer, key): a slot per fragment (pointer +
 * length), a received count and timestamps for GC and nack pacing. Bytes charged to an
 * assembly = fragment payload + one slot per declared fragment, so a hostile `total`
 * costs its sender budget, not ours. Completion concatenates the fragments into one
 * buffer handed to the caller.
 *
 * Fairness: a sender past its own caps (slots, bytes) loses its own assemblies; past the
 * global bounds the victim is taken from the sender holding the most, so whatever one
 * sender sends, another sender's value in progress is evicted only while that sender
 * holds more than it (above its fair share of the pool).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_stream.h"

struct frag {
	uint8_t *p;
	uint32_t len;
};

struct asm_ {
	uint64_t peer, origin, generation;
	uint8_t *key;
	size_t key_len;
	uint32_t total, received;
	uint64_t bytes;
	uint64_t created_ns, last_rx_ns, last_nack_ns;
	struct frag *frags;
};

struct mesh_stream_reasm {
	uint32_t max_assemblies, max_total_chunks;
	uint64_t max_bytes;
	uint32_t peer_max_assemblies; /* per sender */
	uint64_t peer_max_bytes;
	uint32_t n, cap;
	struct asm_ *a;
	struct mesh_stream_reasm_stats st;
	uint32_t *scratch; /* missing indices for nacks */
	uint32_t scratch_cap;
};

struct mesh_stream_reasm *
mesh_stream_reasm_new(uint32_t max_assemblies, uint64_t max_bytes, uint32_t max_total_chunks)
{
	struct mesh_stream_reasm *r;

	if (max_assemblies == 0 || max_total_chunks == 0) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->max_assemblies = max_assemblies;
	r->max_bytes = max_bytes;
	r->peer_max_assemblies = max_assemblies;
	r->peer_max_bytes = max_bytes;
	r->max_total_chunks = max_total_chunks;
	r->cap = max_assemblies + 1;
	r->a = calloc(r->cap, sizeof(*r->a));
	if (r->a == NULL) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void
mesh_stream_reasm_peer_limits(struct mesh_stream_reasm *r, uint32_t max_assemblies,
			      uint64_t max_bytes)
{
	r->peer_max_assemblies = max_assemblies != 0 ? max_assemblies : r->max_assemblies;
	r->peer_max_bytes = max_bytes != 0 ? max_bytes : r->max_bytes;
}

static void
asm_free(struct asm_ *a)
{
	if (a->frags != NULL)
		for (uint32_t i = 0; i < a->total; i++)
			free(a->frags[i].p);
	free(a->frags);
	free(a->key);
	memset(a, 0, sizeof(*a));
}

static void
remove_at(struct mesh_stream_reasm *r, uint32_t i)
{
	r->st.bytes -= r->a[i].bytes;
	asm_free(&r->a[i]);
	r->n--;
	if (i != r->n) {
		r->a[i] = r->a[r->n];
		memset(&r->a[r->n], 0, sizeof(r->a[0]));
	}
}

void
mesh_stream_reasm_delete(struct mesh_stream_reasm *r)
{
	if (r == NULL)
		return;
	while (r->n > 0)
		remove_at(r, r->n - 1);
	free(r->a);
	free(r->scratch);
	free(r);
}

static int
find(const struct mesh_stream_reasm *r, uint64_t peer, const uint8_t *key, size_t key_len)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (r->a[i].peer == peer && r->a[i].key_len == key_len &&
		    (key_len == 0 || memcmp(r->a[i].key, key, key_len) == 0))
			return (int)i;
	return -1;
}

static int
asm_init(struct asm_ *a, uint64_t peer, uint64_t origin, const uint8_t *key, size_t key_len,
	 uint64_t gen, uint32_t total, uint64_t now)
{
	a->frags = calloc(total, sizeof(*a->frags));
	a->key = malloc(key_len + 1);
	if (a->frags == NULL || a->key == NULL) {
		free(a->frags);
		free(a->key);
		a->frags = NULL;
		a->key = NULL;
		return -ENOMEM;
	}
	if (key_len > 0)
		memcpy(a->key, key, key_len);
	a->key_len = key_len;
	a->peer = peer;
	a->origin = origin;
	a->generation = gen;
	a->total = total;
	a->received = 0;
	a->bytes = (uint64_t)total * sizeof(struct frag);
	a->created_ns = a->last_rx_ns = now;
	a->last_nack_ns = 0;
	return 0;
}

/* What @peer holds: assemblies and bytes. */
static void
usage(const struct mesh_stream_reasm *r, uint64_t peer, uint32_t *n, uint64_t *bytes)
{
	*n = 0;
	*bytes = 0;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->a[i].peer == peer) {
			(*n)++;
			*bytes += r->a[i].bytes;
		}
}

/*
 * The sender holding the most (@by_bytes: bytes, else assemblies); on a tie @pref, the
 * sender whose fragment pushed past the bound.
 */
static uint64_t
heaviest(const struct mesh_stream_reasm *r, bool by_bytes, uint64_t pref)
{
	uint64_t best = pref, best_w = 0, w, b;
	uint32_t n;

	usage(r, pref, &n, &b);
	best_w = by_bytes ? b : n;
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->a[i].peer == best)
			continue;
		usage(r, r->a[i].peer, &n, &b);
		w = by_bytes ? b : n;
		if (w > best_w) {
			best = r->a[i].peer;
			best_w = w;
		}
	}
	return best;
}

/* @peer's oldest assembly (@largest: its largest), not @keep on a tie; -1 if none. */
static int
victim(const struct mesh_stream_reasm *r, uint64_t peer, bool largest, int keep)
{
	int v = -1;

	for (uint32_t i = 0; i < r->n; i++) {
		const struct asm_ *a = &r->a[i], *c = v >= 0 ? &r->a[v] : NULL;
		bool better, tie;

		if (a->peer != peer)
			continue;
		if (c == NULL) {
			v = (int)i;
			continue;
		}
		better = largest ? a->bytes > c->bytes : a->created_ns < c->created_ns;
		tie = largest ? a->bytes == c->bytes : a->created_ns == c->created_ns;
		if (better || (tie && v == keep))
			v = (int)i;
	}
	return v;
}

/* Remove @v; @keep follows the swap-remove, -1 once removed. True if @keep went. */
static bool
evict(struct mesh_stream_reasm *r, int v, int *keep)
{
	bool lost = v == *keep;

	if (lost)
		*keep = -1;
	else if (*keep == (int)r->n - 1)
		*keep = v; /* swap-remove moves the last slot into v */
	remove_at(r, (uint32_t)v);
	return lost;
}

/* Bounds after @peer's fragment went into @keep: its own caps, then the global ones taken
 * from the heaviest sender. Returns true if @keep went. */
static bool
enforce_bounds(struct mesh_stream_reasm *r, int *keep, uint64_t peer)
{
	/* per-sender caps equal to the global bounds leave it to those */
	bool own_slots = r->peer_max_assemblies < r->max_assemblies;
	bool own_bytes = r->peer_max_bytes < r->max_bytes;
	bool lost = false;
	uint32_t n;
	uint64_t b;

	usage(r, peer, &n, &b);
	while (own_slots && n > r->peer_max_assemblies) {
		lost |= evict(r, victim(r, peer, false, *keep), keep);
		r->st.evict_peer_count++;
		usage(r, peer, &n, &b);
	}
	while (own_bytes && n > 0 && b > r->peer_max_bytes) {
		lost |= evict(r, victim(r, peer, true, *keep), keep);
		r->st.evict_peer_bytes++;
		usage(r, peer, &n, &b);
	}
	while (r->n > r->max_assemblies) {
		lost |= evict(r, victim(r, heaviest(r, false, peer), false, *keep), keep);
		r->st.evict_count++;
	}
	while (r->st.bytes > r->max_bytes && r->n > 0) {
		lost |= evict(r, victim(r, heaviest(r, true, peer), true, *keep), keep);
		r->st.evict_bytes++;
	}
	return lost;
}

enum mesh_stream_chunk_res
mesh_stream_reasm_add(struct mesh_stream_reasm *r, uint64_t peer, uint64_t origin,
		      const uint8_t *key, size_t key_len, uint64_t generation, uint32_t index,
		      uint32_t total, const uint8_t *data, size_t len, uint64_t now_ns,
		      uint8_t **out, size_t *out_len)
{
	struct asm_ *a;
	int i;
	uint8_t *copy;

	if (total == 0 || total > r->max_total_chunks || index >= total || len > UINT32_MAX)
		return MESH_STREAM_CHUNK_BAD;
	i = find(r, peer, key, key_len);
	if (i >= 0) {
		a = &r->a[i];
		if (generation < a->generation)
			return MESH_STREAM_CHUNK_OLD_GEN;
		if (generation > a->generation) {
			remove_at(r, (uint32_t)i);
			r->st.gen_reset++;
			i = -1;
		} else if (total != a->total) {
			return MESH_STREAM_CHUNK_BAD;
		} else if (a->frags[index].p != NULL) {
			a->last_rx_ns = now_ns;
			return MESH_STREAM_CHUNK_DUP;
		}
	}
	if (i < 0) {
		if (r->n >= r->cap)
			return MESH_STREAM_CHUNK_NOMEM; /* cannot happen: bounds keep n <= max */
		i = (int)r->n;
		if (asm_init(&r->a[i], peer, origin, key, key_len, generation, total, now_ns) != 0)
			return MESH_STREAM_CHUNK_NOMEM;
		r->n++;
		r->st.bytes += r->a[i].bytes;
	}
	a = &r->a[i];
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return MESH_STREAM_CHUNK_NOMEM;
	if (len > 0)
		memcpy(copy, data, len);
	a->frags[index].p = copy;
	a->frags[index].len = (uint32_t)len;
	a->received++;
	a->bytes += len;
	r->st.bytes += len;
	a->last_rx_ns = now_ns;

	if (a->received == a->total) {
		size_t sum = 0, off = 0;
		uint8_t *v;

		for (uint32_t k = 0; k < a->total; k++)
			sum += a->frags[k].len;
		v = malloc(sum > 0 ? sum : 1);
		if (v == NULL) {
			remove_at(r, (uint32_t)i);
			return MESH_STREAM_CHUNK_NOMEM;
		}
		for (uint32_t k = 0; k < a->total; k++) {
			if (a->frags[k].len > 0)
				memcpy(v + off, a->frags[k].p, a->frags[k].len);
			off += a->frags[k].len;
		}
		remove_at(r, (uint32_t)i);
		r->st.completed++;
		*out = v;
		*out_len = sum;
		return MESH_STREAM_CHUNK_COMPLETE;
	}
	if (enforce_bounds(r, &i, peer))
		return MESH_STREAM_CHUNK_EVICTED;
	return MESH_STREAM_CHUNK_PENDING;
}

bool
mesh_stream_reasm_cancel(struct mesh_stream_reasm *r, uint64_t peer, const uint8_t *key,
			 size_t key_len)
{
	int i = find(r, peer, key, key_len);

	if (i < 0)
		return false;
	remove_at(r, (uint32_t)i);
	r->st.cancelled++;
	return true;
}

uint32_t
mesh_stream_reasm_gc(struct mesh_stream_reasm *r, uint64_t now_ns, uint64_t timeout_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->n;) {
		if (now_ns - r->a[i].created_ns > timeout_ns) {
			remove_at(r, i);
			n++;
		} else {
			i++;
		}
	}
	r->st.gc += n;
	return n;
}

uint32_t
mesh_stream_reasm_nacks(struct mesh_stream_reasm *r, uint64_t now_ns, uint64_t quiet_ns,
			uint64_t interval_ns, uint32_t max, mesh_stream_reasm_nack_f cb, void *ctx)
{
	uint32_t reported = 0;

	if (max > r->scratch_cap) {
		uint32_t *p = realloc(r->scratch, max * sizeof(*p));

		if (p == NULL)
			return 0;
		r->scratch = p;
		r->scratch_cap = max;
	}
	for (uint32_t i = 0; i < r->n; i++) {
		struct asm_ *a = &r->a[i];
		uint32_t m = 0;

		if (now_ns - a->last_rx_ns < quiet_ns ||
		    (a->last_nack_ns != 0 && now_ns - a->last_nack_ns < interval_ns))
			continue;
		for (uint32_t k = 0; k < a->total && m < max; k++)
			if (a->frags[k].p == NULL)
				r->scratch[m++] = k;
		if (m == 0)
			continue;
		a->last_nack_ns = now_ns;
		cb(ctx, a->peer, a->origin, a->key, a->key_len, a->generation, r->scratch, m);
		reported++;
	}
	return reported;
}

void
mesh_stream_reasm_stats(const struct mesh_stream_reasm *r, struct mesh_stream_reasm_stats *st)
{
	*st = r->st;
	st->assemblies = r->n;
}

uint64_t
mesh_stream_reasm_next_deadline(const struct mesh_stream_reasm *r, uint64_t timeout_ns,
				uint64_t quiet_ns, uint64_t interval_ns)
{
	uint64_t t = UINT64_MAX;

	/* the conditions of mesh_stream_reasm_gc and mesh_stream_reasm_nacks, turned round */
	for (uint32_t i = 0; i < r->n; i++) {
		const struct asm_ *a = &r->a[i];
		uint64_t nack = a->last_rx_ns + quiet_ns;

		if (a->last_nack_ns != 0)
			nack = MESH_MAX(nack, a->last_nack_ns + interval_ns);
		t = MESH_MIN(t, MESH_MIN(nack, a->created_ns + timeout_ns + 1));
	}
	return t;
}
