/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl: command-line client of a local meshd (libmeshclient). Human-readable output by
 * default, one JSON document per command with --json. Exit status: 0 success, 1 the node
 * refused or the key was not found, 2 usage error, 3 cannot reach the node.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_client.h"

static int json;
static int watch_timeout_ms = -1; /* --timeout given: watch gives up after that long */

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: meshctl [-s SOCKET | -n NODE] [--json] [--timeout MS] COMMAND [ARGS]\n"
		"  put KEY VALUE            write a key (CRDT namespaces); VALUE @FILE reads a file\n"
		"  get KEY                  read a key\n"
		"  del KEY                  delete a key (lww namespaces)\n"
		"  keys [PREFIX] [LIMIT]    list keys in order (all pages unless LIMIT)\n"
		"  watch PREFIX [COUNT]     print changes under PREFIX (COUNT events, 0 = forever;\n"
		"                           with --timeout, give up after that many ms)\n"
		"  publish KEY VALUE [NODE] send a stream message (to NODE only if given; any size)\n"
		"  members                  cluster members as this node sees them\n"
		"  stats [GROUP]            counters (net, ctl, merge, crdt, swim, stream)\n"
		"  health                   exit 0 if the node answers\n"
		"  metrics                  every counter in Prometheus text format\n"
		"The socket defaults to %s/NODE.sock; NODE defaults to $MESHD_NODE.\n",
		MESH_CLIENT_SOCKET_DIR);
}

static void
json_str(const void *p, size_t n)
{
	const unsigned char *s = p;

	putchar('"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			printf("\\u%04x", s[i]);
		else
			putchar(s[i]);
	}
	putchar('"');
}

static int
fail(struct mesh_client *c, const char *what, int err)
{
	const char *why = mesh_client_error(c)[0] ? mesh_client_error(c) : strerror(-err);

	if (json) {
		printf("{\"error\": ");
		json_str(why, strlen(why));
		printf(", \"errno\": %d}\n", -err);
	} else {
		fprintf(stderr, "meshctl: %s: %s\n", what, why);
	}
	return err == -ETIMEDOUT || err == -ECONNRESET || err == -EPIPE ? 3 : 1;
}

static int
cmd_get(struct mesh_client *c, const char *key)
{
	struct mesh_client_value v;
	int ret = mesh_client_get(c, key, strlen(key), &v);

	if (ret < 0)
		return fail(c, "get", ret);
	if (json) {
		printf("{\"key\": ");
		json_str(key, strlen(key));
		printf(", \"found\": %s", v.found ? "true" : "false");
		if (v.found) {
			printf(", \"value\": ");
			json_str(v.data, v.len);
			printf(", \"timestamp\": %" PRIu64 ", \"replica\": \"%016" PRIx64 "\"",
			       v.timestamp, v.replica);
		}
		printf("}\n");
	} else if (v.found) {
		fwrite(v.data, 1, v.len, stdout);
		putchar('\n');
	} else {
		fprintf(stderr, "meshctl: %s: not found\n", key);
	}
	ret = v.found ? 0 : 1;
	mesh_client_value_free(&v);
	return ret;
}

static int
cmd_keys(struct mesh_client *c, const char *prefix, uint32_t limit)
{
	char *after = NULL;
	bool more = true, first = true;
	size_t total = 0;

	if (json)
		printf("{\"keys\": [");
	while (more) {
		char **keys;
		size_t n;
		int ret = mesh_client_keys(c, prefix, after, limit ? limit : 500, &keys, &n, &more);

		if (ret < 0) {
			free(after);
			return fail(c, "keys", ret);
		}
		for (size_t i = 0; i < n; i++) {
			if (json) {
				printf("%s", first ? "" : ", ");
				json_str(keys[i], strlen(keys[i]));
			} else {
				printf("%s\n", keys[i]);
			}
			first = false;
		}
		total += n;
		free(after);
		after = n > 0 ? strdup(keys[n - 1]) : NULL;
		mesh_client_keys_free(keys, n);
		if (limit != 0 || n == 0)
			break;
	}
	free(after);
	if (json)
		printf("], \"count\": %zu, \"more\": %s}\n", total, more ? "true" : "false");
	return 0;
}

