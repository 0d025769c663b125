/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Settings tables: a program describes each of its settings once (long option, INI
 * [section] key, default, parser, destination field, help text); this file looks them
 * up, applies values through their parsers, sets the defaults, prints --help from the
 * table, and has the parsers for plain fields (numbers in a range, sizes, booleans,
 * strings, names, IPv4 addresses, "A.B.C.D:PORT" strings). The command line
 * (mesh_conf_args.c) and INI files (mesh_conf_ini.c) go through mesh_conf_apply(), so a
 * value is checked the same way wherever it comes from.
 * Refusals are full messages in c->err; nothing here prints them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mesh_common.h"

const struct mesh_conf_def *
mesh_conf_find(const struct mesh_conf_def *defs, int id)
{
	for (const struct mesh_conf_def *d = defs; d->id != 0; d++)
		if (d->id == id)
			return d;
	return NULL;
}

const struct mesh_conf_def *
mesh_conf_find_key(const struct mesh_conf_def *defs, const char *section, const char *key)
{
	for (const struct mesh_conf_def *d = defs; d->id != 0; d++)
		if (d->section != NULL && strcmp(d->section, section) == 0 &&
		    (key == NULL || strcmp(d->key, key) == 0))
			return d;
	return NULL;
}

const struct mesh_conf_def *
mesh_conf_find_option(const struct mesh_conf_def *defs, const char *option)
{
	for (const struct mesh_conf_def *d = defs; d->id != 0; d++)
		if (d->option != NULL && strcmp(d->option, option) == 0)
			return d;
	return NULL;
}

/* --help's word for the NAME of [SECTION NAME] */
static const char *
sub_arg(const struct mesh_conf *c)
{
	return c->sub_arg != NULL ? c->sub_arg : "NAME";
}

void *
mesh_conf_field(const struct mesh_conf *c, const struct mesh_conf_def *d)
{
	return (char *)(d->flags & MESH_CONF_SUB ? c->sub : c->obj) + d->off;
}

int
mesh_conf_apply(struct mesh_conf *c, int id, const char *val, const char *where)
{
	const struct mesh_conf_def *d = mesh_conf_find(c->defs, id);
	char why[384] = "";

	if (d == NULL || d->set == NULL)
		return mesh_errf(c->err, sizeof(c->err), "%s: not a setting", where);
	if (d->flags & MESH_CONF_SUB && c->sub == NULL)
		return mesh_errf(c->err, sizeof(c->err), "%s: not in a [%s %s] section", where,
				 d->section, sub_arg(c));
	if (d->set(c, d, val, why, sizeof(why)) == 0)
		return 0;
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "invalid value '%s'", val);
	return mesh_errf(c->err, sizeof(c->err), "%s: %s", where, why);
}

int
mesh_conf_defaults(struct mesh_conf *c)
{
	for (const struct mesh_conf_def *d = c->defs; d->id != 0; d++)
		if (d->def != NULL && mesh_conf_apply(c, d->id, d->def, "default") < 0)
			return -EINVAL;
	return 0;
}

static void
store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	memcpy(p, size == 1 ? (void *)&v8 : size == 2 ? (void *)&v16 : size == 4 ?
	       (void *)&v32 : (void *)&v, size);
}

/* a number in [d->min, d->max], read by @parse, into the field */
static int
set_number(struct mesh_conf *c, const struct mesh_conf_def *d, const char *val,
	   int (*parse)(const char *, uint64_t, uint64_t *), const char *kind, char *why,
	   size_t why_len)
{
	uint64_t v = 0;

	if (parse(val, d->max, &v) < 0 || v < d->min)
		return mesh_errf(why, why_len, "invalid value '%s': expected %s %" PRIu64 "..%"
				 PRIu64, val, kind, d->min, d->max);
	store_uint(mesh_conf_field(c, d), d->size, v);
	return 0;
}

MESH_CONF_SETTER(mesh_conf_set_num)
{
	return set_number(c, d, val, mesh_parse_u64, "a decimal number", why, why_len);
}

MESH_CONF_SETTER(mesh_conf_set_hex)
{
	return set_number(c, d, val, mesh_parse_hex, "a decimal or 0x hex number", why, why_len);
}

MESH_CONF_SETTER(mesh_conf_set_size)
{
	return set_number(c, d, val, mesh_parse_size, "a size (K, M or G suffix allowed)", why,
			  why_len);
}

MESH_CONF_SETTER(mesh_conf_set_bool)
{
	if (mesh_parse_bool(val, mesh_conf_field(c, d)) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected yes or no", val);
	return 0;
}

MESH_CONF_SETTER(mesh_conf_set_flag)
{
	if (val == NULL) {
		*(bool *)mesh_conf_field(c, d) = true;
		return 0;
	}
	return mesh_conf_set_bool(c, d, val, why, why_len);
}

MESH_CONF_SETTER(mesh_conf_set_str)
{
	if (val[0] == '\0' || strlen(val) >= d->size)
		return mesh_errf(why, why_len, "invalid value '%s': expected 1..%u characters", val,
				 d->size - 1u);
	memcpy(mesh_conf_field(c, d), val, strlen(val) + 1);
	return 0;
}

MESH_CONF_SETTER(mesh_conf_set_name)
{
	if (val[strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")]
	    != '\0')
		return mesh_errf(why, why_len, "invalid value '%s': letters, digits, '.', '_', '-' "
				 "only", val);
	return mesh_conf_set_str(c, d, val, why, why_len);
}

MESH_CONF_SETTER(mesh_conf_set_ipv4)
{
	uint32_t ip;

	if (mesh_parse_ipv4(val, &ip) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected A.B.C.D", val);
	store_uint(mesh_conf_field(c, d), d->size, ip);
	return 0;
}

MESH_CONF_SETTER(mesh_conf_set_addr)
{
	uint32_t ip;
	uint16_t port;

	if (mesh_parse_ipv4_port(val, 0, &ip, &port) < 0)
		return mesh_errf(why, why_len, "invalid value '%s': expected A.B.C.D:PORT", val);
	return mesh_conf_set_str(c, d, val, why, why_len);
}

static void
usage_one(const struct mesh_conf *c, const struct mesh_conf_def *d)
{
	const char *h = d->help;

	if (d->option != NULL)
		printf("  --%s%s%s", d->option, d->arg != NULL ? " " : "",
		       d->arg != NULL ? d->arg : "");
	if (d->option != NULL && d->section != NULL)
		printf("   [%s] %s", d->section, d->key);
	else if (d->section != NULL)
		printf("  [%s%s%s] %s = %s", d->section, d->flags & MESH_CONF_SUB ? " " : "",
		       d->flags & MESH_CONF_SUB ? sub_arg(c) : "", d->key, d->arg);
	if (d->def != NULL)
		printf("   (default %s)", d->def);
	printf("\n");
	while (*h != '\0') {
		int n = (int)strcspn(h, "\n");

		printf("        %.*s\n", n, h);
		h += n + (h[n] == '\n');
	}
}

void
mesh_conf_usage(const struct mesh_conf *c, bool options)
{
	for (const struct mesh_conf_def *d = c->defs; d->id != 0; d++)
		if ((d->option != NULL) == options)
			usage_one(c, d);
}
