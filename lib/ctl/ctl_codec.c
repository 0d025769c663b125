/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client protocol on the control thread. Requests: a protobuf Request becomes one
 * struct ctl_req (host struct + its bytes) for the merge lcore; stats are answered here
 * from the counter registry; a value sent in parts is reassembled here (bounded by
 * client_parts_max and the clients' global byte cap, one value at a time per client) and
 * forwarded whole. Replies: lib/node's host reply becomes a protobuf Response; an event
 * whose value is larger than MESH_CLIENT_PART goes out in parts the client reassembles,
 * all of them or none (an event the output caps refuse is reported in Event.dropped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_internal.h"
#include "mesh_client.h"
#include "mesh_net_pkt.h"
#include "mesh_swim.h"
#include "mesh_telemetry.h"

#define STATS_MAX 1024

static void
answer(struct mesh_ctl *c, unsigned slot, uint64_t id, int status, const char *error)
{
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;

	r.id = id;
	r.status = status;
	r.error = (char *)(uintptr_t)(error != NULL ? error : "");
	ctl_send_response(c, slot, &r);
}

Mesh__Client__Error
ctl_error_code(int status)
{
	switch (status) {
	case 0:
		return MESH__CLIENT__ERROR__OK;
	case -ENOENT:
		return MESH__CLIENT__ERROR__NOT_FOUND;
	case -ENXIO:
		return MESH__CLIENT__ERROR__NO_NAMESPACE;
	case -EPROTOTYPE:
		return MESH__CLIENT__ERROR__WRONG_KIND;
	case -EINVAL:
		return MESH__CLIENT__ERROR__INVALID;
	case -EMSGSIZE:
		return MESH__CLIENT__ERROR__TOO_LARGE;
	case -ENOSPC:
		return MESH__CLIENT__ERROR__NO_SPACE;
	case -EDQUOT:
		return MESH__CLIENT__ERROR__QUOTA;
	case -EBUSY:
	case -EUSERS:
		return MESH__CLIENT__ERROR__BUSY;
	case -EBADMSG:
		return MESH__CLIENT__ERROR__BAD_MESSAGE;
	case -EHOSTUNREACH:
		return MESH__CLIENT__ERROR__UNREACHABLE;
	case -EOPNOTSUPP:
		return MESH__CLIENT__ERROR__UNSUPPORTED;
	case -EFBIG:
		return MESH__CLIENT__ERROR__VALUE_TOO_BIG;
	case -ENOBUFS:
		return MESH__CLIENT__ERROR__NO_BUFFERS;
	case -EPERM:
		return MESH__CLIENT__ERROR__RESERVED;
	case -ESTALE:
		return MESH__CLIENT__ERROR__STALE;
	default:
		return MESH__CLIENT__ERROR__INTERNAL;
	}
}

/* ---------------------------------------------------------------- stats */

struct stats_fill {
	Mesh__Client__StatsResp *sr;
	Mesh__Client__Stat *st;
	char (*names)[64];
};

static void
add_stat(void *ctx, const char *group, const char *name, uint64_t v)
{
	struct stats_fill *f = ctx;
	Mesh__Client__StatsResp *sr = f->sr;

	if (sr->n_stats == STATS_MAX)
		return;
	mesh__client__stat__init(&f->st[sr->n_stats]);
	f->st[sr->n_stats].group = (char *)(uintptr_t)group;
	/* walks may hand out names built in stack buffers (handoff rings): keep a copy */
	snprintf(f->names[sr->n_stats], sizeof(f->names[0]), "%s", name);
	f->st[sr->n_stats].name = f->names[sr->n_stats];
	f->st[sr->n_stats].value = v;
	sr->stats[sr->n_stats] = &f->st[sr->n_stats];
	sr->n_stats++;
}

static void
do_stats(struct mesh_ctl *c, unsigned slot, uint64_t id, const char *group)
{
	static Mesh__Client__Stat st[STATS_MAX];       /* control thread only */
	static Mesh__Client__Stat *ptrs[STATS_MAX];
	static char names[STATS_MAX][64];
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__StatsResp sr = MESH__CLIENT__STATS_RESP__INIT;
	struct stats_fill f = { .sr = &sr, .st = st, .names = names };
	char groups[256], msg[320];

	sr.stats = ptrs;
	r.id = id;
	if (mesh_telemetry_counters_visit(group, add_stat, &f) < 0) {
		mesh_telemetry_group_names(groups, sizeof(groups));
		snprintf(msg, sizeof(msg), "unknown stats group (%s)", groups);
		answer(c, slot, id, -ENOENT, msg);
		return;
	}
	r.result_case = MESH__CLIENT__RESPONSE__RESULT_STATS;
	r.stats = &sr;
	ctl_send_response(c, slot, &r);
}

/* ---------------------------------------------------------------- requests */

static struct ctl_req *
req_new(unsigned slot, uint32_t gen, uint64_t id, enum mesh_node_req_type type,
	const ProtobufCBinaryData *key, const ProtobufCBinaryData *value,
	const ProtobufCBinaryData *after)
{
	static const ProtobufCBinaryData none = { 0 };
	struct ctl_req *q;
	uint8_t *at;

	key = key != NULL ? key : &none;
	value = value != NULL ? value : &none;
	after = after != NULL ? after : &none;
	q = calloc(1, sizeof(*q) + key->len + value->len + after->len);
	if (q == NULL)
		return NULL;
	q->req.type = type;
	q->req.client = slot;
	q->req.client_gen = gen;
	q->req.id = id;
	q->req.target = q->target;
	at = q->data;
	memcpy(at, key->data, key->len);
	q->req.key = at;
	q->req.key_len = (uint32_t)key->len;
	at += key->len;
	memcpy(at, value->data, value->len);
	q->req.value = at;
	q->req.value_len = (uint32_t)value->len;
	at += value->len;
	memcpy(at, after->data, after->len);
	q->req.after = at;
	q->req.after_len = (uint32_t)after->len;
	return q;
}

void
ctl_parts_free(struct mesh_ctl *c, struct ctl_parts *p)
{
	if (p->buf != NULL)
		c->bytes -= p->total;
	free(p->key);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* One part of a large value: -EINPROGRESS until complete, 0 when complete, or -errno. */
static int
part_add(struct mesh_ctl *c, struct ctl_parts *a, const Mesh__Client__PublishReq *p)
{
	uint64_t *row = ctl_row(c, 0);

	if (p->offset == 0) {
		ctl_parts_free(c, a);
		if (p->total_len > MESH_CLIENT_MAX_VALUE)
			return -EMSGSIZE;
		if (p->total_len > c->parts_max) {
			mesh_counter_add(&row[MESH_CTR_ctl_parts_drop_client_cap], 1);
			return -EFBIG;
		}
		if (c->bytes + p->total_len > c->total_max) {
			mesh_counter_add(&row[MESH_CTR_ctl_parts_drop_global_cap], 1);
			return -ENOBUFS;
		}
		a->total = p->total_len;
		a->buf = malloc(a->total);
		if (a->buf != NULL)
			c->bytes += a->total;
		a->key = malloc(p->key.len + 1);
		if (a->key == NULL || a->buf == NULL) {
			ctl_parts_free(c, a);
			return -ENOMEM;
		}
		memcpy(a->key, p->key.data, p->key.len);
		a->key_len = p->key.len;
		snprintf(a->target, sizeof(a->target), "%s", p->target ? p->target : "");
	} else if (a->buf == NULL || p->offset != a->got || p->total_len != a->total ||
		   p->key.len != a->key_len || memcmp(p->key.data, a->key, a->key_len) != 0) {
		ctl_parts_free(c, a);
		return -EPROTO; /* parts out of order or of another value */
	}
	if (a->got + p->value.len > a->total) {
		ctl_parts_free(c, a);
		return -EMSGSIZE;
	}
	memcpy(a->buf + a->got, p->value.data, p->value.len);
	a->got += p->value.len;
	return a->got < a->total ? -EINPROGRESS : 0;
}

static struct ctl_req *
publish(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Request *req)
{
	const Mesh__Client__PublishReq *p = req->publish;
	struct ctl_parts *a = &c->clients[slot].parts;
	ProtobufCBinaryData key, value;
	struct ctl_req *q;
	int ret;

	if (p->total_len == 0) {
		q = req_new(slot, c->clients[slot].gen, req->id, MESH_NODE_REQ_PUBLISH, &p->key,
			    &p->value, NULL);
		if (q != NULL)
			snprintf(q->target, sizeof(q->target), "%s", p->target ? p->target : "");
		return q;
	}
	ret = part_add(c, a, p);
	if (ret == -EINPROGRESS) {
		answer(c, slot, req->id, 0, NULL); /* the value is published with its last part */
		return NULL;
	}
	if (ret < 0) {
		answer(c, slot, req->id, ret,
		       ret == -EFBIG ? "publish parts: value larger than ctl_client_parts_max" :
		       ret == -ENOBUFS ? "publish parts: the node's client memory "
					 "(ctl_clients_max_bytes) is in use; retry later" :
		       "publish parts: out of order, too large or no memory");
		return NULL;
	}
	key = (ProtobufCBinaryData){ .len = a->key_len, .data = a->key };
	value = (ProtobufCBinaryData){ .len = a->total, .data = a->buf };
	q = req_new(slot, c->clients[slot].gen, req->id, MESH_NODE_REQ_PUBLISH, &key, &value,
		    NULL);
	if (q != NULL)
		snprintf(q->target, sizeof(q->target), "%s", a->target);
	ctl_parts_free(c, a);
	return q;
}

/* BatchReq: the ops and all their bytes in one allocation behind the request */
static struct ctl_req *
batch_req(struct mesh_ctl *c, unsigned slot, const Mesh__Client__Request *req)
{
	const Mesh__Client__BatchReq *b = req->batch;
	struct mesh_node_batch_op *ops;
	size_t bytes = 0;
	struct ctl_req *q;
	uint8_t *at;

	if (b->n_ops > MESH_NODE_BATCH_MAX) {
		answer(c, slot, req->id, -ENOSPC, "batch larger than max_batch ops (hello)");
		return NULL;
	}
	for (size_t i = 0; i < b->n_ops; i++)
		bytes += b->ops[i]->key.len + b->ops[i]->value.len;
	q = calloc(1, sizeof(*q) + b->n_ops * sizeof(*ops) + bytes);
	if (q == NULL)
		return NULL;
	q->req.type = MESH_NODE_REQ_BATCH;
	q->req.client = slot;
	q->req.client_gen = c->clients[slot].gen;
	q->req.id = req->id;
	q->req.target = q->target;
	ops = (struct mesh_node_batch_op *)q->data;
	at = (uint8_t *)(ops + b->n_ops);
	for (size_t i = 0; i < b->n_ops; i++) {
		const Mesh__Client__BatchOp *o = b->ops[i];

		ops[i] = (struct mesh_node_batch_op){
			.kind = o->kind == MESH__CLIENT__BATCH_OP__KIND__DELETE ? MESH_NODE_BATCH_DEL :
				o->kind == MESH__CLIENT__BATCH_OP__KIND__GET	? MESH_NODE_BATCH_GET :
									  MESH_NODE_BATCH_PUT,
			.owned = o->owned,
			.key = at, .key_len = (uint32_t)o->key.len,
		};
		if (o->key.len)
			memcpy(at, o->key.data, o->key.len);
		at += o->key.len;
		ops[i].value = at;
		ops[i].value_len = (uint32_t)o->value.len;
		if (o->value.len)
			memcpy(at, o->value.data, o->value.len);
		at += o->value.len;
	}
	q->req.ops = ops;
	q->req.n_ops = (uint32_t)b->n_ops;
	return q;
}

/* WatchReq's starting point */
static void
watch_req(struct ctl_req *q, const Mesh__Client__WatchReq *w)
{
	q->req.watch.snapshot = w->snapshot;
	q->req.watch.resume = w->resume;
	q->req.watch.generation = w->resume_generation;
	q->req.watch.seq = w->resume_seq;
}

struct ctl_req *
ctl_codec_request(struct mesh_ctl *c, unsigned slot, Mesh__Client__Request *req)
{
	uint32_t gen = c->clients[slot].gen;
	struct ctl_req *q = NULL;

	switch (req->op_case) {
	case MESH__CLIENT__REQUEST__OP_PUT:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_PUT, &req->put->key,
			    &req->put->value, NULL);
		if (q != NULL)
			q->req.owned = req->put->owned;
		break;
	case MESH__CLIENT__REQUEST__OP_GET:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_GET, &req->get->key, NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_DEL:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_DEL, &req->del->key, NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_KEYS:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_KEYS, &req->keys->prefix, NULL,
			    &req->keys->after);
		if (q != NULL)
			q->req.limit = req->keys->limit;
		break;
	case MESH__CLIENT__REQUEST__OP_SUBSCRIBE:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_SUBSCRIBE, &req->subscribe->prefix,
			    NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_UNSUBSCRIBE:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_UNSUBSCRIBE, NULL, NULL, NULL);
		if (q != NULL)
			q->req.subscription = req->unsubscribe->subscription;
		break;
	case MESH__CLIENT__REQUEST__OP_PUBLISH:
		return publish(c, slot, req);
	case MESH__CLIENT__REQUEST__OP_MEMBERS:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_MEMBERS, NULL, NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_STATS:
		do_stats(c, slot, req->id, req->stats->group);
		return NULL;
	case MESH__CLIENT__REQUEST__OP_HELLO:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_HELLO, NULL, NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_BATCH:
		q = batch_req(c, slot, req);
		if (q == NULL && req->batch->n_ops > MESH_NODE_BATCH_MAX)
			return NULL; /* answered */
		break;
	case MESH__CLIENT__REQUEST__OP_SET_METADATA:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_SET_METADATA, NULL,
			    &req->set_metadata->metadata, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_CLUSTER:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_CLUSTER, NULL, NULL, NULL);
		break;
	case MESH__CLIENT__REQUEST__OP_WATCH:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_WATCH, &req->watch->prefix, NULL,
			    NULL);
		if (q != NULL)
			watch_req(q, req->watch);
		break;
	case MESH__CLIENT__REQUEST__OP_MEMBERS_WATCH:
		q = req_new(slot, gen, req->id, MESH_NODE_REQ_MEMBERS_WATCH, NULL, NULL, NULL);
		if (q != NULL)
			q->req.watch.snapshot = req->members_watch->snapshot;
		break;
	default:
		answer(c, slot, req->id, -EOPNOTSUPP, "unknown operation");
		return NULL;
	}
	if (q == NULL)
		answer(c, slot, req->id, -ENOMEM, "out of memory");
	return q;
}

