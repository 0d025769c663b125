/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small INI tokenizer: the syntax only, with the line number of everything it hands on.
 * Lines are "[section]", "key = value", blank, or comments starting with '#' or ';'; a
 * comment may also follow a header or a value after white space ("port = 1 ; note"), so a
 * value cannot hold " #" or " ;". Anything else is an error naming the file and line.
 * What sections and keys mean, and whether they may repeat, is the caller's business
 * (mesh_conf_ini.c gives them a settings table's meaning).
 * (Debian's libinih was considered: its handler gets no line numbers and no callback for
 * a section header, and it folds indented lines into the previous value.)
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

#define INI_FILE_MAX (1u << 20)

struct ini {
	const char *name;
	mesh_ini_f fn;
	void *ctx;
	char *err;
	size_t err_len;
	char section[MESH_INI_SECTION_MAX];
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* cut a comment: the whole line, or from a '#' or ';' that follows white space */
static void
cut_comment(char *s)
{
	char *p = s + strspn(s, " \t");

	if (*p == '#' || *p == ';') {
		*p = '\0';
		return;
	}
	for (; *p != '\0'; p++)
		if ((*p == '#' || *p == ';') && isspace((unsigned char)p[-1])) {
			*p = '\0';
			return;
		}
}

static int
line_parse(struct ini *p, char *s, int no)
{
	char *eq, *close;

	cut_comment(s);
	s = trim(s);
	if (*s == '\0')
		return 0;
	if (*s == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != '\0' || *trim(s + 1) == ']')
			return mesh_errf(p->err, p->err_len, "%s:%d: malformed section header",
					 p->name, no);
		*close = '\0';
		if (strlen(trim(s + 1)) >= sizeof(p->section))
			return mesh_errf(p->err, p->err_len, "%s:%d: section name too long",
					 p->name, no);
		strcpy(p->section, trim(s + 1));
		return p->fn(p->ctx, p->section, NULL, NULL, no);
	}
	eq = strchr(s, '=');
	if (eq == NULL || eq == s)
		return mesh_errf(p->err, p->err_len, "%s:%d: expected 'key = value'", p->name, no);
	if (p->section[0] == '\0')
		return mesh_errf(p->err, p->err_len, "%s:%d: key outside any [section]", p->name,
				 no);
	*eq = '\0';
	return p->fn(p->ctx, p->section, trim(s), trim(eq + 1), no);
}

int
mesh_ini_parse(const char *text, size_t len, const char *name, mesh_ini_f fn, void *ctx,
	       char *err, size_t err_len)
{
	struct ini p = { .name = name, .fn = fn, .ctx = ctx, .err = err, .err_len = err_len };
	char *copy = malloc(len + 1), *s, *end;
	int no = 0, ret = 0;

	if (copy == NULL) {
		mesh_errf(err, err_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (s = copy; ret == 0 && s < copy + len; s = end + 1) {
		end = memchr(s, '\n', (size_t)(copy + len - s));
		if (end == NULL)
			end = copy + len;
		*end = '\0';
		no++;
		if (strlen(s) != (size_t)(end - s))
			ret = mesh_errf(err, err_len, "%s:%d: NUL byte (not a text file?)", name,
					no);
		else
			ret = line_parse(&p, s, no);
	}
	free(copy);
	return ret;
}

int
mesh_ini_parse_file(const char *path, mesh_ini_f fn, void *ctx, char *err, size_t err_len)
{
	char *text;
	size_t len;
	int ret = mesh_file_read(path, INI_FILE_MAX, &text, &len);

	if (ret < 0)
		return mesh_errf(err, err_len, "%s: cannot read: %s", path, strerror(-ret));
	ret = mesh_ini_parse(text, len, path, fn, ctx, err, err_len);
	free(text);
	return ret;
}
