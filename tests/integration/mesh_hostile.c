/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mesh_hostile: the attacker of tests/integration/test_hostile.sh. It writes raw Ethernet
 * frames on an interface (AF_PACKET) with its own MAC unless told otherwise, and some
 * kinds also read the frames a bridge mirror copies to that interface:
 *
 *   mesh_hostile IFACE DSTMAC DSTIP SRCIP KIND COUNT [RATE] [KEY=VALUE]...
 *
 *   arp-grat   gratuitous ARP (requests and replies) claiming SRCIP at our MAC
 *   arp-reply  forged unsolicited replies to DSTIP: "SRCIP is at our MAC"
 *   arp-flood  requests and replies for DSTIP from random addresses and MACs
 *   sid        keyless-valid MSGS frames (xxh3) with random sender ids and junk payload
 *   hello      keyless-valid HELLO frames from SRCIP (a spoofed third party)
 *   junk       random bytes in a UDP datagram to the meshd port
 *   swim       one SWIM message per frame (options below): forged membership records,
 *              PING / PING_REQ / PUSH_PULL / ACK in anybody's name
 *   joiners    member flood: each frame a PUSH_PULL JOIN from a new random name at a
 *              random 10.99.128.0/17 address, sent from that address (a consistent forger)
 *   chan       channel records (CrdtBatch, CrdtBatch fragments, StreamBatch fragments
 *              of a large value) from a new random sender id per frame
 *   nack       StreamNack for fragments 0..255 of value key=K generation vgen=G
 *   ackspoof   for COUNT ms, in the name of member target=NAME at SRCIP: ACK every SWIM
 *              PING for it seen on IFACE (a bridge mirror), and ACK ahead every prober's
 *              next sequence numbers (learnt from any PING it sends; keyless frames only)
 *   relay      for COUNT ms: every meshd frame seen on IFACE from SRCIP to to=IP is sent
 *              again, unchanged, to DSTIP/DSTMAC (to=DSTIP: the same receiver again)
 *
 * Options: sid=ID|NAME:GEN|rand (frame sender id; default: the SWIM sender's own id
 * mesh_wire_node_id(name, sgen), for chan a new random id per frame), aead=1 (AEAD flag, key id
 * 1 and a random tag instead of the xxh3 trailer: no key, so it cannot authenticate),
 * name=NAME sgen=GEN (SWIM sender), type=gossip|ping|ping_req|ack|push_pull, flags=N,
 * seq=N seqstep=N (seq of frame k: seq + k * seqstep), target=NAME taddr=IP,
 * rec=STATUS:NAME:GEN:INC:IP[:FROM] (up to 8; STATUS alive|suspect|dead|left),
 * meta=N (metadata bytes per record), key=K vgen=G (nack), to=IP (relay).
 *
 * RATE caps frames per second (default 20000). Prints "sent=N" (and for the sniffing
 * kinds "seen=N"). Exit 0 unless the socket could not be opened or an argument is bad.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"
#include "mesh_wire.h"
#include "swim_internal.h"

#define CLUSTER 0x4d455348u
#define MESH_PORT 39527
#define MAX_RECS 8

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void __attribute__((noreturn))
bad(const char *what, const char *v)
{
	fprintf(stderr, "hostile: bad %s '%s'\n", what, v);
	exit(2);
}

static uint32_t
ip_of(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		bad("address", s);
	return ntohl(a.s_addr);
}