static int
cmd_watch(struct mesh_client *c, const char *prefix, long count)
{
	uint64_t sub;
	int ret = mesh_client_subscribe(c, prefix, &sub);

	if (ret < 0)
		return fail(c, "watch", ret);
	if (!json)
		fprintf(stderr, "watching '%s' (subscription %" PRIu64 ")\n", prefix, sub);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 0; count == 0 || i < count; i++) {
		struct mesh_client_event ev;

		ret = mesh_client_event_next(c, watch_timeout_ms, &ev);
		if (ret == -ETIMEDOUT) {
			if (!json)
				fprintf(stderr, "meshctl: watch: no event within %d ms\n",
					watch_timeout_ms);
			return 1;
		}
		if (ret < 0)
			return fail(c, "watch", ret);
		if (json) {
			printf("{\"key\": ");
			json_str(ev.key, ev.key_len);
			printf(", \"tombstone\": %s, \"value\": ", ev.tombstone ? "true" : "false");
			json_str(ev.value, ev.value_len);
			printf(", \"dropped\": %" PRIu64 ", \"origin_ns\": %" PRIu64 "}\n",
			       ev.dropped, ev.origin_ns);
		} else {
			printf("%s %.*s%s%.*s\n", ev.tombstone ? "del" : "put", (int)ev.key_len,
			       (const char *)ev.key, ev.tombstone ? "" : " ",
			       ev.tombstone ? 0 : (int)ev.value_len, (const char *)ev.value);
			if (ev.dropped)
				fprintf(stderr, "(%" PRIu64 " events dropped)\n", ev.dropped);
		}
		mesh_client_event_free(&ev);
	}
	return 0;
}

static int
cmd_members(struct mesh_client *c)
{
	struct mesh_client_member *m;
	size_t n;
	int ret = mesh_client_members(c, &m, &n);

	if (ret < 0)
		return fail(c, "members", ret);
	if (json)
		printf("{\"members\": [");
	else
		printf("%-24s %-22s %-10s %12s\n", "NAME", "ADDRESS", "STATUS", "INCARNATION");
	for (size_t i = 0; i < n; i++) {
		if (json)
			printf("%s{\"name\": \"%s\", \"address\": \"%s\", \"status\": \"%s\", "
			       "\"incarnation\": %" PRIu64 ", \"generation\": %" PRIu64 "}",
			       i ? ", " : "", m[i].name, m[i].address, m[i].status,
			       m[i].incarnation, m[i].generation);
		else
			printf("%-24s %-22s %-10s %12" PRIu64 "\n", m[i].name, m[i].address,
			       m[i].status, m[i].incarnation);
	}
	if (json)
		printf("]}\n");
	free(m);
	return 0;
}

static int
cmd_stats(struct mesh_client *c, const char *group, bool health)
{
	struct mesh_client_stat *s;
	size_t n;
	int ret = mesh_client_stats(c, group, &s, &n);

	if (ret < 0)
		return fail(c, health ? "health" : "stats", ret);
	if (health) {
		printf(json ? "{\"health\": \"ok\"}\n" : "ok\n");
		free(s);
		return 0;
	}
	if (json)
		printf("{");
	for (size_t i = 0; i < n; i++) {
		if (json)
			printf("%s\"%s.%s\": %" PRIu64, i ? ", " : "", s[i].group, s[i].name,
			       s[i].value);
		else
			printf("%-6s %-36s %16" PRIu64 "\n", s[i].group, s[i].name, s[i].value);
	}
	if (json)
		printf("}\n");
	free(s);
	return 0;
}

/* A VALUE argument: the text itself, or the contents of FILE when written @FILE. */
static int
load_value(const char *arg, char **out, size_t *len)
{
	FILE *f;
	long n;

	if (arg[0] != '@') {
		*out = strdup(arg);
		*len = strlen(arg);
		return *out != NULL ? 0 : -ENOMEM;
	}
	f = fopen(arg + 1, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "meshctl: %s: %s\n", arg + 1, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -errno;
	}
	*out = malloc((size_t)n + 1);
	*len = (size_t)n;
	if (*out == NULL || fread(*out, 1, *len, f) != *len) {
		fclose(f);
		free(*out);
		return -EIO;
	}
	fclose(f);
	return 0;
}

