/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * End-of-run invariants (see sim_node.h), over the live nodes:
 *   (a) identical store digests; a difference is explained by the first differing key of
 *       the first differing digest bucket (both sides' versions);
 *   (b) per key, the newest acknowledged write that counts (its node still runs the life
 *       that acknowledged it) is present or superseded everywhere: lww by version
 *       (ts, replica) compared lexicographically, tombstones included; epoch_max by value.
 *       Absent passes only when an acknowledged delete at least as new exists (tombstone
 *       GC removes a tombstone once every peer acknowledged it).
 * Also failures: acknowledged writes missing from the acking store, frames that did not
 * open. Every report names the seed (MESH_SEED replays it), the scenario, key and node.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_node.h"

#define REPORT_MAX 6
#define BUCKET_KEYS 64

struct report {
	struct nsim *c;
	bool on;
	uint32_t n;
};

void
nsim_report(struct nsim *c, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL seed=%" PRIu64 " scenario=%s t=%.3f ms: ", sim_world_seed(c->w), c->scenario,
	       (double)sim_now(c->w) / 1e6);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
fail(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct report *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->on && r->n < REPORT_MAX) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		nsim_report(r->c, "%s", msg);
	}
	r->n++;
}

static int
vcmp(const struct mesh_crdt_version *a, const struct mesh_crdt_version *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	return 0;
}

/* "(ts 12, replica 0x..)" or "{epoch 3, count 17}" plus " tombstone" */
static const char *
fmt_entry(const struct nsim_entry *e, bool epoch, char *buf, size_t cap)
{
	struct mesh_crdt_epoch ep;

	if (epoch && !e->tombstone && mesh_crdt_epoch_decode(e->value, e->value_len, &ep) == 0)
		snprintf(buf, cap, "{epoch %" PRIu64 ", count %" PRId64 "}", ep.epoch, ep.count);
	else
		snprintf(buf, cap, "(ts %" PRIu64 ", replica %016" PRIx64 ")%s", e->v.ts,
			 e->v.replica, e->tombstone ? " tombstone" : "");
	return buf;
}

static bool
counts(const struct nsim *c, const struct nsim_write *w)
{
	const struct nsim_node *nd = &c->nodes[w->node];

	return nd->node != NULL && nd->gen == w->gen;
}

/*
 * Per key of kind @epoch: the newest counting write (-1: none) in best[], and the newest
 * acknowledged tombstone of any life in tomb[] (-1: none). Tombstone GC may remove a
 * tombstone once every peer acknowledged it, so a key whose newest write is (or is
 * superseded by) an acknowledged delete may be absent.
 */
static void
newest_writes(const struct nsim *c, bool epoch, int32_t *best, int32_t *tomb, uint32_t n_keys)
{
	for (uint32_t k = 0; k < n_keys; k++)
		best[k] = tomb[k] = -1;
	for (uint32_t i = 0; i < c->n_writes; i++) {
		const struct nsim_write *w = &c->writes[i];
		int32_t *b = &best[w->key];

		if ((w->op == NSIM_EPOCH) != epoch)
			continue;
		if (w->op == NSIM_DEL &&
		    (tomb[w->key] < 0 || vcmp(&w->v, &c->writes[tomb[w->key]].v) > 0))
			tomb[w->key] = (int32_t)i;
		if (!counts(c, w))
			continue;
		if (*b < 0 ||
		    (epoch ? mesh_crdt_epoch_merge(c->writes[*b].epoch, MESH_CRDT_EPOCH_LEN,
						   w->epoch, MESH_CRDT_EPOCH_LEN) == 1
			   : vcmp(&w->v, &c->writes[*b].v) > 0))
			*b = (int32_t)i;
	}
}

static void
check_key(struct report *r, const struct nsim_write *w, const struct nsim_write *tomb,
	  uint32_t node)
{
	struct nsim *c = r->c;
	bool epoch = w->op == NSIM_EPOCH;
	struct nsim_entry want = { .v = w->v, .tombstone = w->op == NSIM_DEL };
	struct nsim_entry e;
	char k[32], a[80], b[80];
	bool found, ok;

	nsim_key(w->op, w->key, k, sizeof(k));
	if (epoch) {
		want.value_len = sizeof(w->epoch);
		memcpy(want.value, w->epoch, sizeof(w->epoch));
	}
	found = nsim_entry(mesh_node_store(c->nodes[node].node), k, &e);
	if (!found)
		ok = tomb != NULL && vcmp(&tomb->v, &w->v) >= 0; /* collected tombstone */
	else if (epoch)
		ok = !e.tombstone && mesh_crdt_epoch_merge(e.value, e.value_len, w->epoch,
							   sizeof(w->epoch)) == 0;
	else
		ok = vcmp(&e.v, &w->v) >= 0;
	if (ok)
		return;
	fail(r, "(b) %s acknowledged by n%u (life %" PRIu64 ") at %.3f ms as %s: n%u %s%s", k,
	     w->node, nsim_life(c, w->gen), (double)w->at_ns / 1e6,
	     fmt_entry(&want, epoch, a, sizeof(a)), node, found ? "has older " : "lacks it",
	     found ? fmt_entry(&e, epoch, b, sizeof(b)) : "");
}

