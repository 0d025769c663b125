/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the counter registry, the text writer, and
 * the whole scrape (mesh_telemetry_prom_render): meshd_build_info, the registry, then the
 * node's series (mesh_telemetry_prom_node.c).
 *
 * A registry value <group>.<name> becomes meshd_<group>_<name>, "_total" added for
 * counters, and its description the # HELP line. A name that already starts with its
 * group is not prefixed twice (swim_probe_sent: meshd_swim_probe_sent_total). Names that
 * carry a cause become one family with a label, so a dashboard sums or splits them:
 * <stem>_drop_<cause> is <stem>_drops_total{cause="<cause>"} (net's rx_drop_frame_<err>
 * joins rx_drops: a frame check refusal is a receive drop like a parser's), and the
 * handoff rings' <ring>_enq, <ring>_deq and handoff_drop_<ring> are
 * meshd_handoff_{enqueued,dequeued,drops}_total{ring="<ring>"}, plus the ring depth
 * gauge. A labelled family's HELP lists its label values with their descriptions.
 *
 * The registry is collected first and written family by family, so each family's lines
 * are contiguous whatever order the groups emit them in. Readable from any thread (the
 * control thread serves it); every figure is a relaxed read.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry_internal.h"

/* ---------------------------------------------------------------- writer */

void
tel_prom_printf(struct tel_prom *r, const char *fmt, ...)
{
	size_t room = r->len < r->cap ? r->cap - r->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? r->buf + r->len : NULL, room, fmt, ap);
	va_end(ap);
	r->len += n > 0 ? (size_t)n : 0;
}

void
tel_prom_escaped(struct tel_prom *r, const char *s, size_t len, bool quoted)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		while (i + run < len && s[i + run] != '\n' && s[i + run] != '\\' &&
		       !(quoted && s[i + run] == '"'))
			run++;
		tel_prom_printf(r, "%.*s", (int)run, s + i);
		i += run;
		if (i < len)
			tel_prom_printf(r, "\\%c", s[i] == '\n' ? 'n' : s[i]);
		i++;
	}
}

void
tel_prom_seconds(struct tel_prom *r, uint64_t ns)
{
	uint64_t sec = ns / MESH_NS_PER_SEC, sub = ns % MESH_NS_PER_SEC;
	char frac[16];
	size_t len = (size_t)snprintf(frac, sizeof(frac), "%09" PRIu64, sub);

	while (len > 0 && frac[len - 1] == '0')
		len--;
	tel_prom_printf(r, "%" PRIu64 "%s%.*s", sec, len ? "." : "", (int)len, frac);
}

void
tel_prom_head(struct tel_prom *r, const char *metric, const char *type, const char *help)
{
	tel_prom_printf(r, "# HELP %s ", metric);
	tel_prom_escaped(r, help, strlen(help), false);
	tel_prom_printf(r, "\n# TYPE %s %s\n", metric, type);
}

/* ---------------------------------------------------------------- families */

/* Names that read better as a family with a label; the first match wins, and names no
 * rule matches go through the generic <stem>_drop_<cause> split, then the unit suffixes. */
static const struct rule {
	const char *group, *prefix, *suffix;
	const char *family; /* NULL: a plain counter after all */
	const char *label;
	const char *help;   /* the family's HELP when its values carry no description */
} rules[] = {
	/* the sum of SWIM's decode causes, not a cause of its own */
	{ "swim", "rx_drop_malformed", "", NULL, NULL, NULL },
	{ "net", "rx_drop_frame_", "", "rx_drops", "cause", NULL },
	{ "handoff", "drop_", "", "drops", "ring",
	  "items dropped: the ring between two lcores was full, by ring" },
	{ "handoff", "", "_enq", "enqueued", "ring", "items put on a ring between two lcores" },
	{ "handoff", "", "_deq", "dequeued", "ring", "items taken from a ring between two lcores" },
};

/* durations in base units: <stem>_us is exported as <stem>_seconds */
static const struct unit {
	const char *suffix;
	uint64_t ns;
} units[] = { { "_ns", 1 }, { "_us", MESH_NS_PER_US }, { "_ms", MESH_NS_PER_MS } };

