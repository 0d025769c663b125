/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libmeshclient's watches against a live meshd (driven by test_client.sh, one check per
 * run; exit 0 passed, 1 failed with the reason on stderr):
 *   snapshot SOCK PREFIX CURSOR   existing keys (not a deleted one) then SNAPSHOT_END, then
 *                                 a live change through the event callback, seen by a v1
 *                                 subscription on the same connection too; the last
 *                                 cursor is written to the file CURSOR
 *   resume SOCK PREFIX CURSOR K=V|K=- ...
 *                                 resume from CURSOR: exactly these changes (- = deleted),
 *                                 nothing else; the new cursor is written back
 *   missed SOCK PREFIX CURSOR other-life|as-is K... | any
 *                                 a resume the node cannot honour: MISSED first, then a
 *                                 snapshot of exactly keys K (any: not checked)
 *   members SOCK PEER READY SECS  a members watch with snapshot (self first), one line per
 *                                 event on stdout, READY created once the snapshot is in;
 *                                 passes once PEER joined (JOIN or ALIVE) and then went
 *                                 DEAD or LEFT within SECS
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh_client.h"

static const char *sock_path;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static struct mesh_client *
open_client(struct mesh_client_hello *h)
{
	struct mesh_client *c = mesh_client_connect(sock_path);
	int ret;

	if (c == NULL)
		fail("connect %s: %s", sock_path, strerror(errno));
	ret = mesh_client_hello(c, h);
	if (ret < 0)
		fail("hello: %s", strerror(-ret));
	if (!mesh_client_has_feature(h, "watch") || !mesh_client_has_feature(h, "members_watch"))
		fail("node %s does not list watch and members_watch", h->node);
	return c;
}

static void
put(struct mesh_client *c, const char *prefix, const char *k, const char *v)
{
	char key[256];
	int ret;

	snprintf(key, sizeof(key), "%s%s", prefix, k);
	ret = v != NULL ? mesh_client_put(c, key, strlen(key), v, strlen(v))
			: mesh_client_delete(c, key, strlen(key));
	if (ret < 0)
		fail("%s %s: %s (%s)", v ? "put" : "delete", key, strerror(-ret),
		     mesh_client_error(c));
}

static void
cursor_write(const char *path, const struct mesh_client_cursor *cur)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%" PRIu64 " %" PRIu64 "\n", cur->generation, cur->seq) < 0 ||
	    fclose(f) != 0)
		fail("write %s", path);
}

static struct mesh_client_cursor
cursor_read(const char *path)
{
	struct mesh_client_cursor cur = { 0 };
	FILE *f = fopen(path, "r");

	if (f == NULL || fscanf(f, "%" SCNu64 " %" SCNu64, &cur.generation, &cur.seq) != 2)
		fail("read %s", path);
	fclose(f);
	return cur;
}

/* the key without @prefix ("" if it does not start with it) */
static const char *
suffix(const struct mesh_client_event *ev, const char *prefix)
{
	size_t n = strlen(prefix);

	if (ev->key_len < n || memcmp(ev->key, prefix, n) != 0)
		return "";
	return (const char *)ev->key + n;
}

/* expected changes: "k=v" or "k=-" (deleted) */
struct want {
	char key[64];
	char value[64];
	bool tomb, seen;
};

static size_t
want_parse(char **argv, int argc, struct want *w)
{
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		memset(&w[i], 0, sizeof(w[i]));
		snprintf(w[i].key, sizeof(w[i].key), "%.*s",
			 (int)(eq ? eq - argv[i] : (long)strlen(argv[i])), argv[i]);
		if (eq != NULL && strcmp(eq + 1, "-") == 0)
			w[i].tomb = true;
		else if (eq != NULL)
			snprintf(w[i].value, sizeof(w[i].value), "%s", eq + 1);
	}
	return (size_t)argc;
}

static struct want *
want_find(struct want *w, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].key, key) == 0)
			return &w[i];
	return NULL;
}

static int
next(struct mesh_client *c, int ms, struct mesh_client_event *ev)
{
	int ret = mesh_client_event_next(c, ms, ev);

	if (ret < 0 && ret != -ETIMEDOUT)
		fail("event_next: %s", strerror(-ret));
	return ret;
}

/* ---- snapshot */

struct cb_state {
	uint64_t watch, sub;
	struct mesh_client_event got_watch, got_sub;
	int n_watch, n_sub, other;
};

static void
on_event(struct mesh_client *c, const struct mesh_client_event *ev, void *arg)
{
	struct cb_state *s = arg;

	(void)c;
	if (ev->subscription == s->watch && s->n_watch++ == 0) {
		s->got_watch = *ev; /* pointers die after the callback: copy what is checked */
		s->got_watch.key = NULL;
		s->got_watch.value = (uint8_t *)strndup((const char *)ev->key, ev->key_len);
	} else if (ev->subscription == s->sub && s->n_sub++ == 0) {
		s->got_sub = *ev;
		s->got_sub.key = NULL;
		s->got_sub.value = (uint8_t *)strndup((const char *)ev->key, ev->key_len);
	} else if (ev->subscription != s->watch && ev->subscription != s->sub) {
		s->other++;
	}
}

