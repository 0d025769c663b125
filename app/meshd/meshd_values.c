/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setting values: the parsers of the settings table (meshd_settings.c). Each checks one
 * value and stores it in struct meshd_cfg, or writes why it refused it. Numbers are decimal
 * digits only ("010" is 10, no sign, no base prefix); the cluster id also takes 0x hex;
 * sizes take a K, M or G suffix (powers of 1024, either case).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "mesh_crdt.h"
#include "meshd_settings.h"

int
meshd_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
meshd_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "0x" followed by 1..16 hex digits, or a decimal number */
static int
parse_hex_or_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return meshd_parse_u64(s, max, out);
	n = strlen(s + 2);
	if (n == 0 || n > 16 || strspn(s + 2, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	v = strtoull(s + 2, NULL, 16); /* at most 16 hex digits: cannot overflow */
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* a decimal number with an optional K, M or G (either case, powers of 1024) */
static int
parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const char units[] = "kmg";
	char digits[24];
	size_t n = strlen(s);
	const char *u = n > 1 ? strchr(units, tolower((unsigned char)s[n - 1])) : NULL;
	unsigned shift = u != NULL ? 10 * (unsigned)(u - units + 1) : 0;
	uint64_t v;

	if (u != NULL)
		n--;
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (meshd_parse_u64(digits, max >> shift, &v) < 0)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static void *
field(struct meshd_cfg *cfg, const struct meshd_setting_def *s)
{
	char *base = s->flags & MESHD_SETTING_NS ? (char *)&cfg->ns[cfg->n_ns - 1] : (char *)cfg;

	return base + s->off;
}

static void
store_uint(void *p, size_t size, uint64_t v)
{
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	memcpy(p, size == 2 ? (void *)&v16 : size == 4 ? (void *)&v32 : (void *)&v, size);
}

/* a number in [s->min, s->max], read by @parse, into the field */
static int
store_number(struct meshd_cfg *cfg, const struct meshd_setting_def *s, const char *val,
	     int (*parse)(const char *, uint64_t, uint64_t *), const char *kind, char *why,
	     size_t why_len)
{
	uint64_t v = 0;

	if (parse(val, s->max, &v) < 0 || v < s->min)
		return meshd_why(why, why_len, "invalid value '%s': expected %s %" PRIu64 "..%"
				 PRIu64, val, kind, s->min, s->max);
	store_uint(field(cfg, s), s->size, v);
	return 0;
}

MESHD_VALUE(meshd_value_num)
{
	return store_number(cfg, s, val, meshd_parse_u64, "a decimal number", why, why_len);
}

MESHD_VALUE(meshd_value_hex)
{
	return store_number(cfg, s, val, parse_hex_or_dec, "a decimal or 0x hex number", why,
			    why_len);
}

MESHD_VALUE(meshd_value_size)
{
	return store_number(cfg, s, val, parse_size, "a size (K, M or G suffix allowed)", why,
			    why_len);
}

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

MESHD_VALUE(meshd_value_bool)
{
	if (parse_bool(val, field(cfg, s)) < 0)
		return meshd_why(why, why_len, "invalid value '%s': expected yes or no", val);
	return 0;
}

/* [namespaces] defaults = yes|no, stored as its opposite */
MESHD_VALUE(meshd_value_ns_defaults)
{
	if (meshd_value_bool(cfg, s, val, why, why_len) < 0)
		return -EINVAL;
	cfg->ns_no_defaults = !cfg->ns_no_defaults;
	return 0;
}

MESHD_VALUE(meshd_value_str)
{
	if (val[0] == '\0' || strlen(val) >= s->size)
		return meshd_why(why, why_len, "invalid value '%s': expected 1..%u characters", val,
			      s->size - 1u);
	memcpy(field(cfg, s), val, strlen(val) + 1);
	return 0;
}

MESHD_VALUE(meshd_value_name)
{
	if (val[strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")]
	    != '\0')
		return meshd_why(why, why_len, "invalid value '%s': letters, digits, '.', '_', '-' only",
			      val);
	return meshd_value_str(cfg, s, val, why, why_len);
}

MESHD_VALUE(meshd_value_ip)
{
	RTE_SET_USED(s);
	if (mesh_net_ip_parse(val, &cfg->ip) < 0)
		return meshd_why(why, why_len, "invalid value '%s': expected A.B.C.D", val);
	return 0;
}

MESHD_VALUE(meshd_value_poll)
{
	RTE_SET_USED(s);
	if (mesh_net_poll_mode_parse(val, &cfg->poll_mode) < 0)
		return meshd_why(why, why_len, "invalid value '%s': expected backoff or busy", val);
	return 0;
}

MESHD_VALUE(meshd_value_profile)
{
	RTE_SET_USED(s);
	if (strcmp(val, "fast") != 0 && strcmp(val, "lan") != 0)
		return meshd_why(why, why_len, "invalid value '%s': expected lan or fast", val);
	cfg->profile_fast = strcmp(val, "fast") == 0;
	return 0;
}

/* "A.B.C.D[:PORT]" (@need_port: ":PORT" required) */
static int
parse_addr(const char *spec, bool need_port, uint32_t *ip, uint16_t *port)
{
	char buf[64];
	char *colon;
	uint64_t p = MESHD_DEFAULT_PORT;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", spec);
	colon = strchr(buf, ':');
	if (colon == NULL && need_port)
		return -EINVAL;
	if (colon != NULL) {
		*colon = '\0';
		if (meshd_parse_u64(colon + 1, 65535, &p) < 0 || p == 0)
			return -EINVAL;
	}
	if (mesh_net_ip_parse(buf, ip) < 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int
add_addr(unsigned *n, uint32_t *ip, uint16_t *port, const char *val, char *why, size_t len)
{
	if (*n == MESHD_MAX_PEERS)
		return meshd_why(why, len, "too many addresses (max %d)", MESHD_MAX_PEERS);
	if (parse_addr(val, false, ip, port) < 0)
		return meshd_why(why, len, "invalid value '%s': expected A.B.C.D[:PORT]", val);
	(*n)++;
	return 0;
}

MESHD_VALUE(meshd_value_peer)
{
	struct meshd_peer *p = &cfg->peers[RTE_MIN(cfg->n_peers, MESHD_MAX_PEERS - 1u)];

	RTE_SET_USED(s);
	if (cfg->n_peers < MESHD_MAX_PEERS)
		memset(p, 0, sizeof(*p));
	return add_addr(&cfg->n_peers, &p->ip, &p->port, val, why, why_len);
}

MESHD_VALUE(meshd_value_seed)
{
	struct meshd_addr *a = &cfg->seeds[RTE_MIN(cfg->n_seeds, MESHD_MAX_PEERS - 1u)];

	RTE_SET_USED(s);
	return add_addr(&cfg->n_seeds, &a->ip, &a->port, val, why, why_len);
}

MESHD_VALUE(meshd_value_metrics)
{
	uint32_t ip;
	uint16_t port;

	if (parse_addr(val, true, &ip, &port) < 0)
		return meshd_why(why, why_len, "invalid value '%s': expected A.B.C.D:PORT", val);
	return meshd_value_str(cfg, s, val, why, why_len);
}

MESHD_VALUE(meshd_value_key_file)
{
	struct mesh_wire_keyring kr;
	int ret;

	if (meshd_value_str(cfg, s, val, why, why_len) < 0)
		return -EINVAL;
	/* loaded here to check it (errors name its line); meshd loads it again at start-up */
	ret = meshd_keys_load(val, &kr);
	mesh_wire_keyring_fini(&kr);
	if (ret < 0)
		return meshd_why(why, why_len, "invalid key file '%s'", val);
	return 0;
}

MESHD_VALUE(meshd_value_fault)
{
	RTE_SET_USED(s);
	if (mesh_net_fault_spec_parse(val, &cfg->fault, why, why_len) < 0)
		return -EINVAL;
	cfg->fault_on = true;
	return 0;
}

MESHD_VALUE(meshd_value_eal_args)
{
	if (meshd_eal_args_check(val, why, why_len) < 0)
		return -EINVAL;
	return meshd_value_str(cfg, s, val, why, why_len);
}

MESHD_VALUE(meshd_value_ns_kind)
{
	static const char *const names[] = {
		[MESH_CRDT_NS_LWW] = "lww", [MESH_CRDT_NS_EPOCH_MAX] = "epoch_max",
		[MESH_CRDT_NS_BROADCAST] = "broadcast", [MESH_CRDT_NS_TARGETED] = "targeted",
	};

	RTE_SET_USED(s);
	for (int i = 0; i < (int)RTE_DIM(names); i++)
		if (strcmp(val, names[i]) == 0) {
			cfg->ns[cfg->n_ns - 1].kind = i;
			return 0;
		}
	return meshd_why(why, why_len, "invalid value '%s': expected lww, epoch_max, broadcast or "
		      "targeted", val);
}