static void
mac_of(const char *s, uint8_t *mac)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		bad("MAC", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

/* options */
static struct {
	const char *sid;
	bool aead;
	const char *name;
	uint64_t sgen;
	uint8_t type;
	uint8_t flags;
	uint32_t seq, seqstep;
	const char *target;
	uint32_t taddr;
	unsigned n_rec;
	struct swim_rec rec[MAX_RECS];
	char rec_buf[MAX_RECS][160];
	uint16_t meta;
	const char *key;
	uint64_t vgen;
	uint32_t to;
} o = { .name = "evil", .sgen = 1, .type = SWIM_MSG_GOSSIP };

static uint64_t
sender_id(void)
{
	const char *colon;

	if (o.sid == NULL) /* the SWIM sender's own id: its blobs pass lib/node's check */
		return mesh_wire_node_id(o.name, o.sgen);
	if (strcmp(o.sid, "rand") == 0)
		return rnd() | 1;
	colon = strchr(o.sid, ':');
	if (colon != NULL) {
		char name[MESH_SWIM_NAME_MAX + 1];

		snprintf(name, sizeof(name), "%.*s", (int)(colon - o.sid), o.sid);
		return mesh_wire_node_id(name, strtoull(colon + 1, NULL, 0));
	}
	return strtoull(o.sid, NULL, 0);
}

static uint8_t
status_of(const char *s)
{
	static const char *const n[] = { "alive", "suspect", "dead", "left" };

	for (unsigned i = 0; i < 4; i++)
		if (strcmp(s, n[i]) == 0)
			return (uint8_t)(MESH_SWIM_ALIVE + i);
	bad("status", s);
}

/* rec=STATUS:NAME:GEN:INC:IP[:FROM] */
static void
rec_parse(const char *v)
{
	struct swim_rec *r;
	char *f[6], *save = NULL, *buf;
	unsigned n = 0;

	if (o.n_rec == MAX_RECS)
		bad("rec (too many)", v);
	buf = o.rec_buf[o.n_rec];
	snprintf(buf, sizeof(o.rec_buf[0]), "%s", v);
	for (char *t = strtok_r(buf, ":", &save); t != NULL && n < 6; t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	if (n < 5)
		bad("rec", v);
	r = &o.rec[o.n_rec++];
	memset(r, 0, sizeof(*r));
	r->status = status_of(f[0]);
	r->name = f[1];
	r->name_len = (uint8_t)strlen(f[1]);
	r->gen = strtoull(f[2], NULL, 0);
	r->inc = (uint32_t)strtoul(f[3], NULL, 0);
	r->addr.ip = ip_of(f[4]);
	r->addr.port = MESH_PORT;
	r->from = n > 5 ? f[5] : o.name;
	r->from_len = (uint8_t)strlen(r->from);
}

static void
opt_parse(const char *a)
{
	const char *v = strchr(a, '=');
	size_t k;

	if (v == NULL)
		bad("option", a);
	k = (size_t)(v - a);
	v++;
#define IS(s) (k == strlen(s) && strncmp(a, s, k) == 0)
	if (IS("sid")) {
		o.sid = v;
	} else if (IS("aead")) {
		o.aead = atoi(v) != 0;
	} else if (IS("name")) {
		o.name = v;
	} else if (IS("sgen")) {
		o.sgen = strtoull(v, NULL, 0);
	} else if (IS("type")) {
		static const char *const t[] = { "ping", "ping_req", "ack", "nack", "gossip",
						 "push_pull" };
		o.type = 0;
		for (unsigned i = 0; i < 6; i++)
			if (strcmp(v, t[i]) == 0)
				o.type = (uint8_t)(SWIM_MSG_PING + i);
		if (o.type == 0)
			bad("type", v);
	} else if (IS("flags")) {
		o.flags = (uint8_t)strtoul(v, NULL, 0);
	} else if (IS("seq")) {
		o.seq = (uint32_t)strtoul(v, NULL, 0);
	} else if (IS("seqstep")) {
		o.seqstep = (uint32_t)strtoul(v, NULL, 0);
	} else if (IS("target")) {
		o.target = v;
	} else if (IS("taddr")) {
		o.taddr = ip_of(v);
	} else if (IS("rec")) {
		rec_parse(v);
	} else if (IS("meta")) {
		o.meta = (uint16_t)atoi(v);
	} else if (IS("key")) {
		o.key = v;
	} else if (IS("vgen")) {
		o.vgen = strtoull(v, NULL, 0);
	} else if (IS("to")) {
		o.to = ip_of(v);
	} else {
		bad("option", a);
	}
#undef IS
}

/* a UDP frame to the meshd port carrying @len bytes already at f + MESH_NET_HDRS_LEN */
static size_t
udp(uint8_t *f, const uint8_t *own, const uint8_t *dmac, uint32_t sip, uint32_t dip,
    size_t len)
{
	return mesh_net_pkt_build_udp(f, own, dmac, sip, dip, MESH_PORT, MESH_PORT, len,
				      (uint16_t)rnd());
}

/* Seal the @len payload bytes already at the frame's payload: xxh3 (valid keyless), or
 * with aead=1 the AEAD flag, key id 1 and a random tag (never valid). */
static size_t
seal(uint8_t *f, const uint8_t *own, const uint8_t *dmac, uint32_t sip, uint32_t dip,
     uint8_t type, uint64_t sender, size_t len)
{
	uint8_t *w = f + MESH_NET_HDRS_LEN;
	struct mesh_wire_hdr h = {
		.type = type, .length = (uint16_t)len, .cluster_id = CLUSTER, .sender_id = sender,
		.seq = (rnd() & 0xffffff) + 1,
	};

	if (o.aead) {
		h.version = MESH_WIRE_VERSION;
		h.flags = MESH_WIRE_F_AEAD;
		h.key_id = 1;
		mesh_wire_hdr_encode(w, &h);
		for (size_t i = 0; i < MESH_WIRE_TAG_LEN; i++)
			w[MESH_WIRE_HDR_LEN + len + i] = (uint8_t)rnd();
		return udp(f, own, dmac, sip, dip, mesh_wire_frame_size(len, MESH_WIRE_F_AEAD));
	}
	return udp(f, own, dmac, sip, dip, mesh_wire_frame_seal_csum(w, 2048, &h));
}

static size_t
sealed(uint8_t *f, const uint8_t *own, const uint8_t *dmac, uint32_t sip, uint32_t dip,
       uint8_t type, uint64_t sender, uint16_t len)
{
	uint8_t *pl = mesh_wire_frame_payload(f + MESH_NET_HDRS_LEN);

	for (uint16_t i = 0; i < len; i++)
		pl[i] = (uint8_t)rnd();
	return seal(f, own, dmac, sip, dip, type, sender, len);
}

static void
rand_name(char *buf, size_t cap)
{
	snprintf(buf, cap, "forged-%016llx", (unsigned long long)rnd());
}

/* One SWIM message as a one-record MSGS payload at @pl; returns the payload length. */
static size_t
swim_payload(uint8_t *pl, size_t cap, uint8_t type, uint8_t flags, const char *name,
	     uint64_t gen, uint32_t seq, const struct swim_rec *recs, unsigned n)
{
	static uint8_t meta[MESH_SWIM_META_MAX];
	struct mesh_swim_addr ta = { o.taddr, MESH_PORT };
	struct mesh_wire_msgw w;
	struct swim_enc e;
	size_t room, len;
	uint8_t *b;

	mesh_wire_msgw_init(&w, pl, cap);
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_SWIM, &room);
	if (b == NULL)
		return 0;
	swim_enc_begin(&e, b, room > 1420 ? 1420 : room, type, flags, name, strlen(name), gen,
		       seq, o.target ? o.target : name, strlen(o.target ? o.target : name), &ta);
	for (unsigned i = 0; i < n; i++) {
		struct swim_rec r = recs[i];

		r.meta = o.meta ? meta : NULL;
		r.meta_len = o.meta;
		swim_enc_rec(&e, &r, 1420);
	}
	len = swim_enc_end(&e);
	if (len == 0)
		return 0;
	mesh_wire_msgw_end(&w, len);
	return w.len;
}

/* Channel records from a random sender: a CrdtBatch with one op, a fragment of a huge
 * CrdtBatch op, and fragments of a large stream value (the state a sender id costs). */
static size_t
chan_payload(uint8_t *pl, size_t cap)
{
	static uint8_t data[600];
	struct mesh_wire_msgw w;
	char key[40];
	struct mesh_wire_crdt_op op = { 0 };
	struct mesh_wire_stream_entry se = { 0 };
	size_t room, len;
	uint8_t *b;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rnd();
	snprintf(key, sizeof(key), "worker:forged-%llx", (unsigned long long)(rnd() & 0xfffff));
	mesh_wire_msgw_init(&w, pl, cap);
	/* CrdtBatch: one op */
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_CRDT_BATCH, &room);
	len = 0;
	op.key = (struct mesh_wire_slice){ (const uint8_t *)key, strlen(key) };
	op.value = (struct mesh_wire_slice){ data, 64 };
	op.replica_id = (struct mesh_wire_slice){ data + 64, 8 };
	op.timestamp = rnd() >> 1;
	if (b != NULL && mesh_wire_crdt_batch_put_op(b, room, &len, &op) == 0 &&
	    mesh_wire_crdt_batch_put_hdr(b, room, &len, 1 + rnd() % 64, 1 + rnd() % 4) == 0)
		mesh_wire_msgw_end(&w, len);
	/* CrdtBatch fragment 0 of a 1000-fragment op */
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_CRDT_BATCH, &room);
	len = 0;
	if (b != NULL && mesh_wire_crdt_batch_put_hdr(b, room, &len, 1 + rnd() % 64, 1) == 0 &&
	    mesh_wire_crdt_batch_put_frag(b, room, &len, (uint32_t)(rnd() % 8), 1000, data, 300) == 0)
		mesh_wire_msgw_end(&w, len);
	/* StreamBatch: a fragment of a 4096-fragment value under a broadcast prefix */
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_STREAM_BATCH, &room);
	len = 0;
	snprintf(key, sizeof(key), "td:forged-%llx", (unsigned long long)(rnd() & 0xffff));
	se.key = (struct mesh_wire_slice){ (const uint8_t *)key, strlen(key) };
	se.data = (struct mesh_wire_slice){ data, 400 };
	se.generation = 1 + rnd() % 1000;
	se.chunk_index = (uint32_t)(rnd() % 4096);
	se.total_chunks = 4096;
	if (b != NULL && mesh_wire_stream_batch_put(b, room, &len, &se) == 0)
		mesh_wire_msgw_end(&w, len);
	return w.len;
}

