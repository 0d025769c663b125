/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command lines through a settings table: getopt_long over the table's long options
 * (unambiguous abbreviations allowed, "--opt VALUE" or "--opt=VALUE"). The program decides
 * what an option does (mesh_conf_arg_apply() stores a setting); a lenient pass skips what
 * it does not know and hands on an option that misses its value without one, so that
 * commands (--help, or one that needs a FILE) answer even on a bad command line. The
 * caller's argv is never reordered: getopt works on a copy.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_common.h"

int
mesh_conf_arg_apply(void *ctx, const struct mesh_conf_def *d, const char *val, bool alone)
{
	char where[80];

	(void)alone;
	snprintf(where, sizeof(where), "--%.60s", d->option);
	return mesh_conf_apply(ctx, d->id, val, where);
}

/* getopt_long's view of the table (the id is getopt's return value) */
static struct option *
options_new(const struct mesh_conf_def *defs)
{
	size_t n = 0;
	struct option *o;

	for (const struct mesh_conf_def *d = defs; d->id != 0; d++)
		n += d->option != NULL;
	o = calloc(n + 1, sizeof(*o));
	n = 0;
	for (const struct mesh_conf_def *d = defs; o != NULL && d->id != 0; d++)
		if (d->option != NULL)
			o[n++] = (struct option){ d->option, d->arg != NULL ? required_argument :
						  no_argument, NULL, d->id };
	return o;
}

static int
scan(struct mesh_conf *c, int argc, char **v, const struct option *opts, bool strict,
     mesh_conf_arg_f fn, void *ctx)
{
	const struct mesh_conf_def *d;
	int opt, ret = 0;

	opterr = 0;
	optind = 0;
	for (bool first = true; ret == 0 && (opt = getopt_long(argc, v, ":", opts, NULL)) != -1;
	     first = false) {
		if ((opt == '?' || opt == ':') && strict)
			return mesh_errf(c->err, sizeof(c->err), "%s '%s'; see --help", opt == '?' ?
					 "unknown option" : "a value is needed after",
					 v[optind - 1]);
		/* lenient: an unknown option is skipped, one missing its value has none */
		d = opt == '?' ? NULL : mesh_conf_find(c->defs, opt == ':' ? optopt : opt);
		if (d == NULL)
			continue;
		/* alone: argv[0], the option and nothing else but its value */
		ret = fn(ctx, d, opt == ':' ? NULL : optarg,
			 first && (argc == 2 || (argc == 3 && optarg == v[2])));
	}
	if (ret == 0 && strict && optind < argc)
		return mesh_errf(c->err, sizeof(c->err), "unexpected argument '%s'; see --help",
				 v[optind]);
	return ret;
}

int
mesh_conf_args_each(struct mesh_conf *c, int argc, char **argv, bool strict,
		    mesh_conf_arg_f fn, void *ctx)
{
	struct option *opts;
	char **v;
	int ret = -ENOMEM;

	if (argc < 1)
		return 0;
	opts = options_new(c->defs);
	v = calloc((size_t)argc + 1, sizeof(char *));
	if (opts != NULL && v != NULL) {
		memcpy(v, argv, (size_t)argc * sizeof(char *));
		ret = scan(c, argc, v, opts, strict, fn, ctx);
	} else {
		mesh_errf(c->err, sizeof(c->err), "out of memory");
	}
	free(opts);
	free(v);
	return ret;
}
