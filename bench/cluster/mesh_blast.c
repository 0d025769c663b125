/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_blast: a saturating writer for the client protocol version 2. It speaks the
 * protocol directly with protobuf-c (no libmeshclient): --conns connections to one
 * node's control socket, one thread each; every thread keeps --inflight BatchReqs of
 * --batch puts in flight, matched to their replies by id. A request or op refused with
 * -EBUSY (the merge core's ring was full) is sent again after a short pause and counted
 * in "busy"; any other refusal counts in "errors". Keys are PREFIX<thread>-<seq>, values
 * --value-bytes long; --count puts in all. Prints one JSON object: ops (puts accepted),
 * errors, busy, seconds (first send to last reply), ops_per_s, the batch round trips
 * (p50/p99 ms) and the writer's own CPU seconds (getrusage). --rate R paces the batches
 * so that all connections together offer about R puts/s (a sustained load, not a burst).
 *
 *   mesh_blast [--conns C] [--batch B] [--inflight W] [--value-bytes V] [--count N]
 *              [--prefix P] [--timeout S] [--rate R] SOCKET
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.pb-c.h"

#define BLAST_MAX_MSG (256 * 1024) /* MESH_CLIENT_MAX_MSG */
#define BLAST_MAX_BATCH 4096
#define BLAST_MAX_INFLIGHT 256
#define BLAST_KEY_MAX 64
#define BLAST_BUSY_PAUSE_US 200

struct blast_opts {
	unsigned conns, batch, inflight, value_bytes, timeout_s;
	uint64_t count;
	double rate; /* puts/s over all connections; 0 = as fast as the node takes them */
	const char *prefix, *sock;
};

/* One batch in flight: which key numbers it carries (to resend refused ones). */
struct blast_slot {
	uint64_t id;
	uint64_t sent_ns;
	unsigned n;
	uint64_t *seq;
};

struct blast_thread {
	const struct blast_opts *o;
	unsigned idx;
	pthread_t tid;
	uint64_t todo;    /* puts this thread owns */
	uint64_t next;    /* next fresh key number */
	uint64_t *retry;  /* key numbers refused with -EBUSY, to send again */
	uint64_t n_retry;
	uint64_t ok, errors, busy, first_err;
	uint64_t *rtt_ns; /* one per batch reply */
	uint64_t n_rtt, cap_rtt;
	int failed;
	char err[128];
};

static pthread_barrier_t start_barrier;
static uint64_t t_start_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
blast_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
blast_send(int fd, const Mesh__Client__Request *req, uint8_t *buf)
{
	size_t len = mesh__client__request__get_packed_size(req);

	if (len > BLAST_MAX_MSG)
		return -EMSGSIZE;
	mesh__client__request__pack(req, buf);
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	return 0;
}

/* Receive one Response within @timeout_ms; NULL on timeout or error (errno). */
static Mesh__Client__Response *
blast_recv(int fd, uint8_t *buf, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		errno = r == 0 ? ETIMEDOUT : errno;
		return NULL;
	}
	n = recv(fd, buf, BLAST_MAX_MSG, 0);
	if (n <= 0) {
		errno = n == 0 ? ECONNRESET : errno;
		return NULL;
	}
	return mesh__client__response__unpack(NULL, (size_t)n, buf);
}

static void
rtt_add(struct blast_thread *t, uint64_t ns)
{
	if (t->n_rtt == t->cap_rtt) {
		uint64_t cap = t->cap_rtt ? t->cap_rtt * 2 : 1024;
		uint64_t *p = realloc(t->rtt_ns, cap * sizeof(*p));

		if (p == NULL)
			return;
		t->rtt_ns = p;
		t->cap_rtt = cap;
	}
	t->rtt_ns[t->n_rtt++] = ns;
}

/* Fill @s with up to batch key numbers (refused ones first); 0 when nothing is left. */
static unsigned
slot_fill(struct blast_thread *t, struct blast_slot *s)
{
	unsigned n = 0;

	while (n < t->o->batch && t->n_retry > 0)
		s->seq[n++] = t->retry[--t->n_retry];
	while (n < t->o->batch && t->next < t->todo)
		s->seq[n++] = t->next++;
	s->n = n;
	return n;
}

static int
slot_send(struct blast_thread *t, int fd, struct blast_slot *s, uint64_t id, uint8_t *buf,
	  Mesh__Client__BatchOp *ops, Mesh__Client__BatchOp **opp, char (*keys)[BLAST_KEY_MAX],
	  uint8_t *value)
{
	Mesh__Client__Request req = MESH__CLIENT__REQUEST__INIT;
	Mesh__Client__BatchReq br = MESH__CLIENT__BATCH_REQ__INIT;

	for (unsigned i = 0; i < s->n; i++) {
		int kl = snprintf(keys[i], BLAST_KEY_MAX, "%s%u-%" PRIu64, t->o->prefix, t->idx,
				  s->seq[i]);

		mesh__client__batch_op__init(&ops[i]);
		ops[i].kind = MESH__CLIENT__BATCH_OP__KIND__PUT;
		ops[i].key.data = (uint8_t *)keys[i];
		ops[i].key.len = (size_t)kl;
		ops[i].value.data = value;
		ops[i].value.len = t->o->value_bytes;
		opp[i] = &ops[i];
	}
	br.n_ops = s->n;
	br.ops = opp;
	req.id = id;
	req.op_case = MESH__CLIENT__REQUEST__OP_BATCH;
	req.batch = &br;
	s->id = id;
	s->sent_ns = now_ns();
	return blast_send(fd, &req, buf);
}