/* ---------------------------------------------------------------- replies */

static ProtobufCBinaryData
bin(struct mesh_node_bytes b)
{
	return (ProtobufCBinaryData){ .len = b.len, .data = (uint8_t *)(uintptr_t)b.data };
}

static void
reply_members(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	Mesh__Client__MembersResp mr = MESH__CLIENT__MEMBERS_RESP__INIT;
	uint32_t n = nr->n_members;
	Mesh__Client__Member *m = calloc(n ? n : 1, sizeof(*m));
	Mesh__Client__Member **list = calloc(n ? n : 1, sizeof(*list));
	char (*text)[2][MESH_SWIM_NAME_MAX + 1] = calloc(n ? n : 1, sizeof(*text));

	if (m == NULL || list == NULL || text == NULL) {
		r->status = -ENOMEM;
		r->error = (char *)"out of memory";
		n = 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mesh_node_member *x = &nr->members[i];
		char ip[16];

		mesh__client__member__init(&m[i]);
		snprintf(text[i][0], sizeof(text[i][0]), "%.*s", (int)x->name.len,
			 (const char *)x->name.data);
		snprintf(text[i][1], sizeof(text[i][1]), "%s:%u",
			 mesh_net_ip_format(x->addr.ip, ip, sizeof(ip)), x->addr.port);
		m[i].name = text[i][0];
		m[i].address = text[i][1];
		m[i].status = (char *)(uintptr_t)mesh_swim_status_name(x->status);
		m[i].incarnation = x->incarnation;
		m[i].generation = x->generation;
		m[i].metadata = bin(x->metadata);
		list[i] = &m[i];
	}
	mr.members = list;
	mr.n_members = n;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_MEMBERS;
	r->members = &mr;
	ctl_send_response(c, nr->client, r);
	free(m);
	free(list);
	free(text);
}

