/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces: configured once per prefix, resolved by longest prefix. Configuration is
 * strict: a duplicate prefix is -EEXIST; a prefix that is a prefix of another configured
 * one (either way round) is an overlap, -EBUSY, unless the longer of the two is declared
 * nested (a deliberate sub-namespace). ns_order keeps ids sorted by prefix length, longest
 * first, so resolution is a short scan that stops at the first match.
 */
#include "crdt_internal.h"

static const char *
kind_name(enum mesh_crdt_ns_kind k)
{
	switch (k) {
	case MESH_CRDT_NS_LWW:
		return "lww";
	case MESH_CRDT_NS_EPOCH_MAX:
		return "epoch_max";
	case MESH_CRDT_NS_BROADCAST:
		return "broadcast";
	case MESH_CRDT_NS_TARGETED:
		return "targeted";
	}
	return "?";
}

int
mesh_crdt_ns_kind_parse(const char *s, enum mesh_crdt_ns_kind *out)
{
	for (int k = MESH_CRDT_NS_LWW; k <= MESH_CRDT_NS_TARGETED; k++)
		if (strcmp(s, kind_name((enum mesh_crdt_ns_kind)k)) == 0) {
			*out = (enum mesh_crdt_ns_kind)k;
			return 0;
		}
	return -EINVAL;
}

int
mesh_crdt_ns_add(struct mesh_crdt_store *s, const struct mesh_crdt_ns_config *cfg)
{
	struct crdt_ns *ns;
	size_t plen;
	uint32_t id, pos;

	if (cfg == NULL || cfg->prefix == NULL)
		return crdt_fail(s, -EINVAL, "namespace config without prefix");
	plen = strlen(cfg->prefix);
	if (plen == 0)
		return crdt_fail(s, -EINVAL, "empty namespace prefix");
	if (plen > MESH_CRDT_PREFIX_MAX)
		return crdt_fail(s, -ENAMETOOLONG, "prefix of %zu bytes (max %u)", plen,
				 MESH_CRDT_PREFIX_MAX);
	if ((unsigned)cfg->kind > MESH_CRDT_NS_TARGETED)
		return crdt_fail(s, -EINVAL, "prefix '%s': unknown kind %d", cfg->prefix,
				 (int)cfg->kind);
	if (cfg->max_value > MESH_CRDT_DEFAULT_MAX_VALUE * 1024u)
		return crdt_fail(s, -EINVAL, "prefix '%s': max_value %u too large", cfg->prefix,
				 cfg->max_value);
	for (uint32_t i = 0; i < s->n_ns; i++) {
		const struct crdt_ns *o = &s->ns[i];
		size_t m = MESH_MIN(plen, (size_t)o->prefix_len);

		if (memcmp(o->prefix, cfg->prefix, m) != 0)
			continue;
		if (o->prefix_len == plen)
			return crdt_fail(s, -EEXIST, "prefix '%s' is already configured (%s)",
					 cfg->prefix, kind_name(o->kind));
		if ((plen > o->prefix_len && !cfg->nested) ||
		    (plen < o->prefix_len && !o->nested))
			return crdt_fail(s, -EBUSY, "prefix '%s' overlaps configured prefix '%s'",
					 cfg->prefix, o->prefix);
	}
	if (s->n_ns == MESH_CRDT_NS_MAX)
		return crdt_fail(s, -ENOSPC, "too many namespaces (max %u)", MESH_CRDT_NS_MAX);

	id = s->n_ns;
	ns = &s->ns[id];
	memset(ns, 0, sizeof(*ns));
	memcpy(ns->prefix, cfg->prefix, plen + 1);
	ns->prefix_len = (uint32_t)plen;
	memcpy(&ns->pfx_word, ns->prefix, 8); /* prefix[] is zero-padded to 65 bytes */
	ns->pfx_mask = plen >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * plen)) - 1;
	ns->pfx_word &= ns->pfx_mask;
	ns->kind = cfg->kind;
	ns->nested = cfg->nested;
	ns->max_value = cfg->max_value ? cfg->max_value : MESH_CRDT_DEFAULT_MAX_VALUE;
	ns->max_keys = cfg->max_keys ? cfg->max_keys : MESH_CRDT_DEFAULT_MAX_KEYS;
	ns->max_bytes = cfg->max_bytes ? cfg->max_bytes : MESH_CRDT_DEFAULT_MAX_BYTES;
	if (cfg->kind == MESH_CRDT_NS_EPOCH_MAX)
		ns->max_value = MESH_CRDT_EPOCH_LEN;

	/* shorter prefixes of this one now have a nested sub-namespace */
	for (uint32_t i = 0; i < s->n_ns; i++)
		if (s->ns[i].prefix_len < plen && memcmp(s->ns[i].prefix, cfg->prefix,
							 s->ns[i].prefix_len) == 0)
			s->ns[i].has_nested = true;
	s->last_ns = NULL;

	/* insertion into ns_order, longest prefix first */
	pos = s->n_ns;
	while (pos > 0 && s->ns[s->ns_order[pos - 1]].prefix_len < plen) {
		s->ns_order[pos] = s->ns_order[pos - 1];
		pos--;
	}
	s->ns_order[pos] = (uint8_t)id;
	/* publish the new namespace after it is fully written (stats readers) */
	__atomic_store_n(&s->n_ns, id + 1, __ATOMIC_RELEASE);
	return (int)id;
}