/* Account one reply to slot @s; refused-with-EBUSY ops go back to the retry list. */
static void
slot_done(struct blast_thread *t, struct blast_slot *s, const Mesh__Client__Response *r)
{
	rtt_add(t, now_ns() - s->sent_ns);
	if (r->status == -EBUSY || r->status == -ENOBUFS) { /* the whole request refused */
		t->busy += s->n;
		for (unsigned i = 0; i < s->n; i++)
			t->retry[t->n_retry++] = s->seq[i];
		return;
	}
	if (r->status != 0 || r->result_case != MESH__CLIENT__RESPONSE__RESULT_BATCH ||
	    r->batch->n_results != s->n) {
		if (t->errors == 0)
			snprintf(t->err, sizeof(t->err), "status %d: %s", r->status,
				 r->error ? r->error : "");
		t->errors += s->n;
		return;
	}
	for (unsigned i = 0; i < s->n; i++) {
		int32_t st = r->batch->results[i]->status;

		if (st == 0) {
			t->ok++;
		} else if (st == -EBUSY || st == -ENOBUFS) {
			t->busy++;
			t->retry[t->n_retry++] = s->seq[i];
		} else {
			if (t->errors == 0)
				snprintf(t->err, sizeof(t->err), "op status %d", st);
			t->errors++;
		}
	}
}

