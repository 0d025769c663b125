/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient. Each call encodes one Request, sends it as one SOCK_SEQPACKET message and
 * reads Responses until the one with its id arrives; events read meanwhile are queued
 * (bounded; the oldest is dropped and counted into the next event's `dropped`; watches
 * and membership events: mesh_client_watch.c). Replies are decoded with protobuf-c and
 * copied into caller-owned results before being freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh_client_internal.h"

#define MESH_MIN_SZ(a, b) ((a) < (b) ? (a) : (b))


struct mesh_client *
mesh_client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mesh_client *c;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->buf = malloc(MESH_CLIENT_MAX_MSG);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	c->timeout_ms = 5000;
	c->next_id = 1;
	strcpy(sa.sun_path, path);
	if (c->buf == NULL || c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) {
		int err = errno;
		mesh_client_close(c);
		errno = err;
		return NULL;
	}
	return c;
}

void
mesh_client_close(struct mesh_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	while (c->ev_count > 0) {
		mc_qent_free(&c->events[c->ev_head]);
		c->ev_head = (c->ev_head + 1) % MC_EVENT_QUEUE;
		c->ev_count--;
	}
	mc_part_reset(c);
	mc_watch_fini(c);
	while (c->out_head != NULL) {
		struct mc_out *o = c->out_head;
		c->out_head = o->next;
		free(o);
	}
	while (c->rx_head != NULL) {
		struct mc_rx *x = c->rx_head;
		c->rx_head = x->next;
		mesh__client__response__free_unpacked(x->r, NULL);
		free(x);
	}
	if (c->sync_resp != NULL)
		mesh__client__response__free_unpacked(c->sync_resp, NULL);
	free(c->pend);
	free(c->buf);
	free(c);
}

int
mesh_client_fd(const struct mesh_client *c)
{
	return c->fd;
}

void
mesh_client_timeout_set(struct mesh_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

const char *
mesh_client_error(const struct mesh_client *c)
{
	return c->error;
}

int
mesh_client_put(struct mesh_client *c, const void *key, size_t key_len, const void *value,
		size_t value_len)
{
	return mesh_client_put_flags(c, key, key_len, value, value_len, 0);
}

int
mesh_client_put_owned(struct mesh_client *c, const void *key, size_t key_len,
		      const void *value, size_t value_len)
{
	return mesh_client_put_flags(c, key, key_len, value, value_len, MESH_CLIENT_PUT_OWNED);
}

int
mesh_client_put_flags(struct mesh_client *c, const void *key, size_t key_len,
		      const void *value, size_t value_len, unsigned flags)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__PutReq put = MESH__CLIENT__PUT_REQ__INIT;

	put.key = mc_bin(key, key_len);
	put.value = mc_bin(value, value_len);
	put.owned = (flags & MESH_CLIENT_PUT_OWNED) != 0;
	req.op_case = MESH__CLIENT__REQUEST__OP_PUT;
	req.put = &put;
	return mc_call_simple(c, &req);
}

int
mesh_client_get(struct mesh_client *c, const void *key, size_t key_len,
		struct mesh_client_value *out)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__GetReq get = MESH__CLIENT__GET_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	memset(out, 0, sizeof(*out));
	get.key = mc_bin(key, key_len);
	req.op_case = MESH__CLIENT__REQUEST__OP_GET;
	req.get = &get;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_GET && r->get->found) {
		out->found = true;
		out->len = r->get->value.len;
		out->data = malloc(out->len + 1); /* NUL-terminated for convenience */
		if (out->data == NULL) {
			ret = -ENOMEM;
		} else {
			memcpy(out->data, r->get->value.data, out->len);
			out->data[out->len] = '\0';
		}
		out->timestamp = r->get->timestamp;
		out->replica = r->get->replica;
	}
	mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

void
mesh_client_value_free(struct mesh_client_value *v)
{
	free(v->data);
	v->data = NULL;
}