static size_t
nack_payload(uint8_t *pl, size_t cap)
{
	static uint32_t missing[256];
	struct mesh_wire_stream_nack nk = { 0 };
	struct mesh_wire_msgw w;
	size_t room;
	uint8_t *b;
	int len;

	for (uint32_t i = 0; i < 256; i++)
		missing[i] = i;
	nk.key = (struct mesh_wire_slice){ (const uint8_t *)o.key, strlen(o.key) };
	nk.generation = o.vgen;
	nk.n_missing = 256;
	nk.missing = missing;
	mesh_wire_msgw_init(&w, pl, cap);
	b = mesh_wire_msgw_begin(&w, MESH_WIRE_KIND_STREAM_NACK, &room);
	if (b == NULL || (len = mesh_wire_stream_nack_encode(b, room, &nk)) < 0)
		return 0;
	mesh_wire_msgw_end(&w, (size_t)len);
	return w.len;
}

/* A received Ethernet frame: the meshd frame in it (NULL if none), its IPs and MAC. */
static const uint8_t *
meshd_frame(const uint8_t *f, size_t n, uint32_t *sip, uint32_t *dip, const uint8_t **smac,
	    size_t *len)
{
	size_t ihl, ulen;

	if (n < MESH_NET_HDRS_LEN || f[12] != 0x08 || f[13] != 0x00)
		return NULL;
	ihl = (size_t)(f[14] & 0x0f) * 4;
	if (f[23] != MESH_NET_IPPROTO_UDP || n < 14 + ihl + 8)
		return NULL;
	if (((f[14 + ihl + 2] << 8) | f[14 + ihl + 3]) != MESH_PORT)
		return NULL;
	ulen = (size_t)((f[14 + ihl + 4] << 8) | f[14 + ihl + 5]);
	if (ulen < 8 || 14 + ihl + ulen > n)
		return NULL;
	*sip = ((uint32_t)f[26] << 24) | ((uint32_t)f[27] << 16) | ((uint32_t)f[28] << 8) | f[29];
	*dip = ((uint32_t)f[30] << 24) | ((uint32_t)f[31] << 16) | ((uint32_t)f[32] << 8) | f[33];
	*smac = f + 6;
	*len = ulen - 8;
	return f + 14 + ihl + 8;
}

