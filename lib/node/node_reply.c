/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_node_reply_copy: a reply whose pointers lead into the node's tables, copied into one
 * allocation so that another thread (the daemon's control thread) can encode it later.
 * Layout: the struct, then the key, member and batch result arrays, then every byte string.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_node.h"

static size_t
bytes_size(const struct mesh_node_reply *r)
{
	size_t sz = r->value.len + r->key.len + r->node_name.len;

	for (uint32_t i = 0; i < r->n_keys; i++)
		sz += r->keys[i].len;
	for (uint32_t i = 0; i < r->n_members; i++)
		sz += r->members[i].name.len + r->members[i].metadata.len;
	for (uint32_t i = 0; i < r->n_results; i++)
		sz += r->results[i].value.len;
	return sz;
}

static struct mesh_node_bytes
put(uint8_t **at, struct mesh_node_bytes b)
{
	struct mesh_node_bytes out = { .data = *at, .len = b.len };

	if (b.len > 0)
		memcpy(*at, b.data, b.len);
	*at += b.len;
	return out;
}

struct mesh_node_reply *
mesh_node_reply_copy(const struct mesh_node_reply *r)
{
	size_t keys_sz = (size_t)r->n_keys * sizeof(struct mesh_node_bytes);
	size_t mem_sz = (size_t)r->n_members * sizeof(struct mesh_node_member);
	size_t res_sz = (size_t)r->n_results * sizeof(struct mesh_node_batch_result);
	struct mesh_node_reply *c =
		malloc(sizeof(*c) + keys_sz + mem_sz + res_sz + bytes_size(r));
	struct mesh_node_bytes *keys;
	struct mesh_node_member *members;
	struct mesh_node_batch_result *results;
	uint8_t *at;

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*c = *r;
	keys = (struct mesh_node_bytes *)(c + 1);
	members = (struct mesh_node_member *)((uint8_t *)keys + keys_sz);
	results = (struct mesh_node_batch_result *)((uint8_t *)members + mem_sz);
	at = (uint8_t *)results + res_sz;
	c->value = put(&at, r->value);
	c->key = put(&at, r->key);
	c->node_name = put(&at, r->node_name);
	for (uint32_t i = 0; i < r->n_results; i++) {
		results[i] = r->results[i];
		results[i].value = put(&at, r->results[i].value);
	}
	c->results = r->n_results > 0 ? results : NULL;
	for (uint32_t i = 0; i < r->n_keys; i++)
		keys[i] = put(&at, r->keys[i]);
	for (uint32_t i = 0; i < r->n_members; i++) {
		members[i] = r->members[i];
		members[i].name = put(&at, r->members[i].name);
		members[i].metadata = put(&at, r->members[i].metadata);
	}
	c->keys = r->n_keys > 0 ? keys : NULL;
	c->members = r->n_members > 0 ? members : NULL;
	return c;
}