int
mesh_client_delete(struct mesh_client *c, const void *key, size_t key_len)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__DeleteReq del = MESH__CLIENT__DELETE_REQ__INIT;

	del.key = mc_bin(key, key_len);
	req.op_case = MESH__CLIENT__REQUEST__OP_DEL;
	req.del = &del;
	return mc_call_simple(c, &req);
}

int
mesh_client_keys(struct mesh_client *c, const char *prefix, const char *after, uint32_t limit,
		 char ***keys, size_t *n, bool *more)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__KeysReq kr = MESH__CLIENT__KEYS_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	*keys = NULL;
	*n = 0;
	*more = false;
	kr.prefix = mc_bin(prefix, prefix ? strlen(prefix) : 0);
	kr.after = mc_bin(after, after ? strlen(after) : 0);
	kr.limit = limit;
	req.op_case = MESH__CLIENT__REQUEST__OP_KEYS;
	req.keys = &kr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_KEYS && r->keys->n_keys > 0) {
		*keys = calloc(r->keys->n_keys, sizeof(char *));
		for (size_t i = 0; *keys != NULL && i < r->keys->n_keys; i++) {
			(*keys)[i] = malloc(r->keys->keys[i].len + 1);
			if ((*keys)[i] == NULL)
				break;
			memcpy((*keys)[i], r->keys->keys[i].data, r->keys->keys[i].len);
			(*keys)[i][r->keys->keys[i].len] = '\0';
			(*n)++;
		}
		if (*n != r->keys->n_keys)
			ret = -ENOMEM;
		*more = r->keys->more;
	}
	mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

void
mesh_client_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
}

int
mesh_client_subscribe(struct mesh_client *c, const char *prefix, uint64_t *subscription)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__SubscribeReq sr = MESH__CLIENT__SUBSCRIBE_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	sr.prefix = mc_bin(prefix, prefix ? strlen(prefix) : 0);
	req.op_case = MESH__CLIENT__REQUEST__OP_SUBSCRIBE;
	req.subscribe = &sr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	*subscription = r->result_case == MESH__CLIENT__RESPONSE__RESULT_SUBSCRIBE
				? r->subscribe->subscription : 0;
	mesh__client__response__free_unpacked(r, NULL);
	return *subscription != 0 ? 0 : -EPROTO;
}

int
mesh_client_unsubscribe(struct mesh_client *c, uint64_t subscription)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__UnsubscribeReq ur = MESH__CLIENT__UNSUBSCRIBE_REQ__INIT;

	ur.subscription = subscription;
	req.op_case = MESH__CLIENT__REQUEST__OP_UNSUBSCRIBE;
	req.unsubscribe = &ur;
	return mc_call_simple(c, &req);
}

static int
copy_event(struct mesh_client *c, Mesh__Client__Event *e, struct mesh_client_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->subscription = e->subscription;
	ev->tombstone = e->tombstone;
	ev->dropped = e->dropped + c->ev_lost;
	ev->origin_ns = e->origin_ns;
	c->ev_lost = 0;
	ev->key = malloc(e->key.len + 1);
	ev->value = malloc(e->value.len + 1);
	if (ev->key == NULL || ev->value == NULL) {
		mesh_client_event_free(ev);
		return -ENOMEM;
	}
	memcpy(ev->key, e->key.data, e->key.len);
	ev->key[e->key.len] = '\0';
	ev->key_len = e->key.len;
	memcpy(ev->value, e->value.data, e->value.len);
	ev->value[e->value.len] = '\0';
	ev->value_len = e->value.len;
	return 0;
}

void
mc_part_reset(struct mesh_client *c)
{
	mesh_client_event_free(&c->part);
	c->part_total = c->part_got = 0;
}

/* One part of a large event value: -EINPROGRESS until the value is complete. A gap (a part
 * lost to a full socket buffer) drops the value and is reported as one dropped event. */