static void
reply_event(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	Mesh__Client__Event e = MESH__CLIENT__EVENT__INIT;
	struct ctl_lost *lost = &c->clients[nr->client].lost;
	uint32_t parts = MESH_MAX(1u, (nr->value.len + MESH_CLIENT_PART - 1) / MESH_CLIENT_PART);
	int why = ctl_out_admit(c, nr->client, nr->value.len + parts * (nr->key.len + 64u),
				parts, false);
	uint64_t owed;

	if (why != 0) { /* all parts or none; the loss goes with the next event */
		mesh_counter_add(&ctl_row(c, 0)[why], 1);
		ctl_lost_add(lost, nr->subscription, 1 + nr->dropped);
		return;
	}
	owed = ctl_lost_take(lost, nr->subscription);
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_events_lost_reported], owed);
	e.subscription = nr->subscription;
	e.key = bin(nr->key);
	e.tombstone = nr->tombstone;
	e.origin_ns = nr->origin_ns;
	e.dropped = nr->dropped + owed;
	e.seq = nr->seq;
	e.snapshot = nr->snapshot;
	e.snapshot_end = nr->snapshot_end;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_EVENT;
	r->event = &e;
	if (nr->value.len > MESH_CLIENT_PART)
		e.total_len = nr->value.len; /* in parts the client reassembles */
	for (uint32_t off = 0;;) {
		uint32_t n = MESH_MIN(nr->value.len - off, (uint32_t)MESH_CLIENT_PART);

		e.offset = off;
		e.value = (ProtobufCBinaryData){ .len = n,
						 .data = (uint8_t *)(uintptr_t)nr->value.data + off };
		ctl_send_admitted(c, nr->client, r);
		off += n;
		if (off >= nr->value.len)
			break;
		e.dropped = 0;
	}
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_events], 1);
}

