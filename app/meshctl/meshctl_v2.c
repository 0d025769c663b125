/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * meshctl commands of client protocol version 2: put --owned, bulk loads (put --batch FILE
 * through mesh_client_batch, put --pipeline FILE through async puts all in flight at
 * once), hello, cluster (the partition hint; exit 1 when the node should not serve) and
 * meta set. A bulk file holds one `KEY VALUE` a line, VALUE in meshctl's value syntax
 * (text, or --hex/--base64); `-` reads stdin.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meshctl.h"

int
meshctl_put_owned(struct mesh_client *c, int argc, char **argv)
{
	uint8_t *v;
	size_t n;
	int ret = meshctl_value_load(argv[1], &v, &n);

	(void)argc;
	if (ret != 0)
		return ret;
	ret = mesh_client_put_owned(c, argv[0], strlen(argv[0]), v, n);
	free(v);
	if (ret < 0)
		return meshctl_fail(c, "put", ret);
	if (meshctl.json)
		return meshctl_json_print(json_pack("{s:b, s:b}", "ok", 1, "owned", 1));
	printf("OK\n");
	return 0;
}

struct bulk {
	struct mesh_client_op *ops;
	size_t n, cap;
};

static void
bulk_free(struct bulk *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((void *)(uintptr_t)b->ops[i].key);
		free((void *)(uintptr_t)b->ops[i].value);
	}
	free(b->ops);
}

