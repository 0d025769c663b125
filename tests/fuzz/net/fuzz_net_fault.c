/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the --fault-inject spec parser (mesh_net_fault_spec_parse) on
 * arbitrary text. A refusal carries a message; an accepted spec has probabilities in
 * 0..1 and MIN <= MAX <= the delay bound, its formatted text parses back to the same
 * delays and seed, and the decisions it makes stay within the spec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_spec(const struct mesh_net_fault_spec *s)
{
	struct mesh_net_fault_spec again;
	struct mesh_net_fault_verdict v;
	struct mesh_rng rng;
	char buf[160];

	if (!(s->loss >= 0 && s->loss <= 1) || !(s->dup >= 0 && s->dup <= 1) ||
	    s->delay_min_ns > s->delay_max_ns ||
	    s->delay_max_ns > MESH_NET_FAULT_DELAY_MAX_US * MESH_NS_PER_US)
		abort();
	mesh_net_fault_spec_format(s, buf, sizeof(buf));
	if (mesh_net_fault_spec_parse(buf, &again, NULL, 0) == 0 &&
	    (again.delay_min_ns != s->delay_min_ns || again.delay_max_ns != s->delay_max_ns ||
	     again.seed != s->seed))
		abort();
	mesh_rng_seed(&rng, s->seed);
	for (uint64_t now = 0; now < 4000; now += 1000) {
		if (mesh_net_fault_decide(s, &rng, now, &v) == MESH_NET_FAULT_DROP) {
			if (s->loss <= 0)
				abort();
			continue;
		}
		if (v.dups > 1 || (v.dups == 1 && s->dup <= 0) || v.delay_ns < s->delay_min_ns ||
		    v.delay_ns > s->delay_max_ns || v.release_ns != now + v.delay_ns)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_net_fault_spec s;
	char *text = malloc(size + 1), err[160] = "";

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mesh_net_fault_spec_parse(text, &s, err, sizeof(err)) == 0)
		check_spec(&s);
	else if (err[0] == '\0')
		abort();
	free(text);
	return 0;
}
