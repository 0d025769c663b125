/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl commands: one function per command over libmeshclient, and the table that
 * names them, their arguments (checked by meshctl_args.c before any call) and their help.
 * Each prints its result on stdout, human-readable or one JSON document, and returns the
 * exit status; failures are reported through meshctl_fail() on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

static int
ok(struct mesh_client *c, const char *what, int ret)
{
	if (ret < 0)
		return meshctl_fail(c, what, ret);
	if (meshctl.json)
		return meshctl_json_print(json_pack("{s:b}", "ok", 1));
	printf("OK\n");
	return 0;
}

/* put KEY VALUE, publish KEY VALUE [NODE] */
static int
put_or_publish(struct mesh_client *c, int argc, char **argv, bool publish)
{
	uint8_t *v;
	size_t n;
	int ret = meshctl_value_load(argv[1], &v, &n);

	if (ret != 0)
		return ret;
	if (publish)
		ret = ok(c, "publish", mesh_client_publish(c, argv[0], strlen(argv[0]), v, n,
							   argc > 2 ? argv[2] : NULL));
	else
		ret = ok(c, "put", mesh_client_put(c, argv[0], strlen(argv[0]), v, n));
	free(v);
	return ret;
}

static int
cmd_put(struct mesh_client *c, int argc, char **argv)
{
	return put_or_publish(c, argc, argv, false);
}

static int
cmd_publish(struct mesh_client *c, int argc, char **argv)
{
	return put_or_publish(c, argc, argv, true);
}

static int
cmd_rl_set(struct mesh_client *c, int argc, char **argv)
{
	uint8_t v[MESHCTL_EPOCH_LEN];
	uint64_t epoch;
	int64_t count;

	(void)argc;
	meshctl_parse_u64(argv[1], UINT64_MAX, &epoch);
	meshctl_parse_i64(argv[2], &count);
	meshctl_epoch_encode(v, epoch, count);
	return ok(c, "rl-set", mesh_client_put(c, argv[0], strlen(argv[0]), v, sizeof(v)));
}

