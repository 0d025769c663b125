/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive fault injection, the pure half: the spec parser and the per-frame decision.
 * The kernel on the test machines has no netem, so meshd itself drops, duplicates and
 * delays frames on its rx stage when asked to (testing only; the DPDK half is
 * mesh_net_fault_rx.c). Decisions draw from a caller-seeded mesh_rng and take time as a
 * parameter, so a seed replays the same faults for the same frame sequence. The parser is
 * strict: every token is KEY=VALUE, each key once, and a refusal names the bad token.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"
#include "mesh_net_pkt.h"

#define TOKEN_MAX 96

/* "12", "0.5", "100.000": digits with an optional fraction, as a probability 0..1. */
static int
parse_pct(const char *s, double *out)
{
	double v = 0, scale = 1;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			v += (*s - '0') * (scale /= 10);
	if (digits == 0 || digits > 12 || *s != '\0' || v > 100)
		return -EINVAL;
	*out = v / 100;
	return 0;
}

/* Decimal digits only, at most @max. */
static int
parse_dec(const char *s, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* "US" or "MIN-MAX" in microseconds. */
static int
parse_delay(const char *s, struct mesh_net_fault_spec *o)
{
	const char *dash = strchr(s, '-'), *end = s + strlen(s);
	uint64_t lo, hi;

	if (parse_dec(s, dash != NULL ? dash : end, MESH_NET_FAULT_DELAY_MAX_US, &lo) < 0)
		return -EINVAL;
	hi = lo;
	if (dash != NULL && (parse_dec(dash + 1, end, MESH_NET_FAULT_DELAY_MAX_US, &hi) < 0 ||
			     hi < lo))
		return -EINVAL;
	o->delay_min_ns = lo * MESH_NS_PER_US;
	o->delay_max_ns = hi * MESH_NS_PER_US;
	return 0;
}

/* Decimal or 0x hex, no sign. */
static int
parse_seed(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int
apply_token(const char *tok, struct mesh_net_fault_spec *o, unsigned *seen, char *err,
	    size_t err_len)
{
	static const char *const keys[] = { "loss", "dup", "delay", "seed" };
	static const char *const wants[] = {
		"a percentage 0..100 (decimals allowed)",
		"a percentage 0..100 (decimals allowed)",
		"microseconds US or MIN-MAX (MIN <= MAX <= 10000000)",
		"an unsigned integer (decimal or 0x hex)",
	};
	const char *eq = strchr(tok, '=');
	size_t klen = eq != NULL ? (size_t)(eq - tok) : 0;
	unsigned k;
	int ret;

	if (*tok == '\0')
		return mesh_errf(err, err_len, "bad token '': empty (stray comma?)");
	if (eq == NULL || klen == 0)
		return mesh_errf(err, err_len, "bad token '%s': expected KEY=VALUE", tok);
	for (k = 0; k < MESH_ARRAY_SIZE(keys); k++)
		if (strlen(keys[k]) == klen && strncmp(tok, keys[k], klen) == 0)
			break;
	if (k == MESH_ARRAY_SIZE(keys))
		return mesh_errf(err, err_len, "bad token '%s': unknown key '%.*s' (loss, dup, "
				 "delay, seed)", tok, (int)klen, tok);
	if (*seen & (1u << k))
		return mesh_errf(err, err_len, "bad token '%s': '%s' given twice", tok, keys[k]);
	*seen |= 1u << k;
	switch (k) {
	case 0:
		ret = parse_pct(eq + 1, &o->loss);
		break;
	case 1:
		ret = parse_pct(eq + 1, &o->dup);
		break;
	case 2:
		ret = parse_delay(eq + 1, o);
		break;
	default:
		ret = parse_seed(eq + 1, &o->seed);
		o->has_seed = ret == 0;
		break;
	}
	if (ret < 0)
		return mesh_errf(err, err_len, "bad token '%s': %s wants %s", tok, keys[k],
				 wants[k]);
	return 0;
}

int
mesh_net_fault_spec_parse(const char *text, struct mesh_net_fault_spec *out, char *err,
			  size_t err_len)
{
	struct mesh_net_fault_spec o;
	unsigned seen = 0;
	const char *s = text;

	memset(&o, 0, sizeof(o));
	if (text == NULL || text[0] == '\0')
		return mesh_errf(err, err_len, "empty spec (want loss=P,dup=P,delay=US|MIN-MAX,"
				 "seed=N)");
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char tok[TOKEN_MAX];

		if (len >= sizeof(tok))
			return mesh_errf(err, err_len, "bad token '%.*s...': too long", 32, s);
		memcpy(tok, s, len);
		tok[len] = '\0';
		if (apply_token(tok, &o, &seen, err, err_len) < 0)
			return -EINVAL;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*out = o;
	return 0;
}

char *
mesh_net_fault_spec_format(const struct mesh_net_fault_spec *s, char *buf, size_t len)
{
	snprintf(buf, len, "loss=%g,dup=%g,delay=%" PRIu64 "-%" PRIu64 ",seed=%" PRIu64,
		 s->loss * 100, s->dup * 100, (uint64_t)(s->delay_min_ns / MESH_NS_PER_US),
		 (uint64_t)(s->delay_max_ns / MESH_NS_PER_US), s->seed);
	return buf;
}

enum mesh_net_fault_action
mesh_net_fault_decide(const struct mesh_net_fault_spec *s, struct mesh_rng *rng,
		      uint64_t now_ns, struct mesh_net_fault_verdict *v)
{
	v->action = MESH_NET_FAULT_PASS;
	v->dups = 0;
	v->delay_ns = 0;
	v->release_ns = now_ns;
	if (s->loss > 0 && mesh_rng_unit(rng) < s->loss) {
		v->action = MESH_NET_FAULT_DROP;
		return v->action;
	}
	if (s->dup > 0 && mesh_rng_unit(rng) < s->dup)
		v->dups = 1;
	if (s->delay_max_ns > 0)
		v->delay_ns = s->delay_min_ns +
			      mesh_rng_below(rng, s->delay_max_ns - s->delay_min_ns + 1);
	v->release_ns = now_ns + v->delay_ns;
	return v->action;
}
