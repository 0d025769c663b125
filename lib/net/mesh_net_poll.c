/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll pacing. Busy mode never sleeps (dedicated cores). Backoff mode spins for a few
 * empty polls, then sleeps with exponential growth up to a cap, so several pollers can
 * share two CPUs (busy pollers sharing a core raise RTT from 5 us to 8 ms; see
 * doc/architecture.md). Any received packet returns the poller to spinning. A sleep never
 * runs past the caller's next deadline (protocol timers, delayed frames), and how late the
 * loop woke for a deadline is recorded. Event mode (mesh_net_idle.c) blocks on wake-up
 * sources instead and shares these statistics.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"

#define SPIN_POLLS 64
#define MIN_SLEEP_US 10

static const uint64_t late_bound_ns[MESH_NET_LATE_BUCKETS - 1] = {
	10000, 50000, 100000, 250000, 500000, 1000000, 5000000,
};
static const char *const late_names[MESH_NET_LATE_BUCKETS] = {
	"le_10us", "le_50us", "le_100us", "le_250us", "le_500us", "le_1ms", "le_5ms", "gt_5ms",
};

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
mesh_net_backoff_late(struct mesh_net_backoff *b, uint64_t deadline_ns, uint64_t woke_ns)
{
	uint64_t late = woke_ns > deadline_ns ? woke_ns - deadline_ns : 0;
	unsigned i = 0;

	while (i < MESH_NET_LATE_BUCKETS - 1 && late > late_bound_ns[i])
		i++;
	/* one writer (the loop); telemetry reads with relaxed loads */
	__atomic_store_n(&b->late[i], b->late[i] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->timed, b->timed + 1, __ATOMIC_RELAXED);
	if (late > b->late_max_ns)
		__atomic_store_n(&b->late_max_ns, late, __ATOMIC_RELAXED);
}

const char *
mesh_net_late_bucket_name(unsigned i)
{
	return i < MESH_NET_LATE_BUCKETS ? late_names[i] : "?";
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
	b->polls++;
	if (n > 0) {
		b->busy_polls++;
		b->empty = 0;
		b->cur_us = b->min_us;
		return;
	}
	if (b->mode == MESH_NET_POLL_BUSY || ++b->empty < b->spin)
		return;
	mesh_net_backoff_sleep(b, now_ns, wake_ns);
}

void
mesh_net_backoff_sleep(struct mesh_net_backoff *b, uint64_t now_ns, uint64_t wake_ns)
{
	struct timespec ts;
	uint32_t sleep_us = b->cur_us;
	bool timed = false;

	if (wake_ns != UINT64_MAX) {
		/* something is due (a timer, a delayed frame): never sleep past it */
		if (wake_ns <= now_ns)
			return;
		if ((wake_ns - now_ns + 999) / 1000 <= sleep_us) {
			sleep_us = (uint32_t)((wake_ns - now_ns + 999) / 1000);
			timed = true;
		}
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)sleep_us * 1000;
	nanosleep(&ts, NULL);
	__atomic_store_n(&b->sleeps, b->sleeps + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->slept_us, b->slept_us + sleep_us, __ATOMIC_RELAXED);
	if (timed)
		mesh_net_backoff_late(b, wake_ns, mesh_tsc_now_ns());
	if (b->cur_us < b->max_us)
		b->cur_us = b->cur_us * 2 > b->max_us ? b->max_us : b->cur_us * 2;
}

static const char *const mode_names[] = {
	[MESH_NET_POLL_BUSY] = "busy",
	[MESH_NET_POLL_BACKOFF] = "backoff",
	[MESH_NET_POLL_EVENT] = "event",
};

const char *
mesh_net_poll_mode_name(enum mesh_net_poll_mode m)
{
	return (unsigned)m < MESH_ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

int
mesh_net_poll_mode_parse(const char *s, enum mesh_net_poll_mode *out)
{
	for (unsigned i = 0; i < MESH_ARRAY_SIZE(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum mesh_net_poll_mode)i;
			return 0;
		}
	return -EINVAL;
}