static int
check_snapshot(const char *prefix, const char *cursor_path)
{
	struct mesh_client_hello h, h2;
	struct mesh_client *c = open_client(&h), *c2 = open_client(&h2);
	struct mesh_client_cursor cur;
	struct mesh_client_event ev;
	struct cb_state s = { 0 };
	struct want w[2] = { { .key = "a", .value = "1" }, { .key = "b", .value = "2" } };
	uint64_t last_seq = 0, id;
	char full[128];
	int ret, n = 0;

	put(c2, prefix, "a", "1");
	put(c2, prefix, "b", "2");
	put(c2, prefix, "c", "3");
	put(c2, prefix, "c", NULL); /* deleted: not in the snapshot */
	ret = mesh_client_watch_open(c, prefix, strlen(prefix), true, NULL, &id);
	if (ret < 0)
		fail("watch_open: %s (%s)", strerror(-ret), mesh_client_error(c));
	if (mesh_client_watch_cursor_get(c, id, &cur) < 0 || cur.generation != h.generation ||
	    cur.seq != 0)
		fail("cursor before the snapshot: %" PRIu64 "/%" PRIu64 ", node generation %" PRIu64,
		     cur.generation, cur.seq, h.generation);
	for (;;) {
		if (next(c, 5000, &ev) == -ETIMEDOUT)
			fail("no SNAPSHOT_END after %d snapshot events", n);
		if (ev.subscription != id || ev.cursor.generation != h.generation)
			fail("event of %" PRIu64 " with generation %" PRIu64, ev.subscription,
			     ev.cursor.generation);
		if (ev.kind == MESH_CLIENT_EVENT_SNAPSHOT_END) {
			if (ev.key_len != 0 || ev.cursor.seq < last_seq)
				fail("SNAPSHOT_END with a key or a cursor going back");
			cur = ev.cursor;
			mesh_client_event_free(&ev);
			break;
		}
		struct want *x = want_find(w, 2, suffix(&ev, prefix));

		if (ev.kind != MESH_CLIENT_EVENT_CHANGE || !ev.snapshot || ev.tombstone ||
		    x == NULL || x->seen || strcmp((const char *)ev.value, x->value) != 0)
			fail("unexpected snapshot event: %s %s=%s snapshot %d tomb %d",
			     mesh_client_event_kind_name(ev.kind), (const char *)ev.key,
			     (const char *)ev.value, ev.snapshot, ev.tombstone);
		if (ev.seq == 0 || ev.cursor.seq < last_seq || ev.cursor.seq < ev.seq)
			fail("snapshot event seq %" PRIu64 " cursor %" PRIu64, ev.seq, ev.cursor.seq);
		last_seq = ev.cursor.seq;
		x->seen = true;
		n++;
		mesh_client_event_free(&ev);
	}
	if (!w[0].seen || !w[1].seen)
		fail("snapshot lacks a key: a %d b %d", w[0].seen, w[1].seen);
	printf("snapshot: a, b, SNAPSHOT_END at cursor %" PRIu64 "/%" PRIu64 "\n", cur.generation,
	       cur.seq);

	/* live, through the callback; a v1 subscription on the same connection too */
	snprintf(full, sizeof(full), "%sd", prefix);
	ret = mesh_client_subscribe(c, prefix, &s.sub);
	if (ret < 0)
		fail("subscribe: %s", strerror(-ret));
	s.watch = id;
	mesh_client_event_cb_set(c, on_event, &s);
	put(c2, prefix, "d", "4");
	for (int64_t t = 0; t < 100 && (s.n_watch == 0 || s.n_sub == 0); t++)
		if (mesh_client_wait(c, 100) < 0)
			fail("wait");
	if (s.n_watch != 1 || s.n_sub != 1 || s.other != 0)
		fail("live: %d watch events, %d subscription events, %d others", s.n_watch,
		     s.n_sub, s.other);
	if (s.got_watch.kind != MESH_CLIENT_EVENT_CHANGE || s.got_watch.snapshot ||
	    strcmp((char *)s.got_watch.value, full) != 0 || s.got_watch.seq <= cur.seq ||
	    s.got_watch.cursor.seq != s.got_watch.seq ||
	    s.got_watch.cursor.generation != h.generation)
		fail("live watch event: kind %d snapshot %d seq %" PRIu64 " cursor %" PRIu64,
		     s.got_watch.kind, s.got_watch.snapshot, s.got_watch.seq,
		     s.got_watch.cursor.seq);
	if (s.got_sub.kind != MESH_CLIENT_EVENT_CHANGE || s.got_sub.cursor.generation != 0 ||
	    s.got_sub.member != NULL || strcmp((char *)s.got_sub.value, full) != 0)
		fail("v1 subscription event with watch fields");
	cur = s.got_watch.cursor;
	printf("live: %s seq %" PRIu64 " (v1 subscription saw it too)\n",
	       (char *)s.got_watch.value, s.got_watch.seq);
	free(s.got_watch.value);
	free(s.got_sub.value);
	cursor_write(cursor_path, &cur);
	mesh_client_close(c); /* disconnect without closing the watch */
	mesh_client_close(c2);
	return 0;
}