int
mesh_crdt_ns_add_defaults(struct mesh_crdt_store *s)
{
	static const struct mesh_crdt_ns_config defs[] = {
		{ .prefix = "worker:", .kind = MESH_CRDT_NS_LWW },
		{ .prefix = "config:", .kind = MESH_CRDT_NS_LWW },
		{ .prefix = "rl:", .kind = MESH_CRDT_NS_EPOCH_MAX },
		{ .prefix = "td:", .kind = MESH_CRDT_NS_BROADCAST, .max_bytes = 4u << 20 },
		{ .prefix = "tree:req:", .kind = MESH_CRDT_NS_TARGETED, .max_bytes = 256u << 10 },
		{ .prefix = "tree:page:", .kind = MESH_CRDT_NS_TARGETED, .max_bytes = 32u << 20 },
	};

	for (size_t i = 0; i < MESH_ARRAY_SIZE(defs); i++) {
		int rc = mesh_crdt_ns_add(s, &defs[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int
mesh_crdt_ns_find(const struct mesh_crdt_store *s, const void *key, size_t key_len)
{
	const struct crdt_ns *ns = crdt_ns_resolve((struct mesh_crdt_store *)s, key, key_len);

	return ns ? (int)(ns - s->ns) : -ENXIO;
}

int
mesh_crdt_ns_info(const struct mesh_crdt_store *s, int id, enum mesh_crdt_ns_kind *kind,
		  const char **prefix)
{
	if (id < 0 || (uint32_t)id >= s->n_ns)
		return -EINVAL;
	if (kind)
		*kind = s->ns[id].kind;
	if (prefix)
		*prefix = s->ns[id].prefix;
	return 0;
}

int
mesh_crdt_ns_stats(const struct mesh_crdt_store *s, int id, struct mesh_crdt_ns_stats *out)
{
	const struct mesh_crdt_ns_stats *st;

	if (id < 0 || (uint32_t)id >= __atomic_load_n(&s->n_ns, __ATOMIC_ACQUIRE))
		return -EINVAL;
	st = &s->ns[id].st;
	out->keys = mesh_counter_read(&st->keys);
	out->tombstones = mesh_counter_read(&st->tombstones);
	out->bytes = mesh_counter_read(&st->bytes);
	out->buffered = mesh_counter_read(&st->buffered);
	out->dropped = mesh_counter_read(&st->dropped);
	out->dropped_bytes = mesh_counter_read(&st->dropped_bytes);
	out->rejected = mesh_counter_read(&st->rejected);
	return 0;
}

int
mesh_crdt_ns_describe(const struct mesh_crdt_store *s, int id, char *buf, size_t cap)
{
	const struct crdt_ns *ns;
	int n;

	if (id < 0 || (uint32_t)id >= s->n_ns || buf == NULL || cap == 0)
		return -EINVAL;
	ns = &s->ns[id];
	n = snprintf(buf, cap, "%s %s max_value=%" PRIu32 " max_keys=%" PRIu64 " max_bytes=%" PRIu64
		     "%s", ns->prefix, kind_name(ns->kind), ns->max_value, ns->max_keys,
		     ns->max_bytes, ns->nested ? " nested" : "");
	return n < 0 ? -EINVAL : (int)MESH_MIN((size_t)n, cap - 1);
}

struct crdt_ns *
crdt_ns_lookup(struct mesh_crdt_store *s, const void *key, size_t key_len, bool stream,
	       int *rc)
{
	struct crdt_ns *ns;

	if (key == NULL) {
		*rc = crdt_fail(s, -EINVAL, "NULL key");
		return NULL;
	}
	*rc = crdt_key_check(s, key_len);
	if (*rc)
		return NULL;
	ns = crdt_ns_resolve(s, key, key_len);
	if (ns == NULL) {
		*rc = crdt_fail(s, -ENXIO, "key '%.*s' matches no namespace",
				(int)MESH_MIN(key_len, 64u), (const char *)key);
		return NULL;
	}
	if (crdt_ns_is_stream(ns) != stream) {
		*rc = crdt_fail(s, -EPROTOTYPE,
				stream ? "'%s' is a CRDT namespace (use put)"
				       : "'%s' is a stream namespace (use publish)",
				ns->prefix);
		return NULL;
	}
	return ns;
}
