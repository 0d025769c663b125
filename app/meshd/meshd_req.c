/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client requests on the merge lcore, the only thread that touches the CRDT store: put,
 * get, delete, keys (sorted, paged), subscribe/unsubscribe (post-merge events pushed as
 * Responses with id 0), publish (stream namespaces), members, stats. Every refusal carries
 * a negative errno and a readable reason. Replies are encoded here and handed to the
 * control thread, which owns the sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.pb-c.h"
#include "mesh_client.h"
#include "mesh_common_dpdk.h"
#include "mesh_crdt.h"
#include "mesh_swim.h"
#include "meshd.h"
#include "meshd_ctl.h"

#define MAX_SUBS 256
#define KEYS_DEFAULT 100
#define KEYS_MAX 1000
#define EVENTS_PER_POLL 64
#define MAX_MEMBERS_REPLY 1024 /* about 80 B each: well inside one reply */

struct sub {
	uint64_t id;
	uint32_t client;
	uint32_t client_gen;
	uint64_t dropped_seen;
	struct mesh_crdt_sub *h;
};

static struct sub subs[MAX_SUBS];

/* A large stream value arriving in parts, per client slot (one at a time per client). */
static struct part_asm {
	uint32_t gen;
	uint8_t *key;
	size_t key_len;
	uint8_t *buf;
	size_t total, got;
} parts[MESHD_CTL_MAX_CLIENTS];

static void
part_free(struct part_asm *a)
{
	free(a->key);
	free(a->buf);
	memset(a, 0, sizeof(*a));
}
static uint64_t next_sub_id = 1;

static uint64_t *
row(struct meshd *d)
{
	return mesh_counters_row(&d->ctl.ctr, 1);
}

/* Encode @r and queue it for the control thread; 0 if queued. */
static int
reply(struct meshd *d, uint32_t client, uint32_t gen, Mesh__Client__Response *r)
{
	size_t len = mesh__client__response__get_packed_size(r);
	struct meshd_ctl_resp *m;

	if (len > MESH_CLIENT_MAX_MSG) {
		Mesh__Client__Response e = MESH__CLIENT__RESPONSE__INIT;
		e.id = r->id;
		e.status = -EMSGSIZE;
		e.error = (char *)"reply larger than the client protocol allows";
		return reply(d, client, gen, &e);
	}
	m = malloc(sizeof(*m) + len);
	if (m == NULL)
		goto drop;
	m->client = client;
	m->client_gen = gen;
	m->len = (uint32_t)mesh__client__response__pack(r, m->data);
	if (rte_ring_sp_enqueue(d->ctl.to_ctl, m) != 0) {
		free(m);
		goto drop;
	}
	return 0;
drop:
	mesh_counter_add(&row(d)[MESHD_CTR_ctl_response_drops], 1);
	return -ENOBUFS;
}

static void
set_error(Mesh__Client__Response *r, int err)
{
	r->status = err;
	r->error = (char *)(uintptr_t)mesh_crdt_strerror(err);
}

static ProtobufCBinaryData
bin(const void *p, size_t n)
{
	return (ProtobufCBinaryData){ .len = n, .data = (uint8_t *)(uintptr_t)p };
}

struct key_list {
	ProtobufCBinaryData *keys;
	size_t n, cap;
	const ProtobufCBinaryData *after;
};