/* A keyless SWIM PING in meshd frame @w: its seq (or -1) and whether its target is
 * @target. */
static int64_t
ping_seq(const uint8_t *w, size_t len, const char *target, bool *for_target)
{
	static struct swim_rec recs[SWIM_MAX_RECORDS];
	struct mesh_wire_hdr h;
	struct mesh_wire_msgr r;
	struct mesh_wire_slice body;
	struct swim_msg m = { .rec = recs, .rec_cap = SWIM_MAX_RECORDS };
	uint8_t kind;

	*for_target = false;
	if (mesh_wire_frame_open_csum(w, len, 0, &h) != MESH_WIRE_OK ||
	    h.type != MESH_WIRE_TYPE_MSGS)
		return -1;
	mesh_wire_msgr_init(&r, w + MESH_WIRE_HDR_LEN, h.length);
	while (mesh_wire_msgr_next(&r, &kind, &body) == 1) {
		if (kind != MESH_WIRE_KIND_SWIM ||
		    swim_msg_decode(body.p, body.len, MESH_SWIM_META_MAX, &m) != SWIM_DEC_OK)
			continue;
		if (m.type == SWIM_MSG_PING) {
			*for_target = m.target_len == strlen(target) &&
				      memcmp(m.target, target, m.target_len) == 0;
			return m.seq;
		}
	}
	return -1;
}

