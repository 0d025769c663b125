/* SPDX-License-Identifier: BSD-3-Clause */
/* Zero-copy reader vs protobuf-c: see pb_diff.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.pb-c.h"
#include "mesh_wire.h"
#include "pb_diff.h"

uint64_t pb_diff_both_ok, pb_diff_both_bad;

#define MAXN 4096

/* protobuf-c strings stop at the first NUL; compare in that sense */
static bool
str_eq(const char *s, const struct mesh_wire_slice *z)
{
	size_t n = strlen(s);

	if (n > z->len)
		return false;
	if (n < z->len && z->p[n] != 0)
		return false;
	return n == 0 || memcmp(s, z->p, n) == 0;
}

static bool
bin_eq(const ProtobufCBinaryData *b, const struct mesh_wire_slice *z)
{
	return b->len == z->len && (b->len == 0 || memcmp(b->data, z->p, b->len) == 0);
}

static const char *
verdict(bool pbc_ok, int zrc)
{
	if (zrc == -E2BIG)
		return NULL; /* reader bound, not a disagreement */
	if (pbc_ok != (zrc == 0))
		return pbc_ok ? "protobuf-c accepted, zero-copy rejected"
			      : "zero-copy accepted, protobuf-c rejected";
	if (!pbc_ok)
		pb_diff_both_bad++;
	return "";
}

static const char *
diff_crdt_batch(const uint8_t *p, size_t len)
{
	static struct mesh_wire_crdt_op ops[MAXN];
	struct mesh_wire_crdt_batch b;
	Mesh__Gossip__CrdtBatch *m = mesh__gossip__crdt_batch__unpack(NULL, len, p);
	int rc = mesh_wire_crdt_batch_read(p, len, &b, ops, MAXN);
	const char *v = verdict(m != NULL, rc), *err = NULL;

	if (v == NULL || v[0] != 0 || m == NULL)
		goto out;
	if (m->sequence != b.seq || m->epoch != b.epoch || m->n_ops != b.n_ops ||
	    m->frag_index != b.frag_index || m->frag_total != b.frag_total ||
	    !bin_eq(&m->frag, &b.frag)) {
		err = "batch header/op count differs";
		goto out;
	}
	for (size_t i = 0; i < m->n_ops; i++) {
		const Mesh__Gossip__CrdtOp *o = m->ops[i];

		if (!str_eq(o->key, &ops[i].key) || !bin_eq(&o->value, &ops[i].value) ||
		    !str_eq(o->replica_id, &ops[i].replica_id) ||
		    o->timestamp != ops[i].timestamp || (bool)o->tombstone != ops[i].tombstone ||
		    (bool)o->owned != ops[i].owned || o->origin_ns != ops[i].origin_ns) {
			err = "op differs";
			goto out;
		}
	}
	pb_diff_both_ok++;
out:
	if (m != NULL)
		mesh__gossip__crdt_batch__free_unpacked(m, NULL);
	return err != NULL ? err : (v != NULL && v[0] != 0 ? v : NULL);
}

static const char *
diff_stream_batch(const uint8_t *p, size_t len)
{
	static struct mesh_wire_stream_entry e[MAXN];
	uint32_t n = 0;
	Mesh__Gossip__StreamBatch *m = mesh__gossip__stream_batch__unpack(NULL, len, p);
	int rc = mesh_wire_stream_batch_read(p, len, e, MAXN, &n);
	const char *v = verdict(m != NULL, rc), *err = NULL;

	if (v == NULL || v[0] != 0 || m == NULL)
		goto out;
	if (m->n_entries != n) {
		err = "entry count differs";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const Mesh__Gossip__StreamEntry *x = m->entries[i];

		if (!str_eq(x->key, &e[i].key) || !bin_eq(&x->data, &e[i].data) ||
		    x->generation != e[i].generation || x->chunk_index != e[i].chunk_index ||
		    x->total_chunks != e[i].total_chunks || x->origin != e[i].origin) {
			err = "entry differs";
			goto out;
		}
	}
	pb_diff_both_ok++;
out:
	if (m != NULL)
		mesh__gossip__stream_batch__free_unpacked(m, NULL);
	return err != NULL ? err : (v != NULL && v[0] != 0 ? v : NULL);
}

static const char *
diff_stream_ack(const uint8_t *p, size_t len)
{
	static struct mesh_wire_stream_ack a;
	Mesh__Gossip__StreamAck *m = mesh__gossip__stream_ack__unpack(NULL, len, p);
	int rc = mesh_wire_stream_ack_read(p, len, &a);
	const char *v = verdict(m != NULL, rc), *err = NULL;

	if (v == NULL || v[0] != 0 || m == NULL)
		goto out;
	if (m->sequence != a.seq || (bool)m->success != a.success || m->epoch != a.epoch ||
	    (bool)m->reset != a.reset ||
	    m->sack != a.sack || !str_eq(m->error_message, &a.error_message) ||
	    m->n_nacks != a.n_nacks) {
		err = "ack differs";
		goto out;
	}
	for (size_t i = 0; i < a.n_nacks; i++)
		if (m->nacks[i] != a.nacks[i]) {
			err = "nack differs";
			goto out;
		}
	pb_diff_both_ok++;
out:
	if (m != NULL)
		mesh__gossip__stream_ack__free_unpacked(m, NULL);
	return err != NULL ? err : (v != NULL && v[0] != 0 ? v : NULL);
}

static const char *
diff_crdt_ack(const uint8_t *p, size_t len)
{
	static struct mesh_wire_crdt_kv e[MAXN];
	uint32_t n = 0;
	Mesh__Gossip__CrdtAck *m = mesh__gossip__crdt_ack__unpack(NULL, len, p);
	int rc = mesh_wire_crdt_ack_read(p, len, e, MAXN, &n);
	const char *v = verdict(m != NULL, rc), *err = NULL;

	if (v == NULL || v[0] != 0 || m == NULL)
		goto out;
	if (m->n_entries != n) {
		err = "entry count differs";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const Mesh__Gossip__CrdtKeyVersion *x = m->entries[i];

		if (!str_eq(x->key, &e[i].key) || !str_eq(x->replica_id, &e[i].replica_id) ||
		    x->version != e[i].version) {
			err = "key version differs";
			goto out;
		}
	}
	pb_diff_both_ok++;
out:
	if (m != NULL)
		mesh__gossip__crdt_ack__free_unpacked(m, NULL);
	return err != NULL ? err : (v != NULL && v[0] != 0 ? v : NULL);
}

const char *
pb_diff(enum pb_diff_msg m, const uint8_t *p, size_t len)
{
	switch (m) {
	case PB_CRDT_BATCH:
		return diff_crdt_batch(p, len);
	case PB_STREAM_BATCH:
		return diff_stream_batch(p, len);
	case PB_STREAM_ACK:
		return diff_stream_ack(p, len);
	case PB_CRDT_ACK:
		return diff_crdt_ack(p, len);
	default:
		return NULL;
	}
}