/* ---- resume */

static int
check_resume(const char *prefix, const char *cursor_path, int argc, char **argv)
{
	struct mesh_client_hello h;
	struct mesh_client *c = open_client(&h);
	struct mesh_client_cursor from = cursor_read(cursor_path), cur;
	struct mesh_client_event ev;
	struct want w[64];
	size_t nw = want_parse(argv, argc < 64 ? argc : 64, w);
	uint64_t id;
	int ret, n = 0;

	ret = mesh_client_watch_open(c, prefix, strlen(prefix), false, &from, &id);
	if (ret < 0)
		fail("watch_open: %s (%s)", strerror(-ret), mesh_client_error(c));
	while (next(c, 1500, &ev) == 0) {
		struct want *x = want_find(w, nw, suffix(&ev, prefix));

		if (ev.kind != MESH_CLIENT_EVENT_CHANGE || ev.snapshot || ev.dropped != 0)
			fail("resume: a %s event (snapshot %d, dropped %" PRIu64 ")",
			     mesh_client_event_kind_name(ev.kind), ev.snapshot, ev.dropped);
		if (x == NULL || x->seen)
			fail("resume: %s %s", x ? "twice" : "not missed", (char *)ev.key);
		if (x->tomb != ev.tombstone || (!x->tomb && strcmp(x->value, (char *)ev.value)))
			fail("resume: %s = %s (tombstone %d)", (char *)ev.key, (char *)ev.value,
			     ev.tombstone);
		if (ev.seq <= from.seq || ev.cursor.seq != ev.seq)
			fail("resume: seq %" PRIu64 " cursor %" PRIu64 " from %" PRIu64, ev.seq,
			     ev.cursor.seq, from.seq);
		x->seen = true;
		n++;
		printf("resumed: %s%s%s\n", (char *)ev.key, ev.tombstone ? " deleted " : " = ",
		       ev.tombstone ? "" : (char *)ev.value);
		mesh_client_event_free(&ev);
	}
	for (size_t i = 0; i < nw; i++)
		if (!w[i].seen)
			fail("resume: the change of %s%s did not come", prefix, w[i].key);
	if (mesh_client_watch_cursor_get(c, id, &cur) < 0 || cur.generation != from.generation ||
	    cur.seq <= from.seq)
		fail("cursor after the resume %" PRIu64 " not past %" PRIu64, cur.seq, from.seq);
	printf("resume from %" PRIu64 ": exactly the %d missed changes, cursor now %" PRIu64 "\n",
	       from.seq, n, cur.seq);
	cursor_write(cursor_path, &cur);
	ret = mesh_client_watch_close(c, id);
	if (ret < 0)
		fail("watch_close: %s", strerror(-ret));
	mesh_client_close(c);
	return 0;
}

/* ---- missed */