/* WatchResp */
static void
reply_watch(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	Mesh__Client__WatchResp wr = MESH__CLIENT__WATCH_RESP__INIT;

	wr.subscription = nr->subscription;
	wr.generation = nr->generation;
	wr.seq = nr->seq;
	wr.resumed = nr->resumed;
	wr.missed = nr->missed;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_WATCH;
	r->watch = &wr;
	ctl_send_response(c, nr->client, r);
}

/* A membership event (id 0): admitted like a subscription event, losses reported with the
 * subscription's next one in MemberEvent.dropped. */
static void
reply_member_event(struct mesh_ctl *c, const struct mesh_node_reply *nr,
		   Mesh__Client__Response *r)
{
	Mesh__Client__MemberEvent e = MESH__CLIENT__MEMBER_EVENT__INIT;
	Mesh__Client__Member m = MESH__CLIENT__MEMBER__INIT;
	struct ctl_lost *lost = &c->clients[nr->client].lost;
	char name[MESH_SWIM_NAME_MAX + 1], addr[32], ip[16];
	const struct mesh_node_member *x = nr->members;
	int why;
	uint64_t owed;

	if (nr->n_members < 1 || x == NULL)
		return;
	why = ctl_out_admit(c, nr->client, x->metadata.len + 256u, 1, false);
	if (why != 0) {
		mesh_counter_add(&ctl_row(c, 0)[why], 1);
		ctl_lost_add(lost, nr->subscription, 1 + nr->dropped);
		return;
	}
	owed = ctl_lost_take(lost, nr->subscription);
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_events_lost_reported], owed);
	snprintf(name, sizeof(name), "%.*s", (int)x->name.len, (const char *)x->name.data);
	snprintf(addr, sizeof(addr), "%s:%u", mesh_net_ip_format(x->addr.ip, ip, sizeof(ip)),
		 x->addr.port);
	m.name = name;
	m.address = addr;
	m.status = (char *)(uintptr_t)mesh_swim_status_name(x->status);
	m.incarnation = x->incarnation;
	m.generation = x->generation;
	m.metadata = bin(x->metadata);
	e.subscription = nr->subscription;
	e.kind = (Mesh__Client__MemberEvent__Kind)nr->member_event;
	e.member = &m;
	e.dropped = nr->dropped + owed;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_MEMBER_EVENT;
	r->member_event = &e;
	ctl_send_admitted(c, nr->client, r);
	mesh_counter_add(&ctl_row(c, 0)[MESH_CTR_ctl_events], 1);
}