static void
check_acked(struct report *r)
{
	struct nsim *c = r->c;
	uint32_t n_keys = MESH_MAX(c->lww_keys, c->epoch_keys);
	int32_t *best = malloc(2 * n_keys * sizeof(*best)), *tomb = best + n_keys;

	if (best == NULL)
		abort();
	for (int epoch = 0; epoch < 2; epoch++) {
		uint32_t keys = epoch ? c->epoch_keys : c->lww_keys;

		newest_writes(c, epoch, best, tomb, keys);
		for (uint32_t k = 0; k < keys; k++)
			for (uint32_t i = 0; best[k] >= 0 && i < c->n; i++)
				if (nsim_up(c, i))
					check_key(r, &c->writes[best[k]],
						  tomb[k] >= 0 ? &c->writes[tomb[k]] : NULL, i);
	}
	free(best);
}

/* the entries of one digest bucket */
struct bucket {
	uint32_t n;
	struct {
		char key[64];
		struct nsim_entry e;
	} ent[BUCKET_KEYS];
};

static int
bucket_cb(void *ctx, const struct mesh_crdt_op *op)
{
	struct bucket *b = ctx;

	if (b->n == BUCKET_KEYS)
		return 1;
	snprintf(b->ent[b->n].key, sizeof(b->ent[b->n].key), "%.*s", (int)op->key_len,
		 (const char *)op->key);
	nsim_entry_of_op(op, &b->ent[b->n].e);
	b->n++;
	return 0;
}

static const struct nsim_entry *
bucket_find(const struct bucket *b, const char *key)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (strcmp(b->ent[i].key, key) == 0)
			return &b->ent[i].e;
	return NULL;
}

static bool
entry_eq(const struct nsim_entry *x, const struct nsim_entry *y)
{
	return vcmp(&x->v, &y->v) == 0 && x->tombstone == y->tombstone &&
	       x->value_len == y->value_len && memcmp(x->value, y->value, x->value_len) == 0;
}

/* Name the first key that differs between @ref and @node in their first differing bucket. */
static void
explain_digest(struct report *r, uint32_t ref, uint32_t node, uint64_t dr, uint64_t dn)
{
	struct nsim *c = r->c;
	struct mesh_crdt_store *sr = mesh_node_store(c->nodes[ref].node);
	struct mesh_crdt_store *sn = mesh_node_store(c->nodes[node].node);
	struct mesh_crdt_digest *d = malloc(2 * sizeof(*d));
	struct bucket *b = calloc(2, sizeof(*b));
	const char *key = "?";
	const struct nsim_entry *er = NULL, *en = NULL;
	uint16_t bucket;
	char a[80], x[80];

	if (d == NULL || b == NULL)
		abort();
	mesh_crdt_digest_get(sr, &d[0]);
	mesh_crdt_digest_get(sn, &d[1]);
	if (mesh_crdt_digest_diff(&d[0], &d[1], &bucket, 1) > 0) {
		mesh_crdt_bucket_export(sr, bucket, bucket_cb, &b[0]);
		mesh_crdt_bucket_export(sn, bucket, bucket_cb, &b[1]);
		for (uint32_t s = 0; s < 2 && er == NULL && en == NULL; s++) {
			for (uint32_t i = 0; i < b[s].n; i++) {
				key = b[s].ent[i].key;
				er = bucket_find(&b[0], key);
				en = bucket_find(&b[1], key);
				if (er == NULL || en == NULL || !entry_eq(er, en))
					break;
				er = en = NULL;
			}
		}
	}
	fail(r, "(a) digest of n%u %016" PRIx64 " != n%u %016" PRIx64 "; key %s: n%u %s, n%u %s",
	     node, dn, ref, dr, key, node,
	     en ? fmt_entry(en, strncmp(key, "rl:", 3) == 0, a, sizeof(a)) : "absent", ref,
	     er ? fmt_entry(er, strncmp(key, "rl:", 3) == 0, x, sizeof(x)) : "absent");
	free(d);
	free(b);
}

