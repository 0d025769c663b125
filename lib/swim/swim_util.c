/* SPDX-License-Identifier: BSD-3-Clause */
/* SWIM configuration profiles and operator overrides, scaling formulas (memberlist util.go /
 * suspicion.go), names. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_swim.h"

static void
cfg_common(struct mesh_swim_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->gen = 1;
	c->indirect_checks = 3;
	c->awareness_max = 8;
	c->suspicion_mult = 4;
	c->suspicion_max_mult = 6;
	c->retransmit_mult = 4;
	c->gossip_nodes = 3;
	c->dead_timeout_ns = 60 * MESH_NS_PER_SEC;
	c->max_msg = MESH_SWIM_DEFAULT_MAX_MSG;
	c->meta_max = 512;
}

void
mesh_swim_cfg_lan(struct mesh_swim_cfg *c)
{
	cfg_common(c);
	c->probe_interval_ns = 1 * MESH_NS_PER_SEC;
	c->probe_timeout_ns = 500 * MESH_NS_PER_MS;
	c->indirect_timeout_ns = 0; /* wait until the end of the protocol period */
	c->gossip_interval_ns = 200 * MESH_NS_PER_MS;
	c->gossip_to_dead_ns = 30 * MESH_NS_PER_SEC;
	c->push_pull_interval_ns = 30 * MESH_NS_PER_SEC;
	c->join_retry_ns = 1 * MESH_NS_PER_SEC;
	c->join_retry_max_ns = 30 * MESH_NS_PER_SEC;
}

void
mesh_swim_cfg_fast(struct mesh_swim_cfg *c)
{
	cfg_common(c);
	/* The default, for cores shared with the application: dead at every survivor in
	 * <= 25 ms median at N = 8 (doc/swim.md §3). A probe every 8 ms, its ack within
	 * 3 ms, relays and a second ping 2 ms more; a suspicion lasts one period once 3 other
	 * members confirmed it (they ping the suspect at once, direct only), up to 10 with no
	 * confirmation. One period is short for a member that stalls on a busy core: a
	 * member that refuted a suspicion late is given twice that time for its next ones
	 * (lib/swim's learnt stall, halving every 30 s). */
	c->probe_interval_ns = 8 * MESH_NS_PER_MS;
	c->probe_timeout_ns = 3 * MESH_NS_PER_MS;
	c->indirect_timeout_ns = 2 * MESH_NS_PER_MS;
	c->suspicion_mult = 1;
	c->suspicion_max_mult = 10;
	c->suspicion_k = 3;
	c->direct_max = 32;
	c->gossip_interval_ns = 5 * MESH_NS_PER_MS;
	c->gossip_to_dead_ns = 2 * MESH_NS_PER_SEC;
	c->push_pull_interval_ns = 5 * MESH_NS_PER_SEC;
	c->join_retry_ns = 50 * MESH_NS_PER_MS;
	c->join_retry_max_ns = 2 * MESH_NS_PER_SEC;
}

void
mesh_swim_cfg_tight(struct mesh_swim_cfg *c)
{
	mesh_swim_cfg_fast(c);
	/* dedicated cores (busy polling): a probe every 5 ms, its ack within 2 ms, relays
	 * and a second ping 2 ms more, a suspicion floor of one period */
	c->probe_interval_ns = 5 * MESH_NS_PER_MS;
	c->probe_timeout_ns = 2 * MESH_NS_PER_MS;
	c->indirect_timeout_ns = 2 * MESH_NS_PER_MS;
}

int
mesh_swim_cfg_profile(struct mesh_swim_cfg *c, const char *name)
{
	static const struct {
		const char *name;
		void (*fill)(struct mesh_swim_cfg *);
	} profiles[] = {
		{ "lan", mesh_swim_cfg_lan },
		{ "fast", mesh_swim_cfg_fast },
		{ "tight", mesh_swim_cfg_tight },
	};

	for (size_t i = 0; name != NULL && i < MESH_ARRAY_SIZE(profiles); i++)
		if (strcmp(name, profiles[i].name) == 0) {
			profiles[i].fill(c);
			return 0;
		}
	return -EINVAL;
}