static json_t *
get_doc(const char *key, size_t klen, const struct mesh_client_value *v)
{
	json_t *doc = json_object();

	if (doc == NULL || meshctl_json_bytes(doc, "key", key, klen) < 0 ||
	    json_object_set_new(doc, "found", json_boolean(v->found)) < 0)
		goto fail;
	if (v->found &&
	    (meshctl_value_json(doc, key, klen, v->data, v->len) < 0 ||
	     json_object_set_new(doc, "timestamp", meshctl_json_u64(v->timestamp)) < 0 ||
	     json_object_set_new(doc, "replica", json_sprintf("%016" PRIx64, v->replica)) < 0))
		goto fail;
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

static int
cmd_get(struct mesh_client *c, int argc, char **argv)
{
	const char *key = argv[0];
	size_t klen = strlen(key);
	struct mesh_client_value v;
	int ret = mesh_client_get(c, key, klen, &v);

	(void)argc;
	if (ret < 0)
		return meshctl_fail(c, "get", ret);
	if (meshctl.json) {
		ret = meshctl_json_print(get_doc(key, klen, &v));
	} else if (v.found) {
		meshctl_value_print(stdout, key, klen, v.data, v.len, false);
		putchar('\n');
	} else {
		fprintf(stderr, "meshctl: %s: not found\n", key);
	}
	if (ret == 0 && !v.found)
		ret = MESHCTL_EXIT_REFUSED;
	mesh_client_value_free(&v);
	return ret;
}

static int
cmd_del(struct mesh_client *c, int argc, char **argv)
{
	(void)argc;
	return ok(c, "del", mesh_client_delete(c, argv[0], strlen(argv[0])));
}

/* keys [PREFIX] [LIMIT]: every page unless LIMIT is given */
static int
cmd_keys(struct mesh_client *c, int argc, char **argv)
{
	uint64_t limit = 0;
	char *after = NULL;
	bool more = true;
	size_t total = 0;
	json_t *list = meshctl.json ? json_array() : NULL, *doc;

	if (argc > 1)
		meshctl_parse_u64(argv[1], UINT64_MAX, &limit);
	while (more) {
		char **keys;
		size_t n;
		int ret = mesh_client_keys(c, argc > 0 ? argv[0] : "", after,
					   limit == 0 ? 500 : limit > UINT32_MAX ? UINT32_MAX
										: (uint32_t)limit,
					   &keys, &n, &more);

		if (ret < 0) {
			free(after);
			json_decref(list);
			return meshctl_fail(c, "keys", ret);
		}
		for (size_t i = 0; i < n; i++) {
			if (list != NULL) {
				json_t *k = json_string(keys[i]); /* else {"key_base64": ...} */

				if (k == NULL && (k = json_object()) != NULL)
					meshctl_json_bytes(k, "key", keys[i], strlen(keys[i]));
				json_array_append_new(list, k);
			} else if (!meshctl.json) {
				meshctl_escape(stdout, keys[i], strlen(keys[i]));
				putchar('\n');
			}
		}
		total += n;
		free(after);
		after = n > 0 ? strdup(keys[n - 1]) : NULL;
		mesh_client_keys_free(keys, n);
		if (limit != 0 || n == 0)
			break;
	}
	free(after);
	if (!meshctl.json)
		return 0;
	doc = list != NULL ? json_pack("{s:o, s:I, s:b}", "keys", list, "count",
				       (json_int_t)total, "more", more) : NULL;
	return meshctl_json_print(doc);
}

static json_t *
event_doc(const struct mesh_client_event *ev)
{
	json_t *doc = json_object();

	if (doc == NULL || meshctl_json_bytes(doc, "key", ev->key, ev->key_len) < 0 ||
	    json_object_set_new(doc, "tombstone", json_boolean(ev->tombstone)) < 0 ||
	    meshctl_value_json(doc, ev->key, ev->key_len, ev->value, ev->value_len) < 0 ||
	    json_object_set_new(doc, "dropped", meshctl_json_u64(ev->dropped)) < 0 ||
	    json_object_set_new(doc, "origin_ns", meshctl_json_u64(ev->origin_ns)) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* One event, one line: put KEY VALUE / del KEY, escaped; or one JSON document. */
static int
print_event(const struct mesh_client_event *ev)
{
	if (meshctl.json)
		return meshctl_json_print(event_doc(ev));
	fputs(ev->tombstone ? "del " : "put ", stdout);
	meshctl_escape(stdout, ev->key, ev->key_len);
	if (!ev->tombstone) {
		putchar(' ');
		meshctl_value_print(stdout, ev->key, ev->key_len, ev->value, ev->value_len, true);
	}
	putchar('\n');
	if (ev->dropped)
		fprintf(stderr, "(%" PRIu64 " events dropped)\n", ev->dropped);
	return 0;
}

/* watch PREFIX [COUNT]: COUNT events (0 = until interrupted), one line each */
static int
cmd_watch(struct mesh_client *c, int argc, char **argv)
{
	uint64_t sub, count = 0;
	int ret;

	if (argc > 1)
		meshctl_parse_u64(argv[1], UINT64_MAX, &count);
	ret = mesh_client_subscribe(c, argv[0], &sub);
	if (ret < 0)
		return meshctl_fail(c, "watch", ret);
	if (!meshctl.json)
		fprintf(stderr, "watching '%s' (subscription %" PRIu64 ")\n", argv[0], sub);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (uint64_t i = 0; count == 0 || i < count; i++) {
		struct mesh_client_event ev;

		ret = mesh_client_event_next(c, meshctl.watch_timeout_ms, &ev);
		if (ret == -ETIMEDOUT)
			return meshctl_error(MESHCTL_EXIT_REFUSED, ETIMEDOUT,
					     "watch: no event within %d ms", meshctl.watch_timeout_ms);
		if (ret < 0)
			return meshctl_fail(c, "watch", ret);
		ret = print_event(&ev);
		mesh_client_event_free(&ev);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int
cmd_members(struct mesh_client *c, int argc, char **argv)
{
	struct mesh_client_member *m;
	json_t *list = meshctl.json ? json_array() : NULL;
	size_t n;
	int ret = mesh_client_members(c, &m, &n);

	(void)argc, (void)argv;
	if (ret < 0) {
		json_decref(list);
		return meshctl_fail(c, "members", ret);
	}
	if (!meshctl.json)
		printf("%-24s %-22s %-10s %12s %s\n", "NAME", "ADDRESS", "STATUS", "INCARNATION",
		       "METADATA");
	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if (!meshctl.json) {
			printf("%-24s %-22s %-10s %12" PRIu64 " ", m[i].name, m[i].address,
			       m[i].status, m[i].incarnation);
			meshctl_escape(stdout, m[i].metadata, m[i].metadata_len);
			putchar('\n');
		} else if (list != NULL) {
			o = json_pack("{s:s, s:s, s:s, s:o, s:o}",
				"name", m[i].name, "address", m[i].address, "status", m[i].status,
				"incarnation", meshctl_json_u64(m[i].incarnation),
				"generation", meshctl_json_u64(m[i].generation));
			if (o != NULL)
				meshctl_json_bytes(o, "metadata", m[i].metadata, m[i].metadata_len);
			json_array_append_new(list, o);
		}
	}
	free(m);
	if (!meshctl.json)
		return 0;
	return meshctl_json_print(list != NULL ? json_pack("{s:o}", "members", list) : NULL);
}

/* stats [GROUP], and health (the ctl group, answered or not) */
static int
stats_or_health(struct mesh_client *c, const char *group, bool health)
{
	struct mesh_client_stat *s;
	json_t *doc = meshctl.json ? json_object() : NULL;
	size_t n;
	int ret = mesh_client_stats(c, group, &s, &n);

	if (ret < 0) {
		json_decref(doc);
		return meshctl_fail(c, health ? "health" : "stats", ret);
	}
	for (size_t i = 0; !health && i < n; i++) {
		char name[sizeof(s->group) + sizeof(s->name) + 1];

		snprintf(name, sizeof(name), "%s.%s", s[i].group, s[i].name);
		if (!meshctl.json)
			printf("%-6s %-36s %16" PRIu64 "\n", s[i].group, s[i].name, s[i].value);
		else if (doc != NULL)
			json_object_set_new(doc, name, meshctl_json_u64(s[i].value));
	}
	free(s);
	if (health && doc != NULL)
		json_object_set_new(doc, "health", json_string("ok"));
	else if (health)
		printf("ok\n");
	return meshctl.json ? meshctl_json_print(doc) : 0;
}

static int
cmd_stats(struct mesh_client *c, int argc, char **argv)
{
	return stats_or_health(c, argc > 0 ? argv[0] : NULL, false);
}

static int
cmd_health(struct mesh_client *c, int argc, char **argv)
{
	(void)argc, (void)argv;
	return stats_or_health(c, "ctl", true);
}

/*
 * Prometheus text exposition: every counter as meshd_<group>_<name> (the same names as
 * meshd --metrics-listen serves), plus member counts by status as a gauge.
 */
static int
cmd_metrics(struct mesh_client *c, int argc, char **argv)
{
	struct mesh_client_stat *s;
	struct mesh_client_member *m;
	size_t n, nm;
	int ret = mesh_client_stats(c, NULL, &s, &n);
	static const char *const states[] = { "alive", "suspect", "dead", "left" };

	(void)argc, (void)argv;
	if (ret < 0)
		return meshctl_fail(c, "metrics", ret);
	for (size_t i = 0; i < n; i++) {
		char metric[160];

		mesh_client_metric_name(metric, sizeof(metric), s[i].group, s[i].name);
		printf("# TYPE %s counter\n%s %" PRIu64 "\n", metric, metric, s[i].value);
	}
	free(s);
	ret = mesh_client_members(c, &m, &nm);
	if (ret < 0)
		return meshctl_fail(c, "metrics", ret);
	printf("# TYPE meshd_members gauge\n");
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		size_t count = 0;
		for (size_t i = 0; i < nm; i++)
			count += strcmp(m[i].status, states[k]) == 0;
		printf("meshd_members{status=\"%s\"} %zu\n", states[k], count);
	}
	free(m);
	return 0;
}

const struct meshctl_cmd meshctl_cmds[] = {
	{ "put", "[--owned] KEY VALUE", "sv", 2,
	  "write a key (CRDT namespaces); VALUE @FILE reads a file;\n"
	  "                           --owned: the key dies with this node", cmd_put },
	{ "put", "--batch FILE", "s", 1,
	  "bulk load `KEY VALUE` lines (- = stdin) in batches;\n"
	  "                           --pipeline FILE: as async puts all in flight",
	  cmd_put },
	{ "get", "KEY", "s", 1, "read a key (epoch_max keys: epoch and count)", cmd_get },
	{ "del", "KEY", "s", 1, "delete a key (lww namespaces)", cmd_del },
	{ "rl-set", "KEY EPOCH COUNT", "eui", 3,
	  "write an epoch_max key: u64 EPOCH, i64 COUNT (16 bytes, big-endian)", cmd_rl_set },
	{ "keys", "[PREFIX] [LIMIT]", "su", 0, "list keys in order (all pages unless LIMIT)",
	  cmd_keys },
	{ "watch", "PREFIX [COUNT]", "su", 1,
	  "print changes under PREFIX, one a line (COUNT events, 0 =\n"
	  "                           forever; with --timeout, give up after that many ms)",
	  cmd_watch },
	{ "publish", "KEY VALUE [NODE]", "svs", 2,
	  "send a stream message (to NODE only if given; any size)", cmd_publish },
	{ "members", "", "", 0, "cluster members as this node sees them (with metadata)",
	  cmd_members },
	{ "meta", "set VALUE", "sv", 2, "set this node's metadata (<= 512 bytes)", meshctl_meta },
	{ "cluster", "", "", 0, "reachable members, quorum; exit 1 when should_serve is false",
	  meshctl_cluster },
	{ "hello", "", "", 0, "protocol version, features and limits of the node",
	  meshctl_hello },
	{ "stats", "[GROUP]", "s", 0, "counters (net, ctl, merge, crdt, swim, stream)", cmd_stats },
	{ "health", "", "", 0, "exit 0 if the node answers", cmd_health },
	{ "metrics", "", "", 0, "every counter in Prometheus text format", cmd_metrics },
};
const size_t meshctl_n_cmds = sizeof(meshctl_cmds) / sizeof(meshctl_cmds[0]);

const struct meshctl_cmd meshctl_put_variants[] = {
	{ "put", "--owned KEY VALUE", "sv", 2, "", meshctl_put_owned },
	{ "put", "--batch FILE", "s", 1, "", meshctl_put_batch },
	{ "put", "--pipeline FILE", "s", 1, "", meshctl_put_pipeline },
};
const size_t meshctl_n_put_variants =
	sizeof(meshctl_put_variants) / sizeof(meshctl_put_variants[0]);
