/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner-bound keys. A put may bind its key to the life of the writing replica (one node
 * boot); the flag rides with the winning version (CRDT_F_OWNED). When the node layer learns
 * that a life ended (declared dead, left, restarted) it calls mesh_crdt_owner_expire():
 * every live key whose winning version that replica owns gets an ordinary local tombstone
 * (a fresh version, so it replicates and beats the owned value everywhere), and the
 * replica joins a bounded FIFO set of ended lives. An owned value of an ended life that
 * arrives afterwards (late replication, anti-entropy through a third node) is applied as a
 * tombstone at its own version (crdt_owner_filter): at equal (ts, replica) a tombstone
 * beats a value, so every store that still holds that value converges to the delete.
 * Both kinds of expiry tombstone carry the owned flag. A life declared ended while it
 * still runs (a false death, or a partitioned node that declared everyone else dead)
 * refutes them the way SWIM refutes a suspicion: the owner's store, receiving an expiry
 * tombstone for a key whose winning version is its own owned value, writes that value
 * again at a fresh version (crdt_owner_reassert), which replaces the tombstone
 * everywhere; a store that still counts the life as ended turns that write into a
 * tombstone again until membership tells it otherwise (mesh_crdt_owner_revive), so owned
 * keys end up live exactly when their owner's life is. Plain deletes are never refuted.
 * Expiry scans the whole table once (deaths are rare); the set costs O(1) per owned op.
 */
#include "crdt_internal.h"

static inline uint32_t
slot_home(uint64_t replica)
{
	return (uint32_t)(XXH3_avalanche(replica) & (CRDT_OWNER_SLOTS - 1));
}

bool
crdt_owner_has(const struct crdt_owner_set *o, uint64_t replica)
{
	for (uint32_t i = slot_home(replica);; i = (i + 1) & (CRDT_OWNER_SLOTS - 1)) {
		if (o->slot[i] == replica)
			return true;
		if (o->slot[i] == 0)
			return false;
	}
}

/* Remove @replica from the slots (backward-shift deletion); false when absent. */
static bool
slot_remove(struct crdt_owner_set *o, uint64_t replica)
{
	uint32_t i = slot_home(replica), j;

	while (o->slot[i] != replica) {
		if (o->slot[i] == 0)
			return false;
		i = (i + 1) & (CRDT_OWNER_SLOTS - 1);
	}
	for (j = (i + 1) & (CRDT_OWNER_SLOTS - 1); o->slot[j] != 0;
	     j = (j + 1) & (CRDT_OWNER_SLOTS - 1)) {
		uint32_t h = slot_home(o->slot[j]);

		/* move slot j back into the hole at i unless its home lies in (i, j] */
		if (((j - h) & (CRDT_OWNER_SLOTS - 1)) >= ((j - i) & (CRDT_OWNER_SLOTS - 1))) {
			o->slot[i] = o->slot[j];
			i = j;
		}
	}
	o->slot[i] = 0;
	return true;
}

static void
slot_insert(struct crdt_owner_set *o, uint64_t replica)
{
	uint32_t i = slot_home(replica);

	while (o->slot[i] != 0)
		i = (i + 1) & (CRDT_OWNER_SLOTS - 1);
	o->slot[i] = replica; /* at most half full: there is a free slot */
}

/* Remember @replica as ended (the oldest is forgotten when the ring is full). */
static void
owner_remember(struct mesh_crdt_store *s, uint64_t replica)
{
	struct crdt_owner_set *o = &s->owners;

	if (crdt_owner_has(o, replica))
		return;
	if (o->count == MESH_CRDT_OWNER_EXPIRED_MAX) {
		slot_remove(o, o->ring[o->head]);
		o->head = (o->head + 1) % MESH_CRDT_OWNER_EXPIRED_MAX;
		o->count--;
		crdt_ctr(s, MESH_CTR_crdt_owner_set_evicted, 1);
	}
	o->ring[(o->head + o->count) % MESH_CRDT_OWNER_EXPIRED_MAX] = replica;
	o->count++;
	slot_insert(o, replica);
}

uint64_t
mesh_crdt_owner_expire(struct mesh_crdt_store *s, uint64_t replica, uint64_t now_ns)
{
	uint64_t n = 0;

	if (replica == 0)
		return 0;
	owner_remember(s, replica);
	/*
	 * Deleting an existing key neither inserts nor removes a table slot (only the value,
	 * change log and tombstone queue change), so the scan can write as it goes.
	 */
	for (uint64_t i = 0; i <= s->table.mask; i++) {
		struct crdt_entry *e = s->table.slots[i].e;
		struct mesh_crdt_op op = { 0 };

		if (e == NULL || (e->flags & (CRDT_F_OWNED | CRDT_F_TOMB)) != CRDT_F_OWNED ||
		    e->replica != replica)
			continue;
		op.key = e->key;
		op.key_len = e->key_len;
		op.tombstone = true;
		op.owned = true; /* an expiry: the owner, if it runs after all, refutes it */
		if (crdt_local_write(s, &s->ns[e->ns], &op, now_ns) == 0)
			n++;
	}
	crdt_ctr(s, MESH_CTR_crdt_owner_expired, n);
	crdt_ctr(s, MESH_CTR_crdt_delete, n);
	return n;
}

int
crdt_owner_reassert(struct mesh_crdt_store *s, struct crdt_ns *ns, struct crdt_entry *e,
		    const struct mesh_crdt_op *tomb, uint64_t now_ns)
{
	struct mesh_crdt_op op = {
		.key = e->key, .key_len = e->key_len, .value = e->value,
		.value_len = e->value_len, .origin_ns = e->origin_ns, .owned = true,
	};
	int rc;

	crdt_clock_seen(s, tomb->ts); /* the new version is above the tombstone's */
	rc = crdt_local_write(s, ns, &op, now_ns);
	if (rc < 0)
		return rc;
	crdt_ctr(s, MESH_CTR_crdt_owner_reasserted, 1);
	return 1;
}

bool
mesh_crdt_owner_revive(struct mesh_crdt_store *s, uint64_t replica)
{
	struct crdt_owner_set *o = &s->owners;
	uint32_t k;

	if (replica == 0 || !slot_remove(o, replica))
		return false;
	/* close the gap in the ring, keeping the FIFO order of the others */
	for (k = 0; o->ring[(o->head + k) % MESH_CRDT_OWNER_EXPIRED_MAX] != replica; k++)
		;
	for (; k + 1 < o->count; k++)
		o->ring[(o->head + k) % MESH_CRDT_OWNER_EXPIRED_MAX] =
			o->ring[(o->head + k + 1) % MESH_CRDT_OWNER_EXPIRED_MAX];
	o->count--;
	return true;
}

bool
mesh_crdt_owner_is_expired(const struct mesh_crdt_store *s, uint64_t replica)
{
	return replica != 0 && s->owners.count != 0 && crdt_owner_has(&s->owners, replica);
}

bool
mesh_crdt_owner_of(const struct mesh_crdt_store *cs, const void *key, size_t key_len,
		   uint64_t *owner)
{
	uint64_t idx;
	const struct crdt_entry *e;

	if (key == NULL || key_len - 1 >= MESH_CRDT_KEY_MAX)
		return false;
	idx = crdt_table_find(&cs->table, crdt_key_hash(key, key_len), key, (uint32_t)key_len);
	if (idx == UINT64_MAX)
		return false;
	e = cs->table.slots[idx].e;
	if ((e->flags & (CRDT_F_OWNED | CRDT_F_TOMB)) != CRDT_F_OWNED)
		return false;
	if (owner != NULL)
		*owner = e->replica;
	return true;
}