/*
 * Prometheus text exposition: every counter as meshd_<group>_<name> (the same names as
 * meshd --metrics-listen serves), plus member counts by status as a gauge.
 */
static int
cmd_metrics(struct mesh_client *c)
{
	struct mesh_client_stat *s;
	struct mesh_client_member *m;
	size_t n, nm;
	int ret = mesh_client_stats(c, NULL, &s, &n);
	static const char *const states[] = { "alive", "suspect", "dead", "left" };

	if (ret < 0)
		return fail(c, "metrics", ret);
	for (size_t i = 0; i < n; i++) {
		char metric[160];

		mesh_client_metric_name(metric, sizeof(metric), s[i].group, s[i].name);
		printf("# TYPE %s counter\n%s %" PRIu64 "\n", metric, metric, s[i].value);
	}
	free(s);
	ret = mesh_client_members(c, &m, &nm);
	if (ret < 0)
		return fail(c, "metrics", ret);
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

static int
ok(struct mesh_client *c, const char *what, int ret)
{
	if (ret < 0)
		return fail(c, what, ret);
	printf(json ? "{\"ok\": true}\n" : "OK\n");
	return 0;
}

static int
run(struct mesh_client *c, int argc, char **argv)
{
	const char *cmd = argv[0];

#define NEED(n)                                                                 \
	do {                                                                    \
		if (argc < (n) + 1) {                                           \
			fprintf(stderr, "meshctl: %s needs %d argument(s)\n", cmd, n); \
			return 2;                                               \
		}                                                               \
	} while (0)
	if (strcmp(cmd, "put") == 0 || strcmp(cmd, "publish") == 0) {
		char *v = NULL;
		size_t vlen = 0;
		int ret;

		NEED(2);
		if (load_value(argv[2], &v, &vlen) < 0)
			return 2;
		if (strcmp(cmd, "put") == 0)
			ret = ok(c, "put", mesh_client_put(c, argv[1], strlen(argv[1]), v, vlen));
		else
			ret = ok(c, "publish", mesh_client_publish(c, argv[1], strlen(argv[1]), v,
								   vlen, argc > 3 ? argv[3] : NULL));
		free(v);
		return ret;
	}
	if (strcmp(cmd, "get") == 0) {
		NEED(1);
		return cmd_get(c, argv[1]);
	}
	if (strcmp(cmd, "del") == 0) {
		NEED(1);
		return ok(c, "del", mesh_client_delete(c, argv[1], strlen(argv[1])));
	}
	if (strcmp(cmd, "keys") == 0)
		return cmd_keys(c, argc > 1 ? argv[1] : "",
				argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 0);
	if (strcmp(cmd, "watch") == 0) {
		NEED(1);
		return cmd_watch(c, argv[1], argc > 2 ? strtol(argv[2], NULL, 10) : 0);
	}
	if (strcmp(cmd, "members") == 0)
		return cmd_members(c);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(c, argc > 1 ? argv[1] : NULL, false);
	if (strcmp(cmd, "health") == 0)
		return cmd_stats(c, "ctl", true);
	if (strcmp(cmd, "metrics") == 0)
		return cmd_metrics(c);
	fprintf(stderr, "meshctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
#undef NEED
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *node = getenv("MESHD_NODE"), *sock = NULL;
	char path[256];
	struct mesh_client *c;
	int opt, timeout = 5000, ret;

	while ((opt = getopt_long(argc, argv, "+s:n:jt:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'n': node = optarg; break;
		case 'j': json = 1; break;
		case 't': timeout = atoi(optarg); watch_timeout_ms = timeout; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (sock == NULL) {
		if (node == NULL) {
			fprintf(stderr, "meshctl: give -s SOCKET or -n NODE (or set MESHD_NODE)\n");
			return 2;
		}
		snprintf(path, sizeof(path), "%s/%s.sock", MESH_CLIENT_SOCKET_DIR, node);
		sock = path;
	}
	c = mesh_client_connect(sock);
	if (c == NULL) {
		fprintf(stderr, "meshctl: cannot connect to %s: %s\n", sock, strerror(errno));
		return 3;
	}
	mesh_client_timeout_set(c, timeout);
	ret = run(c, argc - optind, argv + optind);
	mesh_client_close(c);
	return ret;
}
