/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client workload and its model (see sim_node.h). Requests are host structs handed to
 * mesh_node_request, one at a time, at a random node that is up and not paused, in bursts
 * of write_burst requests at the same instant every ~write_gap_ns (exponential gaps):
 *   60 % PUT worker:<k> (lww; big_pct % of them a 100 KiB value to worker:0), 20 % DEL
 *   worker:<k>, 20 % PUT rl:<k> with a 16-byte epoch_max value (mesh_crdt_epoch_encode;
 *   merges as max).
 * The reply arrives during the call. For each acknowledged write the model records the
 * key, the node and its generation, and what that node's store holds right after: the
 * entry's version (lww; for a delete, the tombstone's version found by bucket export) or
 * the merged value (epoch_max). Refused writes (a DEL of an absent key) are only counted.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_node.h"

int
nsim_key(enum nsim_op op, uint32_t key, char *buf, size_t cap)
{
	return snprintf(buf, cap, op == NSIM_EPOCH ? "rl:%u" : "worker:%u", key);
}

void
nsim_entry_of_op(const struct mesh_crdt_op *op, struct nsim_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->v = (struct mesh_crdt_version){ op->ts, op->replica };
	out->tombstone = op->tombstone;
	out->value_len = MESH_MIN(op->value_len, (uint32_t)sizeof(out->value));
	if (out->value_len > 0)
		memcpy(out->value, op->value, out->value_len);
}

struct find_ctx {
	const char *key;
	size_t key_len;
	struct nsim_entry *out;
	bool found;
};

static int
find_cb(void *ctx, const struct mesh_crdt_op *op)
{
	struct find_ctx *f = ctx;

	if (op->key_len != f->key_len || memcmp(op->key, f->key, f->key_len) != 0)
		return 0;
	f->found = true;
	nsim_entry_of_op(op, f->out);
	return 1;
}

bool
nsim_entry(const struct mesh_crdt_store *s, const char *key, struct nsim_entry *out)
{
	struct find_ctx f = { key, strlen(key), out, false };

	memset(out, 0, sizeof(*out));
	mesh_crdt_bucket_export(s, mesh_crdt_digest_bucket_of(key, f.key_len), find_cb, &f);
	return f.found;
}

static void
record(struct nsim *c, uint32_t i, enum nsim_op op, uint32_t key, const char *k)
{
	struct nsim_node *nd = &c->nodes[i];
	struct nsim_write *w;
	struct nsim_entry e;

	if (c->n_writes == c->cap_writes) {
		c->cap_writes = c->cap_writes ? 2 * c->cap_writes : 1024;
		c->writes = realloc(c->writes, c->cap_writes * sizeof(*c->writes));
		if (c->writes == NULL)
			abort();
	}
	if (!nsim_entry(mesh_node_store(nd->node), k, &e) || e.tombstone != (op == NSIM_DEL)) {
		nsim_report(c, "n%u acknowledged %s %s but its store %s", i,
			    op == NSIM_DEL ? "DEL" : "PUT", k,
			    e.tombstone ? "holds a tombstone" : "lacks the value");
		c->bad_acks++;
		return;
	}
	w = &c->writes[c->n_writes++];
	*w = (struct nsim_write){ .key = key, .op = op, .node = i, .gen = nd->gen,
				  .at_ns = sim_now(c->w), .v = e.v };
	if (op == NSIM_EPOCH)
		memcpy(w->epoch, e.value, sizeof(w->epoch));
}

#define BIG_VALUE (100 * 1024)

/* one client write; @big: a 100 KiB lww value (fragmented on every channel) */
static int
write_req(struct nsim *c, uint32_t i, enum nsim_op op, uint32_t key, bool big)
{
	static uint8_t big_buf[BIG_VALUE];
	struct nsim_node *nd = &c->nodes[i];
	struct mesh_rng *rng = sim_rng(c->w);
	char k[32], v[48];
	uint8_t ev[MESH_CRDT_EPOCH_LEN];
	struct mesh_node_req q = {
		.type = op == NSIM_DEL ? MESH_NODE_REQ_DEL : MESH_NODE_REQ_PUT,
		.client = 1, .client_gen = 1, .id = ++c->next_req_id,
	};

	q.key = (const uint8_t *)k;
	q.key_len = (uint32_t)nsim_key(op, key, k, sizeof(k));
	if (op == NSIM_PUT) {
		q.value = (const uint8_t *)v;
		q.value_len = (uint32_t)snprintf(v, sizeof(v), "{\"req\":%" PRIu64 ",\"node\":%u}",
						 q.id, i);
		if (big) {
			for (uint32_t b = 0; b < BIG_VALUE; b++)
				big_buf[b] = (uint8_t)('a' + (b * 7 + q.id) % 26);
			memcpy(big_buf, v, q.value_len);
			q.value = big_buf;
			q.value_len = BIG_VALUE;
		}
	} else if (op == NSIM_EPOCH) {
		mesh_crdt_epoch_encode(1 + mesh_rng_below(rng, 4),
				       (int64_t)mesh_rng_below(rng, 1000), ev);
		q.value = ev;
		q.value_len = sizeof(ev);
	}
	nd->replied = false;
	mesh_node_request(nd->node, &q, 1, sim_now(c->w));
	nd->poll_soon = true;
	sim_node_poke(c->w, i);
	if (!nd->replied) {
		nsim_report(c, "n%u gave no reply to request %" PRIu64, i, q.id);
		c->bad_acks++;
		return -1;
	}
	if (nd->reply_status != 0) {
		c->refused++;
		return nd->reply_status;
	}
	c->acked++;
	record(c, i, op, key, k);
	return 0;
}

int
nsim_write(struct nsim *c, uint32_t i, enum nsim_op op, uint32_t key)
{
	return write_req(c, i, op, key, false);
}

static void
write_one(struct nsim *c)
{
	struct mesh_rng *rng = sim_rng(c->w);
	uint32_t i = nsim_pick_serving(c), r = (uint32_t)mesh_rng_below(rng, 10);

	if (i == UINT32_MAX)
		return;
	if (r < 6 && c->big_pct != 0 && mesh_rng_below(rng, 100) < c->big_pct)
		write_req(c, i, NSIM_PUT, 0, true); /* one big key: catch-ups stay cheap */
	else if (r < 6)
		nsim_write(c, i, NSIM_PUT, (uint32_t)mesh_rng_below(rng, c->lww_keys));
	else if (r < 8)
		nsim_write(c, i, NSIM_DEL, (uint32_t)mesh_rng_below(rng, c->lww_keys));
	else
		nsim_write(c, i, NSIM_EPOCH, (uint32_t)mesh_rng_below(rng, c->epoch_keys));
}

static void
write_cb(struct sim_world *w, void *ctx, uint64_t chain)
{
	struct nsim *c = ctx;
	double gap;

	if (!c->writing || chain != c->write_chain)
		return;
	for (uint32_t k = 0; k < MESH_MAX(c->write_burst, 1u); k++)
		write_one(c);
	gap = -log(1.0 - mesh_rng_unit(sim_rng(w))) * (double)c->write_gap_ns;
	sim_at(w, sim_now(w) + 1 + (uint64_t)gap, write_cb, c, chain);
}

void
nsim_writes(struct nsim *c, bool on)
{
	if (on == c->writing)
		return;
	c->writing = on;
	if (on)
		sim_at(c->w, sim_now(c->w), write_cb, c, ++c->write_chain);
}
