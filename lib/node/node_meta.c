/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Node metadata and the reserved key space. Every node registers one LWW namespace under
 * MESH_NODE_RESERVED_PREFIX ("\xffmeshd/") at creation, so that node state replicates,
 * merges and repairs like any key. A node's metadata is the owner-bound key
 * "\xffmeshd/meta/<name>": it reaches every member through replication, dies with the
 * node's life (owner expiry tombstones it everywhere) and is re-asserted by its live
 * owner if a cut-off node expired it (crdt_owner.c). Members replies and METADATA events
 * (node_member_events.c) read it back by name. Clients never write, read or list the
 * reserved space: node_key_reserved() refuses them with -EPERM.
 */
#include <errno.h>
#include <string.h>

#include "node_internal.h"

#define META_PREFIX MESH_NODE_RESERVED_PREFIX "meta/"
#define META_PREFIX_LEN (MESH_NODE_RESERVED_PREFIX_LEN + 5)

static uint32_t
meta_key(uint8_t *key, const char *name, size_t name_len)
{
	memcpy(key, META_PREFIX, META_PREFIX_LEN);
	memcpy(key + META_PREFIX_LEN, name, name_len);
	return (uint32_t)(META_PREFIX_LEN + name_len);
}

bool
node_key_reserved(const uint8_t *key, uint32_t len)
{
	return len >= 1 && key[0] == (uint8_t)MESH_NODE_RESERVED_PREFIX[0] &&
	       memcmp(key, MESH_NODE_RESERVED_PREFIX,
		      MESH_MIN(len, (uint32_t)MESH_NODE_RESERVED_PREFIX_LEN)) == 0;
}

int
node_meta_set(struct mesh_node *n, const uint8_t *meta, uint32_t len, uint64_t now_ns)
{
	uint8_t key[META_PREFIX_LEN + MESH_NODE_NAME_MAX];
	uint32_t klen = meta_key(key, n->cfg.name, strlen(n->cfg.name));
	int ret;

	if (len > MESH_NODE_META_MAX)
		return -EMSGSIZE;
	if (len == 0) {
		ret = mesh_crdt_delete_origin(n->kv, key, klen, now_ns, node_wall(n));
		return ret == -ENOENT ? 0 : ret;
	}
	return mesh_crdt_put_owned(n->kv, key, klen, meta, len, now_ns, node_wall(n), true);
}

struct mesh_node_bytes
node_meta_of(struct mesh_node *n, const char *name, size_t name_len)
{
	uint8_t key[META_PREFIX_LEN + MESH_SWIM_NAME_MAX];
	struct mesh_node_bytes b = { 0 };
	const void *v;
	uint32_t len;

	if (name_len > MESH_SWIM_NAME_MAX)
		return b;
	if (mesh_crdt_get(n->kv, key, meta_key(key, name, name_len), &v, &len, NULL) == 0)
		b = (struct mesh_node_bytes){ .data = v, .len = len };
	return b;
}

int
node_meta_init(struct mesh_node *n, uint64_t now_ns)
{
	const struct mesh_crdt_ns_config ns = {
		.prefix = MESH_NODE_RESERVED_PREFIX,
		.kind = MESH_CRDT_NS_LWW,
		.max_value = MESH_NODE_META_MAX,
		.nested = true, /* may sit inside a catch-all namespace of the daemon's */
	};
	int ret = mesh_crdt_ns_add(n->kv, &ns);

	if (ret < 0)
		return ret;
	if (n->cfg.metadata_len > 0)
		return node_meta_set(n, n->cfg.metadata, n->cfg.metadata_len, now_ns);
	return 0;
}