/* one registry value as a Prometheus sample */
struct series {
	const char *group;
	char metric[112];    /* meshd_<group>_<family>[_seconds][_total] */
	const char *label;   /* NULL: no label */
	char lvalue[64];
	const char *desc;
	const char *help;
	enum mesh_telemetry_type type;
	uint64_t v;
	uint64_t unit_ns;    /* 0: a plain number; else v is in units of unit_ns */
	bool done;
};

struct collect {
	struct series *s;
	size_t n, cap;
};

static bool
rule_match(const struct rule *ru, const char *group, const char *name, size_t len)
{
	size_t pl = strlen(ru->prefix), sl = strlen(ru->suffix);

	return strcmp(ru->group, group) == 0 && len >= pl + sl &&
	       strncmp(name, ru->prefix, pl) == 0 && strcmp(name + len - sl, ru->suffix) == 0;
}

/* the family (into @family) and label of @name; the label value goes into @x */
static void
classify(struct series *x, const char *name, char *family, size_t cap)
{
	size_t len = strlen(name);
	const char *d;

	snprintf(family, cap, "%s", name);
	for (size_t i = 0; i < MESH_ARRAY_SIZE(rules); i++) {
		const struct rule *ru = &rules[i];
		size_t pl = strlen(ru->prefix), sl = strlen(ru->suffix);

		if (!rule_match(ru, x->group, name, len))
			continue;
		if (ru->family != NULL) {
			snprintf(family, cap, "%s", ru->family);
			snprintf(x->lvalue, sizeof(x->lvalue), "%.*s", (int)(len - pl - sl),
				 name + pl);
			x->label = ru->label;
			x->help = ru->help;
		}
		return;
	}
	for (d = strstr(name, "drop_"); d != NULL; d = strstr(d + 1, "drop_"))
		if (d == name || d[-1] == '_') {
			snprintf(family, cap, "%.*sdrops", (int)(d - name), name);
			snprintf(x->lvalue, sizeof(x->lvalue), "%s", d + 5);
			x->label = "cause";
			return;
		}
	for (size_t i = 0; i < MESH_ARRAY_SIZE(units); i++) {
		size_t sl = strlen(units[i].suffix);

		if (len > sl && strcmp(name + len - sl, units[i].suffix) == 0) {
			snprintf(family, cap, "%.*s_seconds", (int)(len - sl), name);
			x->unit_ns = units[i].ns;
			return;
		}
	}
}

static void
collect_value(void *ctx, const char *group, const struct mesh_telemetry_value *v)
{
	struct collect *c = ctx;
	size_t gl = strlen(group);
	const char *name = v->name;
	char family[96];
	struct series *x;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct series *s = realloc(c->s, cap * sizeof(*s));

		if (s == NULL)
			return;
		c->s = s;
		c->cap = cap;
	}
	x = &c->s[c->n++];
	*x = (struct series){ .group = group, .desc = v->desc, .type = v->type, .v = v->v };
	if (strncmp(name, group, gl) == 0 && name[gl] == '_')
		name += gl + 1;
	classify(x, name, family, sizeof(family));
	snprintf(x->metric, sizeof(x->metric), "meshd_%s_%s%s", group, family,
		 v->type == MESH_TELEMETRY_COUNTER ? "_total" : "");
}

/* the text after "subject: " of a description, or all of it */
static const char *
desc_reason(const char *desc)
{
	const char *colon = strstr(desc, ": ");

	return colon != NULL ? colon + 2 : desc;
}

/* HELP of the family that starts at @f: the value's description, the rule's help, or
 * "<subject of the first description>, by <label>: <value> = <reason>; ..." */
