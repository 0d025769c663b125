/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store lifecycle, error reporting and counters. The store is one flat object owned by the
 * merge lcore: key table, change log, tombstone queue, namespaces, peers, subscriptions and
 * the incremental digest. Failures return -errno and leave a detail in errmsg; the text for
 * the code itself comes from mesh_crdt_strerror().
 */
#include "crdt_internal.h"

static const char *const ctr_names[] = { MESH_CRDT_COUNTERS(MESH_COUNTER_NAME) };
static const char *const ctr_descs[] = { MESH_CRDT_COUNTERS(MESH_COUNTER_DESC) };

struct mesh_crdt_store *
mesh_crdt_store_new(const struct mesh_crdt_config *cfg)
{
	struct mesh_crdt_store *s;

	if (cfg == NULL || cfg->replica_id == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->replica = cfg->replica_id;
	s->export_local_only = cfg->export_local_only;
	s->grace_ns = cfg->tomb_grace_ns ? cfg->tomb_grace_ns : MESH_CRDT_TOMB_GRACE_DEFAULT_NS;
	crdt_clock_init(s, cfg->max_skew_ns);
	if (crdt_table_init(&s->table, cfg->expected_keys) != 0 || crdt_log_init(&s->log) != 0) {
		crdt_table_fini(&s->table);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void
crdt_entry_free(struct crdt_entry *e)
{
	crdt_free(e->value, e->value_cap);
	crdt_free(e, crdt_entry_size(e->key_len));
}

void
mesh_crdt_store_delete(struct mesh_crdt_store *s)
{
	if (s == NULL)
		return;
	for (uint64_t i = 0; s->table.slots != NULL && i <= s->table.mask; i++)
		if (s->table.slots[i].e != NULL)
			crdt_entry_free(s->table.slots[i].e);
	crdt_table_fini(&s->table);
	crdt_log_fini(&s->log);
	crdt_tombq_fini(&s->tombq);
	crdt_sub_free_all(s);
	crdt_stream_free_all(s);
	free(s->peers);
	free(s->gone);
	free(s);
}

uint64_t
mesh_crdt_replica_id_derive(const void *node, size_t node_len, uint64_t boot_nonce)
{
	uint64_t id = XXH3_64bits_withSeed(node, node_len, boot_nonce ^ 0x6d657368637264ULL);

	return id ? id : 1;
}

uint64_t
mesh_crdt_store_replica(const struct mesh_crdt_store *s)
{
	return s->replica;
}

uint64_t
mesh_crdt_store_seq(const struct mesh_crdt_store *s)
{
	return s->seq;
}

const char *
mesh_crdt_store_errmsg(const struct mesh_crdt_store *s)
{
	return s->errmsg;
}

int
crdt_fail(struct mesh_crdt_store *s, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(s->errmsg, sizeof(s->errmsg), "%s: ", mesh_crdt_strerror(err));
	if (n < 0 || (size_t)n >= sizeof(s->errmsg))
		return err;
	va_start(ap, fmt);
	vsnprintf(s->errmsg + n, sizeof(s->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

const char *
mesh_crdt_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument or malformed value";
	case -ENXIO:
		return "key matches no configured namespace";
	case -EEXIST:
		return "already configured";
	case -EBUSY:
		return "namespace prefix overlaps a configured prefix (configure the longer one "
		       "with nested=true to carve a sub-namespace)";
	case -ENOENT:
		return "no such key or peer";
	case -ENAMETOOLONG:
		return "key or prefix too long";
	case -EMSGSIZE:
		return "value larger than the namespace allows";
	case -ENOSPC:
		return "namespace key limit (or table capacity) reached";
	case -EDQUOT:
		return "namespace byte limit reached";
	case -EPROTOTYPE:
		return "operation does not fit the namespace kind";
	case -EOPNOTSUPP:
		return "operation not supported by this namespace";
	case -EOVERFLOW:
		return "clock exhausted";
	case -ERANGE:
		return "value out of range (a timestamp too far ahead of the local clock?)";
	case -ESTALE:
		return "version older than the GC horizon for a key this replica does not hold";
	case -ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

uint64_t
mesh_crdt_store_counter(const struct mesh_crdt_store *s, enum mesh_crdt_counter c)
{
	if ((unsigned)c >= MESH_CRDT_CTR_MAX)
		return 0;
	return mesh_counter_read(&s->ctr[c]);
}

const char *
mesh_crdt_counter_name(enum mesh_crdt_counter c)
{
	return (unsigned)c < MESH_CRDT_CTR_MAX ? ctr_names[c] : NULL;
}

const char *
mesh_crdt_counter_desc(enum mesh_crdt_counter c)
{
	return (unsigned)c < MESH_CRDT_CTR_MAX ? ctr_descs[c] : NULL;
}

int
crdt_key_check_fail(struct mesh_crdt_store *s, size_t key_len)
{
	if (key_len == 0)
		return crdt_fail(s, -EINVAL, "empty key");
	if (key_len > MESH_CRDT_KEY_MAX)
		return crdt_fail(s, -ENAMETOOLONG, "key of %zu bytes (max %u)", key_len,
				 MESH_CRDT_KEY_MAX);
	return 0;
}