static void
check_digests(struct report *r)
{
	struct nsim *c = r->c;
	uint32_t ref = UINT32_MAX;
	uint64_t dr = 0;

	for (uint32_t i = 0; i < c->n; i++) {
		uint64_t di;

		if (!nsim_up(c, i))
			continue;
		di = mesh_node_digest_now(c->nodes[i].node);
		if (ref == UINT32_MAX) {
			ref = i;
			dr = di;
		} else if (di != dr) {
			if (r->on)
				explain_digest(r, ref, i, dr, di);
			else
				r->n++;
		}
	}
}

uint32_t
nsim_check(struct nsim *c, bool report)
{
	struct report r = { c, report, 0 };
	uint32_t before;

	if (c->bad_acks)
		fail(&r, "%" PRIu64 " acknowledged writes were not in the acking store",
		     c->bad_acks);
	if (c->frames_bad)
		fail(&r, "%" PRIu64 " frames did not open", c->frames_bad);
	if (c->storm)
		fail(&r, "traffic storm: over %" PRIu64 " frames within 10 ms", c->max_frames);
	before = r.n;
	check_digests(&r);
	c->fail_digest = r.n - before;
	c->fail_acked = 0;
	if (!report && r.n > 0)
		return r.n; /* settling: the cheap checks already say no */
	before = r.n;
	check_acked(&r);
	c->fail_acked = r.n - before;
	if (report && r.n > REPORT_MAX)
		nsim_report(c, "... %u violations in all", r.n);
	return r.n;
}

static void
dump_node(struct nsim *c, uint32_t i)
{
	const uint64_t *sc = mesh_stream_counters(mesh_node_stream(c->nodes[i].node));
	struct mesh_node_peer_info pi;

	printf("  n%u life %" PRIu64 ": stream rx_crdt_drop_window %" PRIu64
	       " rx_crdt_stale_epoch %" PRIu64 " tx_crdt_drop_queue_full %" PRIu64
	       " channel_down %" PRIu64 "\n", i, nsim_life(c, c->nodes[i].gen),
	       sc[MESH_STREAM_CTR_rx_crdt_drop_window], sc[MESH_STREAM_CTR_rx_crdt_stale_epoch],
	       sc[MESH_STREAM_CTR_tx_crdt_drop_queue_full], sc[MESH_STREAM_CTR_channel_down]);
	if (getenv("MESH_SIM_DUMP_CTR") != NULL) {
		for (uint32_t k = 0; k < MESH_STREAM_CTR_MAX; k++)
			if (sc[k] != 0)
				printf("    %s %" PRIu64 "\n", mesh_stream_counter_names[k], sc[k]);
		for (uint32_t k = 0; k < MESH_NODE_CTR_MAX; k++) {
			uint64_t v = mesh_node_counter(c->nodes[i].node, (enum mesh_node_counter)k);

			if (v != 0)
				printf("    %s %" PRIu64 "\n", mesh_node_counter_names[k], v);
		}
	}
	for (uint32_t k = 0; mesh_node_peer_at(c->nodes[i].node, k, &pi) == 0; k++) {
		if (pi.channel.backlog == 0 && pi.crdt_sent_seq == pi.crdt_acked_seq &&
		    pi.channel.up)
			continue;
		printf("  channel n%u -> %s: up %d backlog %" PRIu64 " retransmits %" PRIu64
		       " acks %" PRIu64 " nacks %" PRIu64 " drops %" PRIu64 " crdt sent %" PRIu64
		       " acked %" PRIu64 "\n", i, pi.name, pi.channel.up, pi.channel.backlog,
		       pi.channel.retransmits, pi.channel.acks, pi.channel.nacks,
		       pi.channel.drops, pi.crdt_sent_seq, pi.crdt_acked_seq);
	}
}

void
nsim_dump_channels(struct nsim *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (nsim_up(c, i))
			dump_node(c, i);
}

static bool
settled(void *ctx)
{
	return nsim_check(ctx, false) == 0;
}

bool
nsim_settle(struct nsim *c, uint64_t timeout_ns)
{
	c->settle_ns = sim_run_until(c->w, settled, c, 20 * NSIM_MS, timeout_ns);
	return c->settle_ns != UINT64_MAX;
}