static void *
blast_run(void *arg)
{
	struct blast_thread *t = arg;
	const struct blast_opts *o = t->o;
	uint8_t *buf = malloc(BLAST_MAX_MSG), *value = malloc(o->value_bytes + 1);
	Mesh__Client__BatchOp *ops = calloc(o->batch, sizeof(*ops));
	Mesh__Client__BatchOp **opp = calloc(o->batch, sizeof(*opp));
	char(*keys)[BLAST_KEY_MAX] = calloc(o->batch, BLAST_KEY_MAX);
	struct blast_slot slots[BLAST_MAX_INFLIGHT];
	unsigned in_flight = 0;
	uint64_t next_id = 1;
	int fd = blast_connect(o->sock);

	memset(slots, 0, sizeof(slots));
	t->retry = calloc(o->batch * (uint64_t)o->inflight, sizeof(uint64_t));
	for (unsigned i = 0; i < o->inflight; i++)
		slots[i].seq = calloc(o->batch, sizeof(uint64_t));
	if (value)
		memset(value, 'v', o->value_bytes);
	pthread_barrier_wait(&start_barrier);
	if (fd < 0 || !buf || !value || !ops || !opp || !keys || !t->retry) {
		snprintf(t->err, sizeof(t->err), "setup: %s", strerror(errno));
		t->failed = 1;
		goto out;
	}
	for (;;) {
		Mesh__Client__Response *r;
		int pause = 0, wait_ms = -1;

		/* keep the window full */
		while (in_flight < o->inflight) {
			struct blast_slot *s = NULL;
			int rc;

			for (unsigned i = 0; i < o->inflight; i++)
				if (slots[i].id == 0) {
					s = &slots[i];
					break;
				}
			if (s == NULL)
				break;
			if (o->rate > 0 && t->n_retry == 0 && t->next < t->todo) {
				/* pace: a batch leaves when its first put is due at this thread's
				 * share of the rate; meanwhile read replies (no false round trips) */
				double due = (double)t->next * o->conns / o->rate * 1e9;
				double el = (double)(now_ns() - t_start_ns);

				if (due > el && in_flight > 0) {
					wait_ms = (int)((due - el) / 1e6) + 1;
					break;
				}
				if (due > el)
					usleep((useconds_t)((due - el) / 1000));
			}
			if (slot_fill(t, s) == 0)
				break;
			rc = slot_send(t, fd, s, next_id++, buf, ops, opp, keys, value);
			if (rc < 0) {
				snprintf(t->err, sizeof(t->err), "send: %s", strerror(-rc));
				t->failed = 1;
				goto out;
			}
			in_flight++;
		}
		if (in_flight == 0)
			break; /* everything sent and answered */
		r = blast_recv(fd, buf, wait_ms >= 0 ? wait_ms : (int)o->timeout_s * 1000);
		if (r == NULL && wait_ms >= 0 && errno == ETIMEDOUT)
			continue; /* the next paced batch is due */
		if (r == NULL) {
			snprintf(t->err, sizeof(t->err), "recv: %s", strerror(errno));
			t->failed = 1;
			goto out;
		}
		for (unsigned i = 0; r->id != 0 && i < o->inflight; i++) {
			if (slots[i].id != r->id)
				continue;
			pause = r->status == -EBUSY || r->status == -ENOBUFS;
			slot_done(t, &slots[i], r);
			pause |= t->n_retry > 0;
			slots[i].id = 0;
			in_flight--;
			break;
		}
		mesh__client__response__free_unpacked(r, NULL);
		if (pause)
			usleep(BLAST_BUSY_PAUSE_US);
	}
out:
	if (fd >= 0)
		close(fd);
	for (unsigned i = 0; i < o->inflight; i++)
		free(slots[i].seq);
	free(buf);
	free(value);
	free(ops);
	free(opp);
	free(keys);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mesh_blast [--conns C] [--batch B] [--inflight W] "
			"[--value-bytes V] [--count N] [--prefix P] [--timeout S] [--rate R] "
			"SOCKET\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "inflight", required_argument, NULL, 'w' },
		{ "value-bytes", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct blast_opts o = { .conns = 1, .batch = 1024, .inflight = 4, .value_bytes = 16,
				.timeout_s = 10, .count = 100000, .prefix = "worker:blast/" };
	struct blast_thread *th;
	uint64_t ok = 0, errors = 0, busy = 0, n_rtt = 0, *rtt, t_end;
	struct rusage ru;
	double secs, cpu;
	int opt, failed = 0;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': o.conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o.inflight = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'v': o.value_bytes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.count = strtoull(optarg, NULL, 10); break;
		case 'p': o.prefix = optarg; break;
		case 't': o.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || o.conns == 0 || o.conns > 256 || o.batch == 0 ||
	    o.batch > BLAST_MAX_BATCH || o.inflight == 0 || o.inflight > BLAST_MAX_INFLIGHT ||
	    o.timeout_s == 0 || strlen(o.prefix) > BLAST_KEY_MAX - 32) {
		usage();
		return 2;
	}
	o.sock = argv[optind];
	th = calloc(o.conns, sizeof(*th));
	if (th == NULL)
		return 1;
	pthread_barrier_init(&start_barrier, NULL, o.conns + 1);
	for (unsigned i = 0; i < o.conns; i++) {
		th[i].o = &o;
		th[i].idx = i;
		th[i].todo = o.count / o.conns + (i < o.count % o.conns);
		if (pthread_create(&th[i].tid, NULL, blast_run, &th[i]) != 0) {
			fprintf(stderr, "mesh_blast: pthread_create failed\n");
			return 1;
		}
	}
	t_start_ns = now_ns(); /* published to the threads by the barrier */
	pthread_barrier_wait(&start_barrier);
	for (unsigned i = 0; i < o.conns; i++)
		pthread_join(th[i].tid, NULL);
	t_end = now_ns();
	for (unsigned i = 0; i < o.conns; i++) {
		ok += th[i].ok;
		errors += th[i].errors;
		busy += th[i].busy;
		n_rtt += th[i].n_rtt;
		if (th[i].failed || th[i].errors)
			fprintf(stderr, "mesh_blast: conn %u: %s\n", i, th[i].err);
		failed |= th[i].failed;
	}
	rtt = calloc(n_rtt + 1, sizeof(*rtt));
	n_rtt = 0;
	for (unsigned i = 0; rtt && i < o.conns; i++) {
		memcpy(rtt + n_rtt, th[i].rtt_ns, th[i].n_rtt * sizeof(*rtt));
		n_rtt += th[i].n_rtt;
	}
	if (rtt)
		qsort(rtt, n_rtt, sizeof(*rtt), cmp_u64);
	getrusage(RUSAGE_SELF, &ru);
	secs = (double)(t_end - t_start_ns) / 1e9;
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	printf("{\"rate\": %.0f, \"conns\": %u, \"batch\": %u, \"inflight\": %u, \"value_bytes\": %u, "
	       "\"count\": %" PRIu64 ", \"ops\": %" PRIu64 ", \"errors\": %" PRIu64
	       ", \"busy\": %" PRIu64 ", \"failed\": %d, \"seconds\": %.4f, \"ops_per_s\": %.0f, "
	       "\"batches\": %" PRIu64 ", \"batch_rtt_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
	       "\"writer_cpu_s\": %.4f}\n",
	       o.rate, o.conns, o.batch, o.inflight, o.value_bytes, o.count, ok, errors, busy, failed,
	       secs, secs > 0 ? (double)ok / secs : 0.0, n_rtt,
	       n_rtt && rtt ? rtt[n_rtt / 2] / 1e6 : 0.0,
	       n_rtt && rtt ? rtt[(n_rtt * 99) / 100] / 1e6 : 0.0, cpu);
	for (unsigned i = 0; i < o.conns; i++) {
		free(th[i].rtt_ns);
		free(th[i].retry);
	}
	free(rtt);
	free(th);
	return failed ? 1 : 0;
}