/* HelloResp: what this node serves (every feature of client protocol version 2) */
static void
reply_hello(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	static char *features[] = { "batch", "owned", "metadata", "cluster", "watch",
				    "members_watch" };
	Mesh__Client__HelloResp hr = MESH__CLIENT__HELLO_RESP__INIT;
	char name[MESH_NODE_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%.*s", (int)nr->node_name.len,
		 (const char *)nr->node_name.data);
	hr.version = 2;
	hr.features = features;
	hr.n_features = MESH_ARRAY_SIZE(features);
	hr.node = name;
	hr.generation = nr->generation;
	hr.max_message = MESH_CLIENT_MAX_MSG;
	hr.max_batch = nr->max_batch;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_HELLO;
	r->hello = &hr;
	ctl_send_response(c, nr->client, r);
}

_Static_assert(MESH_NODE_REPLY_MAX == MESH_CLIENT_MAX_MSG, "the node sizes replies to the protocol");

/* BatchResp: one result per op, in order */
static void
reply_batch(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	Mesh__Client__BatchResp br = MESH__CLIENT__BATCH_RESP__INIT;
	uint32_t n = nr->n_results;
	Mesh__Client__BatchResult *res = calloc(n ? n : 1, sizeof(*res));
	Mesh__Client__BatchResult **list = calloc(n ? n : 1, sizeof(*list));

	if (res == NULL || list == NULL) {
		r->status = -ENOMEM;
		r->error = (char *)"out of memory";
		n = 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mesh_node_batch_result *x = &nr->results[i];

		mesh__client__batch_result__init(&res[i]);
		res[i].status = x->status;
		res[i].code = ctl_error_code(x->status);
		res[i].found = x->found;
		res[i].value = bin(x->value);
		res[i].timestamp = x->timestamp;
		res[i].replica = x->replica;
		list[i] = &res[i];
	}
	br.results = list;
	br.n_results = n;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_BATCH;
	r->batch = &br;
	ctl_send_response(c, nr->client, r);
	free(res);
	free(list);
}