static int
cmp_bin(const void *a, const void *b)
{
	const ProtobufCBinaryData *x = a, *y = b;
	int c = memcmp(x->data, y->data, MESH_MIN(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int
collect_key(void *ctx, const void *key, uint32_t key_len, const void *value, uint32_t value_len)
{
	struct key_list *l = ctx;
	ProtobufCBinaryData k = bin(key, key_len);

	(void)value;
	(void)value_len;
	if (l->after->len > 0 && cmp_bin(&k, l->after) <= 0)
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
do_keys(struct meshd *d, const Mesh__Client__KeysReq *k, Mesh__Client__Response *r,
	Mesh__Client__KeysResp *kr)
{
	struct key_list l = { .after = &k->after };
	uint32_t limit = k->limit == 0 ? KEYS_DEFAULT : MESH_MIN(k->limit, KEYS_MAX);

	mesh_crdt_foreach(d->kv, k->prefix.data, k->prefix.len, collect_key, &l);
	qsort(l.keys, l.n, sizeof(*l.keys), cmp_bin);
	kr->n_keys = MESH_MIN(l.n, limit);
	kr->keys = l.keys;
	kr->more = l.n > limit;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_KEYS;
	r->keys = kr;
}

static void
do_subscribe(struct meshd *d, const struct meshd_ctl_req *q, Mesh__Client__Response *r,
	     Mesh__Client__SubscribeResp *sr)
{
	const ProtobufCBinaryData *p = &q->req->subscribe->prefix;
	char pfx[128];

	for (unsigned i = 0; i < MAX_SUBS; i++) {
		if (subs[i].h != NULL)
			continue;
		snprintf(pfx, sizeof(pfx), "%.*s", (int)MESH_MIN(p->len, sizeof(pfx) - 1),
			 (const char *)p->data);
		subs[i].h = mesh_crdt_sub_new(d->kv, p->data, p->len,
					      mesh_crdt_sub_default_capacity(pfx), 0);
		if (subs[i].h == NULL) {
			set_error(r, -errno);
			return;
		}
		subs[i].id = next_sub_id++;
		subs[i].client = q->client;
		subs[i].client_gen = q->client_gen;
		subs[i].dropped_seen = 0;
		sr->subscription = subs[i].id;
		r->result_case = MESH__CLIENT__RESPONSE__RESULT_SUBSCRIBE;
		r->subscribe = sr;
		return;
	}
	r->status = -ENOSPC;
	r->error = (char *)"too many subscriptions on this node";
}

static void
drop_subs(uint32_t client, uint32_t gen, uint64_t id)
{
	for (unsigned i = 0; i < MAX_SUBS; i++) {
		if (subs[i].h == NULL || subs[i].client != client || subs[i].client_gen != gen ||
		    (id != 0 && subs[i].id != id))
			continue;
		mesh_crdt_sub_delete(subs[i].h);
		subs[i].h = NULL;
	}
}

struct stats_fill {
	Mesh__Client__StatsResp *sr;
	Mesh__Client__Stat *st;
	size_t cap;
};

static void
add_stat(void *ctx, const char *group, const char *name, uint64_t v)
{
	struct stats_fill *f = ctx;
	Mesh__Client__StatsResp *sr = f->sr;

	if (sr->n_stats == f->cap)
		return;
	mesh__client__stat__init(&f->st[sr->n_stats]);
	f->st[sr->n_stats].group = (char *)(uintptr_t)group;
	f->st[sr->n_stats].name = (char *)(uintptr_t)name;
	f->st[sr->n_stats].value = v;
	sr->stats[sr->n_stats] = &f->st[sr->n_stats];
	sr->n_stats++;
}

static void
do_stats(struct meshd *d, const char *group, Mesh__Client__Response *r,
	 Mesh__Client__StatsResp *sr)
{
	static Mesh__Client__Stat st[1024];
	static Mesh__Client__Stat *ptrs[1024];
	struct stats_fill f = { .sr = sr, .st = st, .cap = MESH_ARRAY_SIZE(st) };

	sr->stats = ptrs;
	sr->n_stats = 0;
	if (meshd_counters_visit(d, group, add_stat, &f) < 0) {
		r->status = -ENOENT;
		r->error = (char *)"unknown stats group (net, ctl, merge, crdt, swim, stream)";
		return;
	}
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_STATS;
	r->stats = sr;
}

static void
do_members(struct meshd *d, Mesh__Client__Response *r, Mesh__Client__MembersResp *mr)
{
	static Mesh__Client__Member m[MAX_MEMBERS_REPLY];
	static Mesh__Client__Member *list[MAX_MEMBERS_REPLY];
	static char names[MAX_MEMBERS_REPLY][MESH_SWIM_NAME_MAX + 1], addrs[MAX_MEMBERS_REPLY][24];
	size_t total = mesh_swim_member_count(d->swim, 0), n = 0;
	struct mesh_swim_member_info info;
	char ip[16];

	for (size_t i = 0; i <= total && n < MAX_MEMBERS_REPLY; i++) {
		if (i == 0)
			mesh_swim_self(d->swim, &info); /* self first */
		else if (mesh_swim_member_at(d->swim, i - 1, &info) < 0)
			break;
		mesh__client__member__init(&m[n]);
		snprintf(names[n], sizeof(names[n]), "%.*s", (int)info.name_len, info.name);
		snprintf(addrs[n], sizeof(addrs[n]), "%s:%u",
			 mesh_net_ip_format(info.addr.ip, ip, sizeof(ip)), info.addr.port);
		m[n].name = names[n];
		m[n].address = addrs[n];
		m[n].status = (char *)(uintptr_t)mesh_swim_status_name(info.status);
		m[n].incarnation = info.inc;
		m[n].generation = info.gen;
		list[n] = &m[n];
		n++;
	}
	mr->members = list;
	mr->n_members = n;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_MEMBERS;
	r->members = mr;
}

static int
publish_value(struct meshd *d, const char *target, const void *key, size_t key_len,
	      const void *value, size_t len)
{
	uint64_t peer;

	if (target == NULL || target[0] == '\0')
		return mesh_crdt_stream_publish(d->kv, key, key_len, value, len);
	peer = meshd_repl_peer_id(d, target);
	if (peer == 0)
		return -EHOSTUNREACH;
	return mesh_crdt_stream_publish_to(d->kv, peer, key, key_len, value, len);
}

/* One part of a large value: -EINPROGRESS until complete, 0 when complete, or -errno. */
static int
publish_part(struct meshd *d, const struct meshd_ctl_req *q)
{
	const Mesh__Client__PublishReq *p = q->req->publish;
	struct part_asm *a = &parts[q->client];

	(void)d;
	if (p->offset == 0) {
		part_free(a);
		if (p->total_len > MESH_CLIENT_MAX_VALUE)
			return -EMSGSIZE;
		a->gen = q->client_gen;
		a->total = p->total_len;
		a->key = malloc(p->key.len + 1);
		a->buf = malloc(a->total);
		if (a->key == NULL || a->buf == NULL) {
			part_free(a);
			return -ENOMEM;
		}
		memcpy(a->key, p->key.data, p->key.len);
		a->key_len = p->key.len;
	} else if (a->buf == NULL || a->gen != q->client_gen || p->offset != a->got ||
		   p->total_len != a->total || p->key.len != a->key_len ||
		   memcmp(p->key.data, a->key, a->key_len) != 0) {
		part_free(a);
		return -EPROTO; /* parts out of order or of another value */
	}
	if (a->got + p->value.len > a->total) {
		part_free(a);
		return -EMSGSIZE;
	}
	memcpy(a->buf + a->got, p->value.data, p->value.len);
	a->got += p->value.len;
	return a->got < a->total ? -EINPROGRESS : 0;
}

static void
handle(struct meshd *d, struct meshd_ctl_req *q, uint64_t now_ns)
{
	Mesh__Client__Request *req = q->req;
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__GetResp gr = MESH__CLIENT__GET_RESP__INIT;
	Mesh__Client__KeysResp kr = MESH__CLIENT__KEYS_RESP__INIT;
	Mesh__Client__SubscribeResp sr = MESH__CLIENT__SUBSCRIBE_RESP__INIT;
	Mesh__Client__MembersResp mr = MESH__CLIENT__MEMBERS_RESP__INIT;
	Mesh__Client__StatsResp str = MESH__CLIENT__STATS_RESP__INIT;
	struct mesh_crdt_version ver;
	const void *val;
	uint32_t vlen;
	int ret;

	r.id = req->id;
	switch (req->op_case) {
	case MESH__CLIENT__REQUEST__OP_PUT:
		ret = mesh_crdt_put_origin(d->kv, req->put->key.data, req->put->key.len,
					   req->put->value.data, req->put->value.len, now_ns,
					   mesh_time_real_ns());
		if (ret < 0)
			set_error(&r, ret);
		break;
	case MESH__CLIENT__REQUEST__OP_GET:
		ret = mesh_crdt_get(d->kv, req->get->key.data, req->get->key.len, &val, &vlen,
				    &ver);
		if (ret < 0 && ret != -ENOENT) {
			set_error(&r, ret);
			break;
		}
		gr.found = ret == 0;
		if (ret == 0) {
			gr.value = bin(val, vlen);
			gr.timestamp = ver.ts;
			gr.replica = ver.replica;
		}
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_GET;
		r.get = &gr;
		break;
	case MESH__CLIENT__REQUEST__OP_DEL:
		ret = mesh_crdt_delete_origin(d->kv, req->del->key.data, req->del->key.len,
					      now_ns, mesh_time_real_ns());
		if (ret < 0)
			set_error(&r, ret);
		break;
	case MESH__CLIENT__REQUEST__OP_KEYS:
		do_keys(d, req->keys, &r, &kr);
		break;
	case MESH__CLIENT__REQUEST__OP_SUBSCRIBE:
		do_subscribe(d, q, &r, &sr);
		break;
	case MESH__CLIENT__REQUEST__OP_UNSUBSCRIBE:
		drop_subs(q->client, q->client_gen, req->unsubscribe->subscription);
		break;
	case MESH__CLIENT__REQUEST__OP_PUBLISH:
		if (req->publish->total_len > 0) {
			ret = publish_part(d, q);
			if (ret == -EINPROGRESS)
				break; /* acknowledged; the value is published with its last part */
			if (ret < 0) {
				set_error(&r, ret);
				break;
			}
			ret = publish_value(d, req->publish->target,
					    parts[q->client].key, parts[q->client].key_len,
					    parts[q->client].buf, parts[q->client].total);
			part_free(&parts[q->client]);
			if (ret < 0)
				set_error(&r, ret);
			break;
		}
		ret = publish_value(d, req->publish->target, req->publish->key.data,
				    req->publish->key.len, req->publish->value.data,
				    req->publish->value.len);
		if (ret == -EHOSTUNREACH) {
			r.status = ret;
			r.error = (char *)"publish_to: target is not an alive member";
		} else if (ret < 0) {
			set_error(&r, ret);
		}
		break;
	case MESH__CLIENT__REQUEST__OP_MEMBERS:
		do_members(d, &r, &mr);
		break;
	case MESH__CLIENT__REQUEST__OP_STATS:
		do_stats(d, req->stats->group, &r, &str);
		break;
	default:
		r.status = -EOPNOTSUPP;
		r.error = (char *)"unknown operation";
		break;
	}
	reply(d, q->client, q->client_gen, &r);
	mesh_counter_add(&row(d)[MESHD_CTR_ctl_responses], 1);
	free(kr.keys);
}

static unsigned
poll_events(struct meshd *d)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < MAX_SUBS; i++) {
		struct mesh_crdt_event ev;
		struct sub *s = &subs[i];

		for (unsigned k = 0; s->h != NULL && k < EVENTS_PER_POLL &&
				     mesh_crdt_sub_poll(s->h, &ev) == 1; k++) {
			Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
			Mesh__Client__Event e = MESH__CLIENT__EVENT__INIT;
			uint64_t dropped = mesh_crdt_sub_dropped(s->h);

			e.subscription = s->id;
			e.key = bin(ev.key, ev.key_len);
			e.tombstone = ev.tombstone;
			e.origin_ns = ev.origin_ns;
			e.dropped = dropped - s->dropped_seen;
			s->dropped_seen = dropped;
			r.result_case = MESH__CLIENT__RESPONSE__RESULT_EVENT;
			r.event = &e;
			if (ev.value_len > MESH_CLIENT_PART)
				e.total_len = ev.value_len; /* in parts the client reassembles */
			for (uint32_t off = 0; off < ev.value_len || off == 0;) {
				uint32_t n = MESH_MIN(ev.value_len - off, (uint32_t)MESH_CLIENT_PART);

				e.offset = off;
				e.value = bin((const uint8_t *)ev.value + off, n);
				if (reply(d, s->client, s->client_gen, &r) < 0) {
					mesh_counter_add(&row(d)[MESHD_CTR_ctl_event_drops], 1);
					break;
				}
				off += n;
				if (off >= ev.value_len)
					break;
			}
			mesh_counter_add(&row(d)[MESHD_CTR_ctl_events], 1);
			sent++;
		}
	}
	return sent;
}

unsigned
meshd_req_poll(struct meshd *d, uint64_t now_ns)
{
	struct meshd_ctl_req *q[32];
	unsigned n, work;
	uint64_t one = 1;

	if (d->ctl.to_merge == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst(d->ctl.to_merge, (void **)q, 32, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (q[i]->closed) {
			drop_subs(q[i]->client, q[i]->client_gen, 0);
			if (parts[q[i]->client].gen == q[i]->client_gen)
				part_free(&parts[q[i]->client]);
		}
		else
			handle(d, q[i], now_ns);
		if (q[i]->req != NULL)
			mesh__client__request__free_unpacked(q[i]->req, NULL);
		free(q[i]);
	}
	work = n + poll_events(d);
	if (work > 0 && write(d->ctl.event_fd, &one, sizeof(one)) < 0) {
		/* the eventfd counter saturates only if the control thread is gone */
	}
	return work;
}

void
meshd_req_fini(struct meshd *d)
{
	(void)d;
	for (unsigned i = 0; i < MAX_SUBS; i++) {
		mesh_crdt_sub_delete(subs[i].h);
		subs[i].h = NULL;
	}
}