static int
add_part(struct mesh_client *c, Mesh__Client__Event *e, struct mesh_client_event *ev)
{
	if (e->offset == 0) {
		if (c->part_total != 0) { /* the value in progress never completed */
			c->ev_lost++;
			mc_watch_lost(c, c->part.subscription);
		}
		mc_part_reset(c);
		if (e->total_len > MESH_CLIENT_MAX_VALUE) {
			c->ev_lost++;
			mc_watch_lost(c, e->subscription);
			return -EINPROGRESS;
		}
		if (copy_event(c, e, &c->part) < 0)
			return -ENOMEM;
		free(c->part.value);
		c->part.value = malloc(e->total_len + 1);
		if (c->part.value == NULL) {
			mc_part_reset(c);
			return -ENOMEM;
		}
		c->part_total = e->total_len;
	} else if (c->part_total != e->total_len || c->part_got != e->offset ||
		   c->part.key_len != e->key.len ||
		   memcmp(c->part.key, e->key.data, e->key.len) != 0) {
		if (c->part_total != 0) {
			c->ev_lost++;
			mc_watch_lost(c, c->part.subscription);
		}
		mc_watch_lost(c, e->subscription); /* this part's value is lost too */
		mc_part_reset(c);
		return -EINPROGRESS;
	}
	if (c->part_got + e->value.len > c->part_total) {
		c->ev_lost++;
		mc_watch_lost(c, c->part.subscription);
		mc_part_reset(c);
		return -EINPROGRESS;
	}
	memcpy(c->part.value + c->part_got, e->value.data, e->value.len);
	c->part_got += e->value.len;
	if (c->part_got < c->part_total)
		return -EINPROGRESS;
	c->part.value[c->part_total] = '\0';
	c->part.value_len = c->part_total;
	c->part.dropped += c->ev_lost;
	c->ev_lost = 0;
	*ev = c->part;
	memset(&c->part, 0, sizeof(c->part));
	c->part_total = c->part_got = 0;
	return 0;
}

int
mc_event_take(struct mesh_client *c, struct mesh_client_event *ev)
{
	while (c->ev_count > 0) {
		struct mc_qent q = c->events[c->ev_head];
		Mesh__Client__Event *e;
		int ret;

		c->ev_head = (c->ev_head + 1) % MC_EVENT_QUEUE;
		c->ev_count--;
		if (q.kind != MESH_CLIENT_EVENT_CHANGE) { /* a marker or a membership event */
			ret = mc_watch_event_take(c, &q, ev);
			c->ev_lost += q.lost_after; /* told with the next event */
			return ret;
		}
		e = q.r->event;
		ret = e->total_len > 0 ? add_part(c, e, ev) : copy_event(c, e, ev);
		if (ret == 0)
			mc_watch_event_seen(c, e, ev);
		mc_qent_free(&q);
		c->ev_lost += q.lost_after;
		if (ret != -EINPROGRESS) /* else more parts to come */
			return ret;
	}
	return -EAGAIN;
}

int
mesh_client_event_next(struct mesh_client *c, int timeout_ms, struct mesh_client_event *ev)
{
	int64_t deadline = mc_now_ms() + timeout_ms;

	for (;;) {
		int ret = mc_event_take(c, ev), left;

		if (ret != -EAGAIN)
			return ret;
		left = timeout_ms < 0 ? -1
				      : (int)(deadline > mc_now_ms() ? deadline - mc_now_ms() : 0);
		if (left == 0 && timeout_ms >= 0 && c->ev_count == 0) {
			ret = mc_pump(c, 0);
			if (ret < 0)
				return ret;
			if (c->ev_count == 0)
				return -ETIMEDOUT;
			continue;
		}
		ret = mc_pump(c, left);
		if (ret < 0)
			return ret;
	}
}

void
mesh_client_event_free(struct mesh_client_event *ev)
{
	free(ev->key);
	free(ev->value);
	free(ev->member);
	ev->key = ev->value = NULL;
	ev->member = NULL;
}

