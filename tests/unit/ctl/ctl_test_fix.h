/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ctl codec tests' fixture: a control context with one client slot whose socket's
 * other end the test reads replies from. Include once per test, after ctl_internal.h.
 */
#ifndef CTL_TEST_FIX_H
#define CTL_TEST_FIX_H

static const char *names[MESH_CTL_CTR_MAX];

struct fix {
	struct mesh_ctl *c;
	int peer;
};

static struct fix
fix_new(void)
{
	struct fix f;
	int sv[2];

	for (unsigned i = 0; i < MESH_CTL_CTR_MAX; i++)
		names[i] = "x";
	f.c = calloc(1, sizeof(*f.c));
	assert_non_null(f.c);
	assert_int_equal(mesh_counters_create(&f.c->ctr, names, names, MESH_CTL_CTR_MAX, 3), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		f.c->clients[i].fd = -1;
	f.c->clients[0].fd = sv[0];
	f.c->clients[0].gen = 5;
	f.c->out_max = 1 << 20;
	f.c->total_max = 1 << 24;
	f.peer = sv[1];
	return f;
}

static void
fix_delete(struct fix *f)
{
	close(f->c->clients[0].fd);
	close(f->peer);
	mesh_counters_destroy(&f->c->ctr);
	free(f->c);
}

static Mesh__Client__Response *
recv_resp(struct fix *f)
{
	uint8_t buf[65536];
	ssize_t n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT);

	assert_true(n > 0);
	return mesh__client__response__unpack(NULL, (size_t)n, buf);

#endif /* CTL_TEST_FIX_H */
