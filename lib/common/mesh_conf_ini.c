/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INI files through a settings table: mesh_ini.c reads the lines, this file gives them the
 * table's meaning, so every key is checked exactly like its command-line option. Rules on
 * top of the syntax: every section and key must be in the table; a section may appear
 * once, and a key once per section unless it is repeatable (MESH_CONF_REPEAT); a repeat
 * names both lines. The section of MESH_CONF_SUB keys is written [SECTION NAME], once per
 * NAME, and the program's c->section hook points c->sub at that NAME's fields. Errors
 * name the file, line, section and key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

struct seen {
	char *section;
	char *key; /* "" for the section header */
	int line;
};

struct load {
	struct mesh_conf *c;
	const char *path;
	const char *section; /* the open section's name in the table */
	struct seen *seen;
	size_t n_seen;
};

/* Line where @section/@key was seen first, or 0 after recording it; -EINVAL (no memory). */
static int
seen_before(struct load *l, const char *section, const char *key, int line)
{
	struct seen *grown, *e;

	for (size_t i = 0; i < l->n_seen; i++)
		if (strcmp(l->seen[i].section, section) == 0 && strcmp(l->seen[i].key, key) == 0)
			return l->seen[i].line;
	grown = realloc(l->seen, (l->n_seen + 1) * sizeof(*grown));
	if (grown != NULL) {
		l->seen = grown;
		e = &grown[l->n_seen];
		e->section = strdup(section);
		e->key = strdup(key);
		e->line = line;
		if (e->section != NULL && e->key != NULL) {
			l->n_seen++;
			return 0;
		}
		free(e->section);
		free(e->key);
	}
	return mesh_errf(l->c->err, sizeof(l->c->err), "%s: out of memory", l->path);
}

/* [SECTION] or [SECTION NAME] */
static int
section_open(struct load *l, const char *header, int line)
{
	struct mesh_conf *c = l->c;
	size_t n = strcspn(header, " \t");
	const char *name = header + n + strspn(header + n, " \t");
	char word[MESH_INI_SECTION_MAX], where[360];
	const struct mesh_conf_def *d;
	int first = seen_before(l, header, "", line);

	snprintf(where, sizeof(where), "%.200s:%d: [%s]", l->path, line, header);
	if (first != 0)
		return first < 0 ? first : mesh_errf(c->err, sizeof(c->err),
			"%s: duplicate section (first at line %d)", where, first);
	snprintf(word, sizeof(word), "%.*s", (int)n, header);
	d = mesh_conf_find_key(c->defs, word, NULL);
	if (d == NULL || (*name != '\0' && !(d->flags & MESH_CONF_SUB)))
		return mesh_errf(c->err, sizeof(c->err), "%.200s:%d: unknown section [%s]",
				 l->path, line, header);
	l->section = d->section;
	return c->section != NULL ? c->section(c, d->section, name, where) : 0;
}

static int
on_line(void *ctx, const char *section, const char *key, const char *value, int line)
{
	struct load *l = ctx;
	struct mesh_conf *c = l->c;
	const struct mesh_conf_def *d;
	char where[400];
	int first;

	if (key == NULL)
		return section_open(l, section, line);
	snprintf(where, sizeof(where), "%.200s:%d: [%.100s] %.64s", l->path, line, section, key);
	d = mesh_conf_find_key(c->defs, l->section, key);
	if (d == NULL)
		return mesh_errf(c->err, sizeof(c->err), "%s: unknown key", where);
	first = d->flags & MESH_CONF_REPEAT ? 0 : seen_before(l, section, key, line);
	if (first != 0)
		return first < 0 ? first : mesh_errf(c->err, sizeof(c->err),
			"%s: duplicate key (first at line %d)", where, first);
	return mesh_conf_apply(c, d->id, value, where);
}

int
mesh_conf_ini_load(struct mesh_conf *c, const char *path)
{
	struct load l = { .c = c, .path = path };
	int ret;

	c->sub = NULL;
	ret = mesh_ini_parse_file(path, on_line, &l, c->err, sizeof(c->err));
	if (ret == 0 && c->section != NULL)
		ret = c->section(c, NULL, NULL, NULL);
	for (size_t i = 0; i < l.n_seen; i++) {
		free(l.seen[i].section);
		free(l.seen[i].key);
	}
	free(l.seen);
	return ret < 0 ? -EINVAL : 0;
}