static long long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* An ACK in the victim's (@sip, o.target) name for @seq to @pip/@pmac. */
static size_t
ack_frame(uint8_t *f, const uint8_t *own, const uint8_t *pmac, uint32_t sip, uint32_t pip,
	  uint64_t sid, uint32_t seq)
{
	size_t n = swim_payload(mesh_wire_frame_payload(f + MESH_NET_HDRS_LEN), 1472,
				SWIM_MSG_ACK, 0, o.target, o.sgen, seq, NULL, 0);

	return n ? seal(f, own, pmac, sip, pip, MESH_WIRE_TYPE_MSGS, sid, n) : 0;
}

/*
 * The kinds that read the mirror on @fd for @ms milliseconds.
 * ackspoof: every PING seen (keyless) tells its sender's probe sequence; a PING for the
 * victim is ACKed at once in the victim's name, and every millisecond each prober gets
 * ACKs for its next ACK_AHEAD sequence numbers, so a probe that starts finds its ACK
 * already on the way. relay: frames from @sip to o.to go again to @dip/@dmac.
 */
#define ACK_AHEAD 4
#define MAX_PROBERS 8
static int
sniff(int fd, struct sockaddr_ll *to, const uint8_t *own, const uint8_t *dmac, uint32_t dip,
      uint32_t sip, bool ack, long ms)
{
	static uint8_t f[4096], in[65536];
	struct sockaddr_ll bind_to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				       .sll_ifindex = to->sll_ifindex };
	struct {
		uint32_t ip;
		uint8_t mac[6];
		uint32_t seq;
	} pr[MAX_PROBERS];
	unsigned n_pr = 0;
	struct timespec t0;
	long long last_spray = -1;
	long seen = 0, sent = 0, ahead = 0;
	uint64_t sid = sender_id();

	if (bind(fd, (struct sockaddr *)&bind_to, sizeof(bind_to)) < 0) {
		perror("hostile: bind");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long long now; (now = ms_since(&t0)) < ms;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		const uint8_t *w, *smac;
		uint32_t fs, fdip;
		size_t wl, n = 0;
		ssize_t got;

		if (ack && now != last_spray) {
			last_spray = now;
			for (unsigned i = 0; i < n_pr; i++)
				for (uint32_t q = 1; q <= ACK_AHEAD; q++) {
					n = ack_frame(f, own, pr[i].mac, sip, pr[i].ip, sid,
						      pr[i].seq + q);
					memcpy(to->sll_addr, f, 6);
					if (n > 0 && sendto(fd, f, n, 0, (struct sockaddr *)to,
							    sizeof(*to)) == (ssize_t)n)
						ahead++;
				}
		}
		if (poll(&pfd, 1, ack ? 1 : 50) <= 0)
			continue;
		got = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (got <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		w = meshd_frame(in, (size_t)got, &fs, &fdip, &smac, &wl);
		if (w == NULL)
			continue;
		if (ack) {
			bool victim;
			int64_t q = ping_seq(w, wl, o.target, &victim);
			unsigned i;

			if (q < 0 || fs == sip)
				continue;
			for (i = 0; i < n_pr && pr[i].ip != fs; i++)
				;
			if (i == n_pr && n_pr < MAX_PROBERS) {
				pr[n_pr].ip = fs;
				memcpy(pr[n_pr++].mac, smac, 6);
			}
			if (i < n_pr && (int32_t)((uint32_t)q - pr[i].seq) > 0)
				pr[i].seq = (uint32_t)q;
			if (!victim || fdip != sip)
				continue;
			seen++;
			n = ack_frame(f, own, smac, sip, fs, sid, (uint32_t)q);
		} else {
			if (fs != sip || fdip != o.to || wl + MESH_NET_HDRS_LEN > sizeof(f))
				continue;
			seen++;
			memcpy(f + MESH_NET_HDRS_LEN, w, wl);
			n = udp(f, own, dmac, sip, dip, wl);
		}
		memcpy(to->sll_addr, f, 6);
		if (n > 0 && sendto(fd, f, n, 0, (struct sockaddr *)to, sizeof(*to)) == (ssize_t)n)
			sent++;
	}
	if (ack)
		printf("seen=%ld sent=%ld ahead=%ld probers=%u\n", seen, sent, ahead, n_pr);
	else
		printf("seen=%ld sent=%ld\n", seen, sent);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static uint8_t f[4096];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct ifreq ifr = { 0 };
	uint8_t own[6], dmac[6], rmac[6];
	uint32_t dip, sip;
	long count, rate, sent = 0;
	const char *kind;
	int fd;

	if (argc < 7) {
		fprintf(stderr, "usage: mesh_hostile IFACE DSTMAC DSTIP SRCIP KIND COUNT [RATE] "
				"[KEY=VALUE]...\n");
		return 2;
	}
	mac_of(argv[2], dmac);
	dip = ip_of(argv[3]);
	sip = ip_of(argv[4]);
	kind = argv[5];
	count = atol(argv[6]);
	rate = argc > 7 ? atol(argv[7]) : 20000;
	for (int i = 8; i < argc; i++)
		opt_parse(argv[i]);
	if (strcmp(kind, "nack") == 0 && o.key == NULL)
		bad("nack without", "key=");
	if (strcmp(kind, "ackspoof") == 0 && o.target == NULL)
		bad("ackspoof without", "target=");
	rng ^= (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("hostile: socket");
		return 2;
	}
	memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
	to.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (strcmp(kind, "ackspoof") == 0 || strcmp(kind, "relay") == 0)
		return sniff(fd, &to, own, dmac, dip, sip, strcmp(kind, "ackspoof") == 0, count);
	for (long k = 0; k < count; k++) {
		uint8_t *pl = mesh_wire_frame_payload(f + MESH_NET_HDRS_LEN);
		size_t n = 0;

		if (strcmp(kind, "arp-grat") == 0) {
			uint16_t op = (k & 1) ? MESH_NET_ARP_OP_REPLY : MESH_NET_ARP_OP_REQUEST;
			n = mesh_net_pkt_build_arp(f, op, own, bcast, own, sip, NULL, sip);
		} else if (strcmp(kind, "arp-reply") == 0) {
			n = mesh_net_pkt_build_arp(f, MESH_NET_ARP_OP_REPLY, own, dmac, own, sip, dmac,
						   dip);
		} else if (strcmp(kind, "arp-flood") == 0) {
			uint32_t rip = 0x0a000000u | ((uint32_t)rnd() & 0xffffff);
			uint16_t op = (k & 1) ? MESH_NET_ARP_OP_REPLY : MESH_NET_ARP_OP_REQUEST;
			uint64_t r = rnd();
			memcpy(rmac, &r, 6);
			rmac[0] = (uint8_t)((rmac[0] & 0xfe) | 2);
			n = mesh_net_pkt_build_arp(f, op, rmac, op == MESH_NET_ARP_OP_REPLY ? dmac : bcast,
						   rmac, rip, op == MESH_NET_ARP_OP_REPLY ? dmac : NULL,
						   dip);
		} else if (strcmp(kind, "sid") == 0) {
			n = sealed(f, own, dmac, sip, dip, MESH_WIRE_TYPE_MSGS, rnd() | 1,
				   (uint16_t)(16 + rnd() % 200));
		} else if (strcmp(kind, "hello") == 0) {
			n = sealed(f, own, dmac, sip, dip, MESH_WIRE_TYPE_HELLO, rnd() | 1, 8);
		} else if (strcmp(kind, "junk") == 0) {
			size_t len = 1 + rnd() % 1400;
			for (size_t i = 0; i < len; i++)
				f[MESH_NET_HDRS_LEN + i] = (uint8_t)rnd();
			n = udp(f, own, dmac, sip, dip, len);
		} else if (strcmp(kind, "swim") == 0) {
			n = swim_payload(pl, 1472, o.type, o.flags, o.name, o.sgen,
					 o.seq + (uint32_t)k * o.seqstep, o.rec, o.n_rec);
			n = n ? seal(f, own, dmac, sip, dip, MESH_WIRE_TYPE_MSGS, sender_id(), n) : 0;
		} else if (strcmp(kind, "joiners") == 0) {
			char name[32];
			struct swim_rec r = { .status = MESH_SWIM_ALIVE, .gen = 1 + rnd() % 1000,
					      .addr = { 0x0a638000u | ((uint32_t)rnd() & 0x7fff),
							MESH_PORT } };

			rand_name(name, sizeof(name));
			r.name = name;
			r.name_len = (uint8_t)strlen(name);
			n = swim_payload(pl, 1472, SWIM_MSG_PUSH_PULL, o.flags | SWIM_F_PP_JOIN, name,
					 r.gen, 0, &r, 1);
			n = n ? seal(f, own, dmac, r.addr.ip, dip, MESH_WIRE_TYPE_MSGS,
				     mesh_wire_node_id(name, r.gen), n)
			      : 0;
		} else if (strcmp(kind, "chan") == 0) {
			n = chan_payload(pl, 1400);
			n = seal(f, own, dmac, sip, dip, MESH_WIRE_TYPE_MSGS,
				 o.sid ? sender_id() : rnd() | 1, n);
		} else if (strcmp(kind, "nack") == 0) {
			n = nack_payload(pl, 1400);
			n = n ? seal(f, own, dmac, sip, dip, MESH_WIRE_TYPE_MSGS, sender_id(), n) : 0;
		} else {
			fprintf(stderr, "hostile: unknown kind %s\n", kind);
			return 2;
		}
		if (n == 0) {
			fprintf(stderr, "hostile: %s: nothing to send (message too large?)\n", kind);
			return 2;
		}
		memcpy(to.sll_addr, f, 6);
		if (sendto(fd, f, n, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)n)
			sent++;
		if (rate > 0 && k % 64 == 63) {
			long long ns = 64 * 1000000000LL / rate;
			struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
			nanosleep(&ts, NULL);
		}
	}
	printf("sent=%ld\n", sent);
	close(fd);
	return 0;
}