static int
check_missed(const char *prefix, const char *cursor_path, bool other_life, int argc,
	     char **argv)
{
	struct mesh_client_hello h;
	struct mesh_client *c = open_client(&h);
	struct mesh_client_cursor from = cursor_read(cursor_path);
	struct mesh_client_event ev;
	struct want w[64];
	bool any = argc == 1 && strcmp(argv[0], "any") == 0;
	size_t nw = any ? 0 : want_parse(argv, argc < 64 ? argc : 64, w);
	uint64_t id;
	int ret, n = 0;

	if (other_life)
		from.generation ^= 0x5a5a5a5aull;
	ret = mesh_client_watch_open(c, prefix, strlen(prefix), false, &from, &id);
	if (ret < 0)
		fail("watch_open: %s (%s)", strerror(-ret), mesh_client_error(c));
	if (next(c, 5000, &ev) < 0)
		fail("no event after a resume from %" PRIu64 "/%" PRIu64, from.generation, from.seq);
	if (ev.kind != MESH_CLIENT_EVENT_MISSED || ev.subscription != id ||
	    ev.cursor.generation != h.generation || ev.cursor.seq != 0)
		fail("first event is %s (cursor %" PRIu64 "/%" PRIu64 "), not MISSED",
		     mesh_client_event_kind_name(ev.kind), ev.cursor.generation, ev.cursor.seq);
	mesh_client_event_free(&ev);
	printf("resume from %" PRIu64 "/%" PRIu64 " on a node of life %" PRIu64 ": MISSED\n",
	       from.generation, from.seq, h.generation);
	for (;;) {
		if (next(c, 5000, &ev) < 0)
			fail("no SNAPSHOT_END after MISSED (%d snapshot events)", n);
		if (ev.kind == MESH_CLIENT_EVENT_SNAPSHOT_END)
			break;
		struct want *x = want_find(w, nw, suffix(&ev, prefix));

		if (ev.kind != MESH_CLIENT_EVENT_CHANGE || !ev.snapshot)
			fail("after MISSED: %s (snapshot %d)", mesh_client_event_kind_name(ev.kind),
			     ev.snapshot);
		if (!any && (x == NULL || x->seen))
			fail("after MISSED: snapshot of %s", (char *)ev.key);
		if (x != NULL)
			x->seen = true;
		n++;
		mesh_client_event_free(&ev);
	}
	mesh_client_event_free(&ev);
	for (size_t i = 0; i < nw; i++)
		if (!w[i].seen)
			fail("after MISSED: %s%s not in the snapshot", prefix, w[i].key);
	printf("then a snapshot of %d keys and SNAPSHOT_END\n", n);
	mesh_client_watch_close(c, id);
	mesh_client_close(c);
	return 0;
}

/* ---- members */

static int
check_members(const char *peer, const char *ready, int secs)
{
	struct mesh_client_hello h;
	struct mesh_client *c = open_client(&h);
	struct mesh_client_event ev;
	uint64_t id;
	time_t end = time(NULL) + secs;
	bool joined = false, self = false;
	char killed[512];
	int ret, n = 0;

	snprintf(killed, sizeof(killed), "%s.killed", ready);

	ret = mesh_client_members_watch_open(c, true, &id);
	if (ret < 0)
		fail("members_watch_open: %s", strerror(-ret));
	while (time(NULL) < end) {
		const struct mesh_client_member *m;

		if (next(c, 1000, &ev) == -ETIMEDOUT)
			continue;
		m = ev.member;
		if (ev.kind != MESH_CLIENT_EVENT_MEMBER || m == NULL || ev.subscription != id)
			fail("members watch: a %s event", mesh_client_event_kind_name(ev.kind));
		printf("%s %s %s %s gen=%" PRIu64 " dropped=%" PRIu64 " meta=%.*s\n",
		       mesh_client_member_kind_name(ev.member_kind), m->name, m->status,
		       m->address, m->generation, ev.dropped, (int)m->metadata_len,
		       (const char *)m->metadata);
		fflush(stdout);
		if (n++ == 0) {
			if (ev.member_kind != MESH_CLIENT_MEMBER_JOIN || strcmp(m->name, h.node) != 0)
				fail("the snapshot does not start with JOIN of %s", h.node);
			self = true;
			FILE *f = fopen(ready, "w");
			if (f != NULL)
				fclose(f);
		}
		if (strcmp(m->name, peer) == 0) {
			if ((ev.member_kind == MESH_CLIENT_MEMBER_JOIN ||
			     ev.member_kind == MESH_CLIENT_MEMBER_ALIVE) &&
			    m->generation != 0 && m->address[0] != '\0')
				joined = true;
			/* a death before the script killed it (a false one, under load) is not
			 * the end: the METADATA events come later */
			if ((ev.member_kind == MESH_CLIENT_MEMBER_DEAD ||
			     ev.member_kind == MESH_CLIENT_MEMBER_LEFT) && joined &&
			    access(killed, F_OK) == 0) {
				mesh_client_event_free(&ev);
				mesh_client_watch_close(c, id);
				mesh_client_close(c);
				return 0;
			}
		}
		mesh_client_event_free(&ev);
	}
	fail("members watch: %s%s not seen joining then dead or left in %d s", self ? "" : "self, ",
	     peer, secs);
	return 1;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: %s snapshot|resume|missed|members SOCK ...\n",
			argv[0]);
		return 2;
	}
	sock_path = argv[2];
	if (strcmp(argv[1], "snapshot") == 0 && argc == 5)
		return check_snapshot(argv[3], argv[4]);
	if (strcmp(argv[1], "resume") == 0 && argc >= 5)
		return check_resume(argv[3], argv[4], argc - 5, argv + 5);
	if (strcmp(argv[1], "missed") == 0 && argc >= 7)
		return check_missed(argv[3], argv[4], strcmp(argv[5], "other-life") == 0,
				    argc - 6, argv + 6);
	if (strcmp(argv[1], "members") == 0 && argc == 6)
		return check_members(argv[3], argv[4], atoi(argv[5]));
	fprintf(stderr, "bad arguments\n");
	return 2;
}
