/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll pacing. Busy mode never sleeps (dedicated cores). Backoff mode spins for a few
 * empty polls, then sleeps with exponential growth up to a cap, so several pollers can
 * share two CPUs (busy pollers sharing a core raise RTT from 5 us to 8 ms; see
 * doc/architecture.md). Any received packet returns the poller to spinning. A caller
 * with a deadline (the rx fault injection's next release) caps the sleep at it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "mesh_net.h"

#define SPIN_POLLS 64
#define MIN_SLEEP_US 10

void
mesh_net_backoff_init(struct mesh_net_backoff *b, enum mesh_net_poll_mode mode,
		      uint32_t max_us)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->spin = SPIN_POLLS;
	b->min_us = MIN_SLEEP_US;
	b->max_us = max_us < MIN_SLEEP_US ? MIN_SLEEP_US : max_us;
	b->cur_us = b->min_us;
}

void
mesh_net_backoff_poll(struct mesh_net_backoff *b, unsigned n)
{
	mesh_net_backoff_poll_until(b, n, 0, UINT64_MAX);
}

void
mesh_net_backoff_poll_until(struct mesh_net_backoff *b, unsigned n, uint64_t now_ns,
			    uint64_t wake_ns)
{
	struct timespec ts;
	uint32_t sleep_us;

	b->polls++;
	if (n > 0) {
		b->busy_polls++;
		b->empty = 0;
		b->cur_us = b->min_us;
		return;
	}
	if (b->mode == MESH_NET_POLL_BUSY || ++b->empty < b->spin)
		return;
	sleep_us = b->cur_us;
	if (wake_ns != UINT64_MAX) {
		/* something is due (a delayed frame): never sleep past it */
		if (wake_ns <= now_ns)
			return;
		if ((wake_ns - now_ns + 999) / 1000 < sleep_us)
			sleep_us = (uint32_t)((wake_ns - now_ns + 999) / 1000);
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)sleep_us * 1000;
	nanosleep(&ts, NULL);
	b->sleeps++;
	b->slept_us += sleep_us;
	if (b->cur_us < b->max_us)
		b->cur_us = b->cur_us * 2 > b->max_us ? b->max_us : b->cur_us * 2;
}

const char *
mesh_net_poll_mode_name(enum mesh_net_poll_mode m)
{
	return m == MESH_NET_POLL_BUSY ? "busy" : "backoff";
}

int
mesh_net_poll_mode_parse(const char *s, enum mesh_net_poll_mode *out)
{
	if (strcmp(s, "busy") == 0)
		*out = MESH_NET_POLL_BUSY;
	else if (strcmp(s, "backoff") == 0)
		*out = MESH_NET_POLL_BACKOFF;
	else
		return -EINVAL;
	return 0;
}
