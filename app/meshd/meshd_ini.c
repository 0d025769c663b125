/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small INI reader: the syntax only, with the line number of everything it hands on.
 * Lines are "[section]", "key = value", blank, or comments starting with '#' or ';'; a
 * comment may also follow a header or a value after white space ("port = 1 ; note"), so a
 * value cannot hold " #" or " ;". Anything else is an error naming the file and line.
 * What the sections and keys mean, and duplicates, is meshd_config.c's business.
 * (Debian's libinih was considered: its handler gets no line numbers and no callback for
 * a section header, and it folds indented lines into the previous value.)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "meshd_settings.h"

#define SECTION_MAX 128

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
line_parse(char *s, char *section, meshd_ini_f fn, void *ctx, const char *path, int no)
{
	char *eq, *close;

	cut_comment(s);
	s = trim(s);
	if (*s == '\0')
		return 0;
	if (*s == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != '\0' || *trim(s + 1) == ']') {
			fprintf(stderr, "meshd: %s:%d: malformed section header\n", path, no);
			return -EINVAL;
		}
		*close = '\0';
		if (strlen(trim(s + 1)) >= SECTION_MAX) {
			fprintf(stderr, "meshd: %s:%d: section name too long\n", path, no);
			return -EINVAL;
		}
		strcpy(section, trim(s + 1));
		return fn(ctx, section, NULL, NULL, no);
	}
	eq = strchr(s, '=');
	if (eq == NULL || eq == s) {
		fprintf(stderr, "meshd: %s:%d: expected 'key = value'\n", path, no);
		return -EINVAL;
	}
	if (section[0] == '\0') {
		fprintf(stderr, "meshd: %s:%d: key outside any [section]\n", path, no);
		return -EINVAL;
	}
	*eq = '\0';
	return fn(ctx, section, trim(s), trim(eq + 1), no);
}

int
meshd_ini_parse(const char *path, meshd_ini_f fn, void *ctx)
{
	FILE *f = fopen(path, "r");
	char section[SECTION_MAX] = "";
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int no = 0, ret = 0;

	if (f == NULL) {
		fprintf(stderr, "meshd: %s: cannot read: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	while (ret == 0 && (len = getline(&line, &cap, f)) >= 0) {
		no++;
		if (strlen(line) != (size_t)len) {
			fprintf(stderr, "meshd: %s:%d: NUL byte (not a text file?)\n", path, no);
			ret = -EINVAL;
		} else {
			ret = line_parse(line, section, fn, ctx, path, no);
		}
	}
	if (ret == 0 && ferror(f)) {
		fprintf(stderr, "meshd: %s: cannot read: %s\n", path, strerror(errno));
		ret = -EINVAL;
	}
	free(line);
	fclose(f);
	return ret < 0 ? -EINVAL : 0;
}