void
mesh_swim_cfg_override(struct mesh_swim_cfg *c, uint32_t probe_interval_ms,
		       uint32_t probe_timeout_ms, uint32_t suspicion_mult)
{
	if (probe_interval_ms)
		c->probe_interval_ns = (uint64_t)probe_interval_ms * MESH_NS_PER_MS;
	if (probe_timeout_ms) {
		c->probe_timeout_ns = (uint64_t)probe_timeout_ms * MESH_NS_PER_MS;
		/* the fast profile bounds the indirect wait by the direct one; lan waits for
		 * the end of the period (0) */
		if (c->indirect_timeout_ns != 0)
			c->indirect_timeout_ns = c->probe_timeout_ns;
	}
	if (suspicion_mult)
		c->suspicion_mult = suspicion_mult;
}

int
mesh_swim_cfg_timing_check(const struct mesh_swim_cfg *c, char *why, size_t why_len)
{
	if (c->probe_timeout_ns < c->probe_interval_ns)
		return 0;
	return mesh_errf(why, why_len, "SWIM probe timeout (%llu ms) must be below the probe "
			 "interval (%llu ms)",
			 (unsigned long long)(c->probe_timeout_ns / MESH_NS_PER_MS),
			 (unsigned long long)(c->probe_interval_ns / MESH_NS_PER_MS));
}

uint64_t
mesh_swim_suspicion_timeout_ns(uint32_t mult, size_t n, uint64_t interval_ns)
{
	double f = log10((double)MESH_MAX(n, (size_t)1));

	if (f < 1.0)
		f = 1.0;
	/* as memberlist: Duration(mult) * Duration(nodeScale*1000) * interval / 1000 */
	return (uint64_t)mult * (uint64_t)(f * 1000.0) * interval_ns / 1000u;
}

int64_t
mesh_swim_suspicion_remaining_ns(uint32_t confirmations, uint32_t k, uint64_t elapsed_ns,
				 uint64_t min_ns, uint64_t max_ns)
{
	double frac, timeout;

	if (max_ns < min_ns)
		max_ns = min_ns;
	if (k == 0) {
		timeout = (double)min_ns;
	} else {
		frac = log((double)confirmations + 1.0) / log((double)k + 1.0);
		timeout = (double)max_ns - frac * (double)(max_ns - min_ns);
		if (timeout < (double)min_ns)
			timeout = (double)min_ns;
	}
	return (int64_t)timeout - (int64_t)elapsed_ns;
}

uint32_t
mesh_swim_retransmit_limit(uint32_t mult, size_t n)
{
	return mult * (uint32_t)ceil(log10((double)n + 1.0));
}

uint64_t
mesh_swim_push_pull_scale(uint64_t interval_ns, size_t n)
{
	const size_t threshold = 32;
	double mult;

	if (n <= threshold)
		return interval_ns;
	mult = ceil(log2((double)n) - log2((double)threshold)) + 1.0;
	return (uint64_t)mult * interval_ns;
}

const char *
mesh_swim_status_name(int status)
{
	switch (status) {
	case MESH_SWIM_ALIVE:
		return "alive";
	case MESH_SWIM_SUSPECT:
		return "suspect";
	case MESH_SWIM_DEAD:
		return "dead";
	case MESH_SWIM_LEFT:
		return "left";
	default:
		return "?";
	}
}

const char *
mesh_swim_event_name(int type)
{
	switch (type) {
	case MESH_SWIM_EV_ALIVE:
		return "alive";
	case MESH_SWIM_EV_SUSPECT:
		return "suspect";
	case MESH_SWIM_EV_DEAD:
		return "dead";
	case MESH_SWIM_EV_LEFT:
		return "left";
	case MESH_SWIM_EV_UPDATED:
		return "updated";
	case MESH_SWIM_EV_REMOVED:
		return "removed";
	case MESH_SWIM_EV_CONFLICT:
		return "conflict";
	default:
		return "?";
	}
}

static const char *const counter_names[MESH_SWIM_CTR_MAX] = {
	MESH_SWIM_COUNTERS(MESH_COUNTER_NAME)
};
static const char *const counter_descs[MESH_SWIM_CTR_MAX] = {
	MESH_SWIM_COUNTERS(MESH_COUNTER_DESC)
};

const char *const *
mesh_swim_counter_names(void)
{
	return counter_names;
}

const char *const *
mesh_swim_counter_descs(void)
{
	return counter_descs;
}