static void
reply_cluster(struct mesh_ctl *c, const struct mesh_node_reply *nr, Mesh__Client__Response *r)
{
	Mesh__Client__ClusterResp cr = MESH__CLIENT__CLUSTER_RESP__INIT;
	const struct mesh_node_cluster *x = &nr->cluster;

	cr.alive = x->alive;
	cr.suspect = x->suspect;
	cr.dead = x->dead;
	cr.left = x->left;
	cr.known = x->known;
	cr.reachable = x->reachable;
	cr.reachable_fraction = x->known ? (double)x->reachable / x->known : 1.0;
	cr.quorum = x->quorum;
	cr.should_serve = x->should_serve;
	r->result_case = MESH__CLIENT__RESPONSE__RESULT_CLUSTER;
	r->cluster = &cr;
	ctl_send_response(c, nr->client, r);
}

void
ctl_codec_reply(struct mesh_ctl *c, const struct mesh_node_reply *nr)
{
	Mesh__Client__Response r = MESH__CLIENT__RESPONSE__INIT;
	Mesh__Client__GetResp gr = MESH__CLIENT__GET_RESP__INIT;
	Mesh__Client__KeysResp kr = MESH__CLIENT__KEYS_RESP__INIT;
	Mesh__Client__SubscribeResp sr = MESH__CLIENT__SUBSCRIBE_RESP__INIT;
	ProtobufCBinaryData *keys = NULL;

	if (nr->client >= CTL_MAX_CLIENTS || c->clients[nr->client].fd < 0 ||
	    c->clients[nr->client].gen != nr->client_gen)
		return; /* the client went away */
	r.id = nr->id;
	r.status = nr->status;
	r.error = (char *)(uintptr_t)(nr->status < 0 && nr->error ? nr->error : "");
	switch (nr->type) {
	case MESH_NODE_REPLY_GET:
		gr.found = nr->found;
		gr.value = bin(nr->value);
		gr.timestamp = nr->timestamp;
		gr.replica = nr->replica;
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_GET;
		r.get = &gr;
		break;
	case MESH_NODE_REPLY_KEYS:
		keys = calloc(nr->n_keys ? nr->n_keys : 1, sizeof(*keys));
		if (keys == NULL) {
			r.status = -ENOMEM;
			r.error = (char *)"out of memory";
			break;
		}
		for (uint32_t i = 0; i < nr->n_keys; i++)
			keys[i] = bin(nr->keys[i]);
		kr.keys = keys;
		kr.n_keys = nr->n_keys;
		kr.more = nr->more;
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_KEYS;
		r.keys = &kr;
		break;
	case MESH_NODE_REPLY_SUBSCRIBE:
		sr.subscription = nr->subscription;
		r.result_case = MESH__CLIENT__RESPONSE__RESULT_SUBSCRIBE;
		r.subscribe = &sr;
		break;
	case MESH_NODE_REPLY_MEMBERS:
		reply_members(c, nr, &r);
		return;
	case MESH_NODE_REPLY_EVENT:
		reply_event(c, nr, &r);
		return;
	case MESH_NODE_REPLY_WATCH:
		reply_watch(c, nr, &r);
		return;
	case MESH_NODE_REPLY_MEMBER_EVENT:
		reply_member_event(c, nr, &r);
		return;
	case MESH_NODE_REPLY_HELLO:
		reply_hello(c, nr, &r);
		return;
	case MESH_NODE_REPLY_BATCH:
		reply_batch(c, nr, &r);
		return;
	case MESH_NODE_REPLY_CLUSTER:
		reply_cluster(c, nr, &r);
		return;
	default:
		break;
	}
	ctl_send_response(c, nr->client, &r);
	free(keys);
}
