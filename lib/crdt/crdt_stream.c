/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream namespaces: lossy, at-most-once messages, never stored. Each namespace has a
 * byte-capped FIFO send buffer (key + value bytes); publishing past the cap drops the
 * oldest messages first and counts them. broadcast messages go to every live peer,
 * targeted ones name a peer; publishing with the wrong routing kind is -EPROTOTYPE. The
 * gossip round drains each buffer once (destructive). On receipt a message only goes to
 * subscribers (mesh_crdt_stream_deliver).
 */
#include "crdt_internal.h"

static void
msg_free(struct crdt_msg *m)
{
	free(m);
}

static int
publish(struct mesh_crdt_store *s, enum mesh_crdt_ns_kind want, uint64_t peer, const void *key,
	size_t key_len, const void *value, size_t value_len)
{
	struct crdt_ns *ns;
	struct crdt_msg *m;
	size_t sz = key_len + value_len;
	int rc;

	ns = crdt_ns_lookup(s, key, key_len, true, &rc);
	if (ns == NULL)
		return rc;
	if (ns->kind != want)
		return crdt_fail(s, -EPROTOTYPE, "'%s' is %s: use %s", ns->prefix,
				 ns->kind == MESH_CRDT_NS_BROADCAST ? "broadcast" : "targeted",
				 ns->kind == MESH_CRDT_NS_BROADCAST ? "mesh_crdt_stream_publish"
								    : "mesh_crdt_stream_publish_to");
	if (value_len > 0 && value == NULL)
		return crdt_fail(s, -EINVAL, "NULL value of %zu bytes", value_len);
	if (value_len > UINT32_MAX || sz > ns->max_bytes) {
		crdt_stat_add(&ns->st.rejected, 1);
		return crdt_fail(s, -EMSGSIZE, "message of %zu bytes exceeds the '%s' buffer (%"
				 PRIu64 " bytes)", sz, ns->prefix, ns->max_bytes);
	}
	m = malloc(sizeof(*m) + sz);
	if (m == NULL)
		return crdt_fail(s, -ENOMEM, "stream message of %zu bytes", sz);
	m->next = NULL;
	m->peer = peer;
	m->key_len = (uint32_t)key_len;
	m->value_len = (uint32_t)value_len;
	memcpy(m->data, key, key_len);
	if (value_len)
		memcpy(m->data + key_len, value, value_len);

	/* drop oldest until the new message fits */
	while (ns->st.bytes + sz > ns->max_bytes && ns->q_head != NULL) {
		struct crdt_msg *old = ns->q_head;
		size_t osz = (size_t)old->key_len + old->value_len;

		ns->q_head = old->next;
		if (ns->q_head == NULL)
			ns->q_tail = NULL;
		crdt_stat_add(&ns->st.bytes, -(int64_t)osz);
		crdt_stat_add(&ns->st.buffered, -1);
		crdt_stat_add(&ns->st.dropped, 1);
		crdt_stat_add(&ns->st.dropped_bytes, (int64_t)osz);
		crdt_ctr(s, MESH_CTR_crdt_stream_drop, 1);
		msg_free(old);
	}
	if (ns->q_tail)
		ns->q_tail->next = m;
	else
		ns->q_head = m;
	ns->q_tail = m;
	crdt_stat_add(&ns->st.bytes, (int64_t)sz);
	crdt_stat_add(&ns->st.buffered, 1);
	crdt_ctr(s, MESH_CTR_crdt_stream_publish, 1);
	return 0;
}

int
mesh_crdt_stream_publish(struct mesh_crdt_store *s, const void *key, size_t key_len,
			 const void *value, size_t value_len)
{
	return publish(s, MESH_CRDT_NS_BROADCAST, 0, key, key_len, value, value_len);
}

int
mesh_crdt_stream_publish_to(struct mesh_crdt_store *s, uint64_t peer, const void *key,
			    size_t key_len, const void *value, size_t value_len)
{
	return publish(s, MESH_CRDT_NS_TARGETED, peer, key, key_len, value, value_len);
}

static int
drain_one(struct mesh_crdt_store *s, struct crdt_ns *ns, mesh_crdt_drain_f fn, void *ctx)
{
	struct crdt_msg *m = ns->q_head;
	int n = 0;

	/* detach first: the callback may publish for the next round */
	ns->q_head = ns->q_tail = NULL;
	crdt_stat_add(&ns->st.bytes, -(int64_t)ns->st.bytes);
	crdt_stat_add(&ns->st.buffered, -(int64_t)ns->st.buffered);
	while (m != NULL) {
		struct crdt_msg *next = m->next;

		if (fn)
			fn(ctx, (int)(ns - s->ns), m->peer, m->data, m->key_len,
			   m->data + m->key_len, m->value_len);
		msg_free(m);
		m = next;
		n++;
	}
	return n;
}

int
mesh_crdt_stream_drain(struct mesh_crdt_store *s, int ns, mesh_crdt_drain_f fn, void *ctx)
{
	int n = 0;

	if (ns >= 0) {
		if ((uint32_t)ns >= s->n_ns)
			return crdt_fail(s, -EINVAL, "no namespace %d", ns);
		if (!crdt_ns_is_stream(&s->ns[ns]))
			return crdt_fail(s, -EPROTOTYPE, "'%s' is not a stream namespace",
					 s->ns[ns].prefix);
		return drain_one(s, &s->ns[ns], fn, ctx);
	}
	for (uint32_t i = 0; i < s->n_ns; i++)
		if (crdt_ns_is_stream(&s->ns[i]))
			n += drain_one(s, &s->ns[i], fn, ctx);
	return n;
}

int
mesh_crdt_stream_deliver(struct mesh_crdt_store *s, uint64_t peer, const void *key,
			 size_t key_len, const void *value, size_t value_len)
{
	return mesh_crdt_stream_deliver_origin(s, peer, key, key_len, value, value_len, 0);
}

int
mesh_crdt_stream_deliver_origin(struct mesh_crdt_store *s, uint64_t peer, const void *key,
				size_t key_len, const void *value, size_t value_len,
				uint64_t origin_ns)
{
	int rc;

	if (crdt_ns_lookup(s, key, key_len, true, &rc) == NULL)
		return rc;
	if ((value_len > 0 && value == NULL) || value_len > UINT32_MAX)
		return crdt_fail(s, -EINVAL, "bad value");
	crdt_ctr(s, MESH_CTR_crdt_stream_deliver, 1);
	if (s->n_subs)
		crdt_sub_notify(s, key, (uint32_t)key_len, value, (uint32_t)value_len,
				CRDT_EV_STREAM, peer, origin_ns);
	return 0;
}

void
crdt_stream_free_all(struct mesh_crdt_store *s)
{
	for (uint32_t i = 0; i < s->n_ns; i++) {
		struct crdt_ns *ns = &s->ns[i];

		while (ns->q_head != NULL) {
			struct crdt_msg *m = ns->q_head;

			ns->q_head = m->next;
			msg_free(m);
		}
		ns->q_tail = NULL;
	}
}
