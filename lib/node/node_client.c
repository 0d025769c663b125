/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client request semantics on the merge core, the only thread that touches the store:
 * put, get, delete, keys (sorted, paged), subscribe/unsubscribe (post-merge events),
 * publish (stream namespaces, broadcast or to one member), members. Requests arrive as
 * host structs (the control thread decoded the socket protocol and reassembled values
 * sent in parts); each gets exactly one reply through env->reply, with a negative errno
 * and a readable reason on refusal. Subscription events leave the same way (id 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define KEYS_DEFAULT 100
#define KEYS_MAX 1000
#define EVENTS_PER_POLL 64
#define MEMBERS_MAX 1024

static void
reply(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	r->client = q->client;
	r->client_gen = q->client_gen;
	r->id = q->id;
	if (r->status < 0)
		NODE_CTR(n, node_request_errors);
	if (n->env->reply != NULL)
		n->env->reply(n->ctx, r);
}

static void
set_error(struct mesh_node_reply *r, int err)
{
	r->status = err;
	r->error = mesh_crdt_strerror(err);
}

struct key_list {
	struct mesh_node_bytes *keys;
	size_t n, cap;
	struct mesh_node_bytes after;
};

static int
cmp_bytes(const void *a, const void *b)
{
	const struct mesh_node_bytes *x = a, *y = b;
	int c = memcmp(x->data, y->data, MESH_MIN(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int
collect_key(void *ctx, const void *key, uint32_t key_len, const void *value, uint32_t value_len)
{
	struct key_list *l = ctx;
	struct mesh_node_bytes k = { .data = key, .len = key_len };

	(void)value;
	(void)value_len;
	if (node_key_reserved(key, key_len))
		return 0; /* node state: not the clients' */
	if (l->after.len > 0 && cmp_bytes(&k, &l->after) <= 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		void *p = realloc(l->keys, cap * sizeof(*l->keys));

		if (p == NULL)
			return 1;
		l->keys = p;
		l->cap = cap;
	}
	l->keys[l->n++] = k; /* points into the store: valid until the store changes */
	return 0;
}

static void
do_keys(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	struct key_list l = { .after = { .data = q->after, .len = q->after_len } };
	uint32_t limit = q->limit == 0 ? KEYS_DEFAULT : MESH_MIN(q->limit, (uint32_t)KEYS_MAX);

	mesh_crdt_foreach(n->kv, q->key, q->key_len, collect_key, &l);
	if (l.n > 1)
		qsort(l.keys, l.n, sizeof(*l.keys), cmp_bytes);
	r->type = MESH_NODE_REPLY_KEYS;
	r->keys = l.keys;
	r->n_keys = (uint32_t)MESH_MIN(l.n, (size_t)limit);
	r->more = l.n > limit;
	reply(n, q, r);
	free(l.keys);
}

static void
do_subscribe(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	char pfx[128];

	for (unsigned i = 0; i < NODE_MAX_SUBS; i++) {
		struct node_sub *s = &n->subs[i];

		if (s->h != NULL)
			continue;
		snprintf(pfx, sizeof(pfx), "%.*s", (int)MESH_MIN(q->key_len, sizeof(pfx) - 1),
			 (const char *)q->key);
		s->h = mesh_crdt_sub_new(n->kv, q->key, q->key_len,
					 mesh_crdt_sub_default_capacity(pfx), 0);
		if (s->h == NULL) {
			set_error(r, -errno);
			return;
		}
		s->id = n->next_sub_id++;
		n->n_subs++;
		s->client = q->client;
		s->client_gen = q->client_gen;
		s->dropped_seen = 0;
		r->type = MESH_NODE_REPLY_SUBSCRIBE;
		r->subscription = s->id;
		return;
	}
	r->status = -ENOSPC;
	r->error = "too many subscriptions on this node";
}

/* Drop @client's subscription @id (0: all of them). */
static void
drop_subs(struct mesh_node *n, uint32_t client, uint32_t gen, uint64_t id)
{
	for (unsigned i = 0; i < NODE_MAX_SUBS; i++) {
		struct node_sub *s = &n->subs[i];

		if (s->h == NULL || s->client != client || s->client_gen != gen ||
		    (id != 0 && s->id != id))
			continue;
		mesh_crdt_sub_delete(s->h);
		s->h = NULL;
		n->n_subs--;
	}
}

static void
do_members(struct mesh_node *n, const struct mesh_node_req *q, struct mesh_node_reply *r)
{
	size_t total = mesh_swim_member_count(n->swim, 0), cnt = 0;
	size_t cap = MESH_MIN(total + 1, (size_t)MEMBERS_MAX);
	struct mesh_node_member *m = calloc(cap, sizeof(*m));
	char (*names)[MESH_SWIM_NAME_MAX] = calloc(cap, sizeof(*names));
	struct mesh_swim_member_info info;

	if (m == NULL || names == NULL) {
		set_error(r, -ENOMEM);
		goto out;
	}
	for (size_t i = 0; i <= total && cnt < cap; i++) {
		if (i == 0)
			mesh_swim_self(n->swim, &info); /* self first */
		else if (mesh_swim_member_at(n->swim, i - 1, &info) < 0)
			break;
		memcpy(names[cnt], info.name, MESH_MIN(info.name_len, sizeof(names[cnt])));
		m[cnt] = (struct mesh_node_member){
			.name = { .data = (const uint8_t *)names[cnt],
				  .len = (uint32_t)MESH_MIN(info.name_len, sizeof(names[cnt])) },
			.addr = { .ip = info.addr.ip, .port = info.addr.port },
			.status = info.status,
			.incarnation = info.inc,
			.generation = info.gen,
			.metadata = node_meta_of(n, info.name, info.name_len),
		};
		cnt++;
	}
	r->type = MESH_NODE_REPLY_MEMBERS;
	r->members = m;
	r->n_members = (uint32_t)cnt;
out:
	reply(n, q, r);
	free(m);
	free(names);
}

static int
publish(struct mesh_node *n, const struct mesh_node_req *q)
{
	struct node_peer *p;

	if (q->target == NULL || q->target[0] == '\0')
		return mesh_crdt_stream_publish(n->kv, q->key, q->key_len, q->value, q->value_len);
	p = node_peer_find_name(n, q->target, strlen(q->target));
	if (p == NULL)
		return -EHOSTUNREACH;
	return mesh_crdt_stream_publish_to(n->kv, p->id, q->key, q->key_len, q->value,
					   q->value_len);
}

void
node_client_request(struct mesh_node *n, const struct mesh_node_req *q, uint64_t now_ns)
{
	struct mesh_node_reply r = { .type = MESH_NODE_REPLY_STATUS };
	struct mesh_crdt_version ver;
	const void *val;
	uint32_t vlen;
	int ret;

	NODE_CTR(n, node_requests);
	if (q->key_len > 0 && node_key_reserved(q->key, q->key_len) &&
	    q->type != MESH_NODE_REQ_SET_METADATA) {
		NODE_CTR(n, node_reserved_refused);
		r.status = -EPERM;
		r.error = "key under meshd's reserved prefix (\\xffmeshd/)";
		reply(n, q, &r);
		return;
	}
	switch (q->type) {
	case MESH_NODE_REQ_PUT:
		ret = mesh_crdt_put_owned(n->kv, q->key, q->key_len, q->value, q->value_len,
					  now_ns, node_wall(n), q->owned);
		if (ret < 0)
			set_error(&r, ret);
		break;
	case MESH_NODE_REQ_GET:
		ret = mesh_crdt_get(n->kv, q->key, q->key_len, &val, &vlen, &ver);
		if (ret < 0 && ret != -ENOENT) {
			set_error(&r, ret);
			break;
		}
		r.type = MESH_NODE_REPLY_GET;
		r.found = ret == 0;
		if (ret == 0) {
			r.value = (struct mesh_node_bytes){ .data = val, .len = vlen };
			r.timestamp = ver.ts;
			r.replica = ver.replica;
		}
		break;
	case MESH_NODE_REQ_DEL:
		ret = mesh_crdt_delete_origin(n->kv, q->key, q->key_len, now_ns, node_wall(n));
		if (ret < 0)
			set_error(&r, ret);
		break;
	case MESH_NODE_REQ_KEYS:
		do_keys(n, q, &r);
		return;
	case MESH_NODE_REQ_SUBSCRIBE:
		do_subscribe(n, q, &r);
		break;
	case MESH_NODE_REQ_UNSUBSCRIBE:
		drop_subs(n, q->client, q->client_gen, q->subscription);
		node_watch_drop(n, q->client, q->client_gen, q->subscription);
		node_mev_drop(n, q->client, q->client_gen, q->subscription);
		break;
	case MESH_NODE_REQ_WATCH:
		node_watch_request(n, q, &r);
		break;
	case MESH_NODE_REQ_MEMBERS_WATCH:
		node_mev_request(n, q, &r);
		reply(n, q, &r);
		if (r.status == 0 && q->watch.snapshot)
			node_mev_snapshot(n, r.subscription);
		return;
	case MESH_NODE_REQ_PUBLISH:
		ret = publish(n, q);
		if (ret == -EHOSTUNREACH) {
			r.status = ret;
			r.error = "publish_to: target is not an alive member";
		} else if (ret < 0) {
			set_error(&r, ret);
		}
		break;
	case MESH_NODE_REQ_MEMBERS:
		do_members(n, q, &r);
		return;
	case MESH_NODE_REQ_HELLO:
		node_cluster_hello(n, &r);
		break;
	case MESH_NODE_REQ_CLUSTER:
		node_cluster_reply(n, &r);
		break;
	case MESH_NODE_REQ_SET_METADATA:
		ret = node_meta_set(n, q->value, q->value_len, now_ns);
		if (ret == -EMSGSIZE) {
			r.status = ret;
			r.error = "metadata larger than 512 bytes";
		} else if (ret < 0) {
			set_error(&r, ret);
		}
		break;
	case MESH_NODE_REQ_BATCH:
		node_batch_request(n, q, &r, now_ns);
		reply(n, q, &r);
		free((void *)(uintptr_t)r.results);
		return;
	case MESH_NODE_REQ_CLOSED:
		drop_subs(n, q->client, q->client_gen, 0);
		node_watch_drop(n, q->client, q->client_gen, 0);
		node_mev_drop(n, q->client, q->client_gen, 0);
		return;
	default:
		r.status = -EOPNOTSUPP;
		r.error = "unknown operation";
		break;
	}
	reply(n, q, &r);
}

unsigned
node_client_events(struct mesh_node *n)
{
	unsigned sent = 0;

	for (unsigned i = 0, left = n->n_subs; left > 0 && i < NODE_MAX_SUBS; i++) {
		struct node_sub *s = &n->subs[i];
		struct mesh_crdt_event ev;

		if (s->h == NULL)
			continue;
		left--;
		for (unsigned k = 0; k < EVENTS_PER_POLL && mesh_crdt_sub_poll(s->h, &ev) == 1;
		     k++) {
			uint64_t dropped = mesh_crdt_sub_dropped(s->h);
			struct mesh_node_reply r = {
				.type = MESH_NODE_REPLY_EVENT,
				.client = s->client,
				.client_gen = s->client_gen,
				.subscription = s->id,
				.key = { .data = ev.key, .len = ev.key_len },
				.value = { .data = ev.value, .len = ev.value_len },
				.tombstone = ev.tombstone,
				.origin_ns = ev.origin_ns,
				.seq = ev.seq,
				.dropped = dropped - s->dropped_seen,
			};

			if (node_key_reserved(ev.key, ev.key_len))
				continue; /* node state under a catch-all prefix: not the clients' */
			if (r.dropped > 0)
				mesh_counter_add(&n->ctr[MESH_NODE_CTR_node_event_drops], r.dropped);
			s->dropped_seen = dropped;
			if (n->env->reply != NULL)
				n->env->reply(n->ctx, &r);
			NODE_CTR(n, node_events);
			sent++;
		}
	}
	return sent + node_watch_poll(n) + node_mev_poll(n);
}

void
node_client_fini(struct mesh_node *n)
{
	for (unsigned i = 0; i < NODE_MAX_SUBS; i++) {
		mesh_crdt_sub_delete(n->subs[i].h);
		n->subs[i].h = NULL;
	}
	n->n_subs = 0;
	node_watch_fini(n);
	node_mev_fini(n);
}