int
mesh_client_publish(struct mesh_client *c, const void *key, size_t key_len, const void *value,
		    size_t value_len, const char *target)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__PublishReq pr = MESH__CLIENT__PUBLISH_REQ__INIT;
	size_t off = 0;
	int ret;

	pr.key = mc_bin(key, key_len);
	if (target != NULL)
		pr.target = (char *)(uintptr_t)target;
	req.op_case = MESH__CLIENT__REQUEST__OP_PUBLISH;
	req.publish = &pr;
	if (value_len <= MESH_CLIENT_PART) {
		pr.value = mc_bin(value, value_len);
		return mc_call_simple(c, &req);
	}
	/* a large value: in-order parts; the node publishes it with the last one */
	pr.total_len = value_len;
	do {
		size_t n = MESH_MIN_SZ(MESH_CLIENT_PART, value_len - off);

		pr.offset = off;
		pr.value = mc_bin((const uint8_t *)value + off, n);
		ret = mc_call_simple(c, &req);
		off += n;
	} while (ret == 0 && off < value_len);
	return ret;
}

int
mesh_client_members(struct mesh_client *c, struct mesh_client_member **out, size_t *n)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__MembersReq mr = MESH__CLIENT__MEMBERS_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	*out = NULL;
	*n = 0;
	req.op_case = MESH__CLIENT__REQUEST__OP_MEMBERS;
	req.members = &mr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_MEMBERS &&
	    r->members->n_members > 0) {
		*out = calloc(r->members->n_members, sizeof(**out));
		if (*out == NULL) {
			ret = -ENOMEM;
		} else {
			for (size_t i = 0; i < r->members->n_members; i++) {
				const Mesh__Client__Member *m = r->members->members[i];
				struct mesh_client_member *o = &(*out)[i];
				snprintf(o->name, sizeof(o->name), "%s", m->name);
				snprintf(o->address, sizeof(o->address), "%s", m->address);
				snprintf(o->status, sizeof(o->status), "%s", m->status);
				o->incarnation = m->incarnation;
				o->generation = m->generation;
				o->metadata_len = MESH_MIN_SZ(m->metadata.len, sizeof(o->metadata));
				if (o->metadata_len > 0)
					memcpy(o->metadata, m->metadata.data, o->metadata_len);
			}
			*n = r->members->n_members;
		}
	}
	mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

int
mesh_client_stats(struct mesh_client *c, const char *group, struct mesh_client_stat **out,
		  size_t *n)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__StatsReq sr = MESH__CLIENT__STATS_REQ__INIT;
	Mesh__Client__Response *r;
	int ret;

	*out = NULL;
	*n = 0;
	if (group != NULL)
		sr.group = (char *)(uintptr_t)group;
	req.op_case = MESH__CLIENT__REQUEST__OP_STATS;
	req.stats = &sr;
	ret = mc_call(c, &req, &r);
	if (ret < 0)
		return ret;
	if (r->result_case == MESH__CLIENT__RESPONSE__RESULT_STATS && r->stats->n_stats > 0) {
		*out = calloc(r->stats->n_stats, sizeof(**out));
		if (*out == NULL) {
			ret = -ENOMEM;
		} else {
			for (size_t i = 0; i < r->stats->n_stats; i++) {
				snprintf((*out)[i].group, sizeof((*out)[i].group), "%s",
					 r->stats->stats[i]->group);
				snprintf((*out)[i].name, sizeof((*out)[i].name), "%s",
					 r->stats->stats[i]->name);
				(*out)[i].value = r->stats->stats[i]->value;
			}
			*n = r->stats->n_stats;
		}
	}
	mesh__client__response__free_unpacked(r, NULL);
	return ret;
}

const char *
mesh_client_metric_name(char *buf, size_t len, const char *group, const char *name)
{
	size_t gl = strlen(group);

	if (strncmp(name, group, gl) == 0 && name[gl] == '_')
		name += gl + 1;
	snprintf(buf, len, "meshd_%s_%s", group, name);
	return buf;
}