/* Read `KEY VALUE` lines of @path ("-" = stdin) into @b; 0 or an exit status (reported). */
static int
bulk_load(const char *path, struct bulk *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int ret = 0;

	if (f == NULL)
		return meshctl_error(MESHCTL_EXIT_USAGE, errno, "cannot read %s: %s", path,
				     strerror(errno));
	while (ret == 0 && (len = getline(&line, &cap, f)) >= 0) {
		struct mesh_client_op *op;
		char *sp, *key;
		uint8_t *v;
		size_t vn;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		sp = strchr(line, ' ');
		if (sp == NULL || sp == line) {
			ret = meshctl_error(MESHCTL_EXIT_USAGE, EINVAL,
					    "%s:%zu: expected KEY VALUE", path, lineno);
			break;
		}
		*sp = '\0';
		if ((ret = meshctl_value_load(sp + 1, &v, &vn)) != 0)
			break;
		key = strdup(line);
		if (b->n == b->cap) {
			size_t nc = b->cap ? b->cap * 2 : 1024;
			struct mesh_client_op *t = realloc(b->ops, nc * sizeof(*t));
			if (t != NULL) {
				b->ops = t;
				b->cap = nc;
			}
		}
		if (key == NULL || b->n == b->cap) {
			free(key);
			free(v);
			ret = meshctl_error(MESHCTL_EXIT_REFUSED, ENOMEM, "%s", strerror(ENOMEM));
			break;
		}
		op = &b->ops[b->n++];
		*op = (struct mesh_client_op){ .kind = MESH_CLIENT_OP_PUT, .key = key,
					       .key_len = strlen(key), .value = v,
					       .value_len = vn };
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bulk_report(const char *how, size_t n, size_t failed, double secs, size_t in_flight)
{
	double rate = secs > 0 ? (double)n / secs : 0;

	if (meshctl.json)
		return meshctl_json_print(json_pack("{s:s, s:I, s:I, s:f, s:f, s:I}", "mode", how,
						    "count", (json_int_t)n, "failed",
						    (json_int_t)failed, "seconds", secs, "rate",
						    rate, "max_in_flight", (json_int_t)in_flight));
	printf("%zu keys written (%s), %zu failed, in %.3f s: %.0f/s; max in flight %zu\n",
	       n - failed, how, failed, secs, rate, in_flight);
	return failed ? MESHCTL_EXIT_REFUSED : 0;
}

/* put --batch FILE: mesh_client_batch splits into max_batch parts, all sent at once */
int
meshctl_put_batch(struct mesh_client *c, int argc, char **argv)
{
	struct mesh_client_result *res;
	struct bulk b = { 0 };
	size_t failed = 0, first = SIZE_MAX;
	double t0;
	int ret = bulk_load(argv[0], &b);

	(void)argc;
	if (ret != 0) {
		bulk_free(&b);
		return ret;
	}
	res = calloc(b.n ? b.n : 1, sizeof(*res));
	if (res == NULL) {
		bulk_free(&b);
		return meshctl_error(MESHCTL_EXIT_REFUSED, ENOMEM, "%s", strerror(ENOMEM));
	}
	t0 = now_s();
	ret = mesh_client_batch(c, b.ops, b.n, res);
	t0 = now_s() - t0;
	if (ret < 0) {
		free(res);
		bulk_free(&b);
		return meshctl_fail(c, "put --batch", ret);
	}
	for (size_t i = 0; i < b.n; i++)
		if (res[i].status != 0 && failed++ == 0)
			first = i;
	if (first != SIZE_MAX)
		meshctl_error(MESHCTL_EXIT_REFUSED, -res[first].status, "put --batch: %.*s: %s (%s)",
			      (int)b.ops[first].key_len, (const char *)b.ops[first].key,
			      strerror(-res[first].status), mesh_client_error_name(res[first].code));
	/* every op was in flight at once, in requests of max_batch ops */
	ret = bulk_report("batch", b.n, failed, t0, b.n);
	free(res);
	bulk_free(&b);
	return ret;
}

struct pipe_state {
	size_t done, failed;
	int first_status, first_code;
};

static void
pipe_done(struct mesh_client *c, const struct mesh_client_reply *r, void *arg)
{
	struct pipe_state *s = arg;

	(void)c;
	s->done++;
	if (r->status != 0 && s->failed++ == 0) {
		s->first_status = r->status;
		s->first_code = r->code;
	}
}

/* put --pipeline FILE: one async put a line, every one in flight before any reply is
 * handled (the library reads replies into memory while it sends) */
int
meshctl_put_pipeline(struct mesh_client *c, int argc, char **argv)
{
	struct pipe_state s = { 0 };
	struct bulk b = { 0 };
	size_t in_flight;
	double t0;
	int ret = bulk_load(argv[0], &b);

	(void)argc;
	if (ret != 0) {
		bulk_free(&b);
		return ret;
	}
	t0 = now_s();
	for (size_t i = 0; i < b.n; i++) {
		int64_t id = mesh_client_submit(c, &b.ops[i], pipe_done, &s);
		if (id < 0) {
			bulk_free(&b);
			return meshctl_fail(c, "put --pipeline", (int)id);
		}
	}
	in_flight = mesh_client_pending(c);
	while (mesh_client_pending(c) > 0) {
		int wait_ms = meshctl.watch_timeout_ms < 0 ? 5000 : meshctl.watch_timeout_ms;
		double w0 = now_s();

		ret = mesh_client_wait(c, wait_ms);
		if (ret < 0) {
			bulk_free(&b);
			return meshctl_fail(c, "put --pipeline", ret);
		}
		if (ret == 0 && mesh_client_pending(c) > 0 && !mesh_client_want_write(c) &&
		    now_s() - w0 >= wait_ms / 1000.0) { /* nothing answered for a whole wait */
			bulk_free(&b);
			return meshctl_fail(c, "put --pipeline", -ETIMEDOUT);
		}
	}
	t0 = now_s() - t0;
	if (s.failed)
		meshctl_error(MESHCTL_EXIT_REFUSED, -s.first_status, "put --pipeline: %s (%s)",
			      strerror(-s.first_status), mesh_client_error_name(s.first_code));
	ret = bulk_report("pipeline", s.done, s.failed, t0, in_flight);
	bulk_free(&b);
	return ret;
}

int
meshctl_hello(struct mesh_client *c, int argc, char **argv)
{
	struct mesh_client_hello h;
	json_t *feat;
	int ret = mesh_client_hello(c, &h);

	(void)argc, (void)argv;
	if (ret < 0)
		return meshctl_fail(c, "hello", ret);
	if (!meshctl.json) {
		printf("node %s generation %" PRIu64 " version %u max_batch %u max_message %u\n"
		       "features",
		       h.node, h.generation, h.version, h.max_batch, h.max_message);
		for (size_t i = 0; i < h.n_features; i++)
			printf(" %s", h.features[i]);
		printf("\n");
		return 0;
	}
	feat = json_array();
	for (size_t i = 0; feat != NULL && i < h.n_features; i++)
		json_array_append_new(feat, json_string(h.features[i]));
	return meshctl_json_print(feat == NULL ? NULL :
		json_pack("{s:s, s:o, s:i, s:i, s:i, s:o}", "node", h.node, "generation",
			  meshctl_json_u64(h.generation), "version", (int)h.version, "max_batch",
			  (int)h.max_batch, "max_message", (int)h.max_message, "features", feat));
}

int
meshctl_cluster(struct mesh_client *c, int argc, char **argv)
{
	struct mesh_client_cluster k;
	int ret = mesh_client_cluster(c, &k);

	(void)argc, (void)argv;
	if (ret < 0)
		return meshctl_fail(c, "cluster", ret);
	if (meshctl.json)
		ret = meshctl_json_print(json_pack(
			"{s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i, s:b}", "alive", (int)k.alive,
			"suspect", (int)k.suspect, "dead", (int)k.dead, "left", (int)k.left,
			"known", (int)k.known, "reachable", (int)k.reachable,
			"reachable_fraction", k.reachable_fraction, "quorum", (int)k.quorum,
			"should_serve", k.should_serve));
	else
		printf("alive %u suspect %u dead %u left %u\nknown %u reachable %u (%.2f) "
		       "quorum %u\nshould_serve %s\n",
		       k.alive, k.suspect, k.dead, k.left, k.known, k.reachable,
		       k.reachable_fraction, k.quorum, k.should_serve ? "yes" : "no");
	return ret != 0 ? ret : k.should_serve ? 0 : MESHCTL_EXIT_REFUSED;
}

int
meshctl_meta(struct mesh_client *c, int argc, char **argv)
{
	uint8_t *v;
	size_t n;
	int ret;

	(void)argc;
	if (strcmp(argv[0], "set") != 0)
		return meshctl_error(MESHCTL_EXIT_USAGE, EINVAL, "meta: unknown action '%s' "
				     "(meta set VALUE)", argv[0]);
	if ((ret = meshctl_value_load(argv[1], &v, &n)) != 0)
		return ret;
	ret = mesh_client_metadata_set(c, v, n);
	free(v);
	if (ret < 0)
		return meshctl_fail(c, "meta set", ret);
	if (meshctl.json)
		return meshctl_json_print(json_pack("{s:b}", "ok", 1));
	printf("OK\n");
	return 0;
}