static void
family_help(struct tel_prom *r, const struct series *f, const struct series *end)
{
	const char *colon = f->desc != NULL ? strstr(f->desc, ": ") : NULL;
	const char *sep = "";

	tel_prom_printf(r, "# HELP %s ", f->metric);
	if (f->label == NULL || f->help != NULL) {
		const char *h = f->help != NULL ? f->help : f->desc;

		if (h != NULL)
			tel_prom_escaped(r, h, strlen(h), false);
		else
			tel_prom_printf(r, "%s %s", f->group, f->metric);
		return;
	}
	if (colon != NULL) {
		tel_prom_escaped(r, f->desc, (size_t)(colon - f->desc), false);
	} else { /* meshd_<group>_<stem>_drops_total: "<group> <stem> drops" */
		for (const char *c = f->metric + 6; strcmp(c, "_total") != 0; c++)
			tel_prom_printf(r, "%c", *c == '_' ? ' ' : *c);
	}
	tel_prom_printf(r, ", by %s: ", f->label);
	for (const struct series *x = f; x < end; x++) {
		if (x->done || strcmp(x->metric, f->metric) != 0)
			continue;
		tel_prom_printf(r, "%s", sep);
		tel_prom_escaped(r, x->lvalue, strlen(x->lvalue), false);
		if (x->desc != NULL) {
			tel_prom_printf(r, " = ");
			tel_prom_escaped(r, desc_reason(x->desc), strlen(desc_reason(x->desc)), false);
		}
		sep = "; ";
	}
}

static void
sample(struct tel_prom *r, const char *metric, const char *label, const char *lvalue,
       uint64_t v, uint64_t unit_ns)
{
	tel_prom_printf(r, "%s", metric);
	if (label != NULL) {
		tel_prom_printf(r, "{%s=\"", label);
		tel_prom_escaped(r, lvalue, strlen(lvalue), true);
		tel_prom_printf(r, "\"}");
	}
	if (unit_ns != 0) {
		tel_prom_printf(r, " ");
		tel_prom_seconds(r, v * unit_ns);
		tel_prom_printf(r, "\n");
	} else {
		tel_prom_printf(r, " %" PRIu64 "\n", v);
	}
}

static void
put_families(struct tel_prom *r, struct series *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].done)
			continue;
		family_help(r, &s[i], s + n);
		tel_prom_printf(r, "\n# TYPE %s %s\n", s[i].metric,
				s[i].type == MESH_TELEMETRY_COUNTER ? "counter" : "gauge");
		for (size_t j = i; j < n; j++)
			if (!s[j].done && strcmp(s[j].metric, s[i].metric) == 0) {
				sample(r, s[j].metric, s[j].label, s[j].lvalue, s[j].v,
				       s[j].unit_ns);
				s[j].done = true;
			}
	}
}

/* items waiting on each handoff ring: enqueued - dequeued (two relaxed reads apart) */
static void
put_ring_depth(struct tel_prom *r, const struct series *s, size_t n)
{
	static const char enq[] = "meshd_handoff_enqueued_total";
	static const char deq[] = "meshd_handoff_dequeued_total";
	const char *metric = "meshd_handoff_ring_depth";
	bool head = false;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].metric, enq) != 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (strcmp(s[j].metric, deq) != 0 || strcmp(s[j].lvalue, s[i].lvalue) != 0)
				continue;
			if (!head)
				tel_prom_head(r, metric, "gauge",
					      "items waiting on a ring between two lcores");
			head = true;
			sample(r, metric, "ring", s[i].lvalue,
			       s[i].v > s[j].v ? s[i].v - s[j].v : 0, 0);
		}
	}
}

size_t
mesh_telemetry_prom_render(char *buf, size_t cap)
{
	struct tel_prom r = { .buf = buf, .cap = cap };
	struct collect c = { 0 };
	struct mesh_node *n = tel_node;

	tel_prom_head(&r, "meshd_build_info", "gauge", "meshd build: its version as a label");
	tel_prom_printf(&r, "meshd_build_info{version=\"%s\"} 1\n", MESH_VERSION);
	mesh_telemetry_values_visit(NULL, collect_value, &c);
	put_families(&r, c.s, c.n);
	put_ring_depth(&r, c.s, c.n);
	free(c.s);
	if (n != NULL)
		tel_prom_node(&r, n);
	return r.len;
}
