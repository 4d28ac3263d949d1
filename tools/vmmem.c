/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — look at providers and configuration files from the shell.
 *
 *   vmmem providers [--verbose] [NAME]
 *                          what the search path holds, and why files fail;
 *                          NAME or --verbose: every option described
 *   vmmem check [FILE]     validate a config without mapping anything
 *   vmmem layout [--hotplug] [FILE]
 *                          map it and print one row per region; --hotplug
 *                          builds the hotpluggable form (a space) and
 *                          hot-adds the hotplug = true regions one by one
 *
 * Exit status: 0 ok, 1 the configuration or memory is bad, 2 usage error.
 * Results go to stdout, errors to stderr. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <vmmem/vmmem.h>

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2 };

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: vmmem COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  providers [--verbose] [NAME]\n"
		"                 list every provider in the search path (name, version,\n"
		"                 provider ABI, path) and every file that fails to load, with why;\n"
		"                 NAME or --verbose: each option's type, default and meaning\n"
		"  check [FILE]   validate a configuration file without mapping any memory;\n"
		"                 prints \"FILE: ok, N regions\"\n"
		"  layout [--hotplug] [FILE]\n"
		"                 map the configured memory and print one row per region;\n"
		"                 --hotplug creates the hotpluggable form (a space) and then\n"
		"                 hot-adds each region marked hotplug = true, timing each add\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help and exit\n"
		"  -V, --version  show the version and exit\n"
		"\n"
		"Without FILE, check and layout read $VMMEM_CONFIG, else %s.\n"
		"Providers are looked up in $VMMEM_PROVIDER_PATH (colon-separated), then in\n"
		"%s.\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the configuration or the memory it describes is bad (message on stderr)\n"
		"  2  usage error\n",
		vmmem_config_default_path(), VMMEM_PROVIDERDIR);
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmmem: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vmmem --help'.\n");
	return EXIT_USAGE;
}

static int
fail(GError *error)
{
	fprintf(stderr, "vmmem: %s\n", error->message);
	g_error_free(error);
	return EXIT_BAD;
}

/* 768M, 4K, 0x1234 — the exact value, in the largest unit that divides it. */
static char *
format_size(uint64_t v)
{
	static const char units[] = "KMGT";

	for (int i = 3; i >= 0; i--) {
		unsigned shift = 10 * (unsigned)(i + 1);

		if (v && v % ((uint64_t)1 << shift) == 0)
			return g_strdup_printf("%" PRIu64 "%c", v >> shift, units[i]);
	}
	return g_strdup_printf("0x%" PRIx64, v);
}

/* One option as `vmmem providers NAME` shows it:
 *     prefault = yes|no|touch   (default: no)
 *         populate every page at creation ... */
static void
print_option(const vmmem_provider_option_info_t *o)
{
	char *type = o->choices ? g_strjoinv("|", o->choices) : g_ascii_strup(o->type_name, -1);
	char *lhs = g_strdup_printf("%s = %s", o->key, type);

	printf("    %-26s default: %s\n", lhs, o->default_value ? o->default_value : "none");
	printf("        %s\n", o->description ? o->description : "(not described by the provider)");
	g_free(lhs);
	g_free(type);
}

static void
print_provider(const vmmem_provider_info_t *p, bool verbose)
{
	printf("%-12s %-8s ABI %u.%-3u %s\n", p->name, p->version, p->abi_major, p->abi_minor,
	       p->path);
	if (p->shadowed_by)
		printf("             shadowed: loading by name gets %s\n", p->shadowed_by);
	if (p->description)
		printf("             %s\n", p->description);
	if (!p->options[0])
		return;
	if (!verbose) {
		char *opts = g_strjoinv(", ", p->options);
		printf("             options: %s\n", opts);
		g_free(opts);
		return;
	}
	printf("  options:\n");
	for (size_t k = 0; p->option_info[k]; k++)
		print_option(p->option_info[k]);
}

/* vmmem providers [--verbose] [NAME]: every provider, or the one that
 * loading NAME gets, with each option described (always for NAME). */
static int
cmd_providers(int argc, char **argv)
{
	GPtrArray *list;
	char **dirs;
	const char *name = NULL;
	bool verbose = false;
	unsigned failed = 0;
	int rc = EXIT_OK;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
		else if (name)
			return usage_error("'providers' takes one NAME, got a second: '%s'", argv[i]);
		else
			name = argv[i];
	}
	list = vmmem_provider_list();
	if (name) {
		const vmmem_provider_info_t *found = NULL, *broken = NULL;
		char *file = g_strdup_printf("%s.so", name);

		/* What loading by name would get: the first file NAME.so, else
		 * the first provider that calls itself NAME. */
		for (guint i = 0; i < list->len && !found; i++) {
			const vmmem_provider_info_t *p = list->pdata[i];
			char *base = g_path_get_basename(p->path);

			if (!p->shadowed_by && strcmp(base, file) == 0) {
				if (p->error)
					broken = p;
				else
					found = p;
			}
			g_free(base);
		}
		for (guint i = 0; i < list->len && !found && !broken; i++) {
			const vmmem_provider_info_t *p = list->pdata[i];

			if (!p->error && strcmp(p->name, name) == 0)
				found = p;
		}
		g_free(file);
		if (found) {
			print_provider(found, true);
		} else if (broken) {
			fprintf(stderr, "vmmem: %s: %s\n", broken->path, broken->error->message);
			rc = EXIT_BAD;
		} else {
			dirs = vmmem_provider_search_path();
			char *path = g_strjoinv(":", dirs);
			fprintf(stderr, "vmmem: no provider '%s' in the search path %s\n", name, path);
			g_free(path);
			g_strfreev(dirs);
			rc = EXIT_BAD;
		}
		g_ptr_array_unref(list);
		return rc;
	}

	dirs = vmmem_provider_search_path();
	printf("search path:");
	for (char **d = dirs; *d; d++)
		printf(" %s", *d);
	printf("\n");
	g_strfreev(dirs);
	for (guint i = 0; i < list->len; i++) {
		const vmmem_provider_info_t *p = list->pdata[i];

		if (p->error) {
			failed++;
			continue;
		}
		print_provider(p, verbose);
	}
	if (failed) {
		printf("files that failed to load:\n");
		for (guint i = 0; i < list->len; i++) {
			const vmmem_provider_info_t *p = list->pdata[i];

			if (p->error)
				printf("  %s: %s\n", p->path, p->error->message);
		}
	}
	if (list->len == 0)
		printf("no providers found\n");
	g_ptr_array_unref(list);
	return rc;
}

static int
cmd_check(const char *file)
{
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(file, &error);
	size_t n;

	if (!cfg)
		return fail(error);
	if (!vmmem_config_validate(cfg, &error)) {
		vmmem_config_free(cfg);
		return fail(error);
	}
	vmmem_config_regions(cfg, &n);
	printf("%s: ok, %zu region%s\n", vmmem_config_path(cfg), n, n == 1 ? "" : "s");
	vmmem_config_free(cfg);
	return EXIT_OK;
}

static void
print_layout(const vmmem_memory_t *mem, const vmmem_config_t *cfg)
{
	size_t n_specs = 0;
	const vmmem_region_spec_t *specs = cfg ? vmmem_config_regions(cfg, &n_specs) : NULL;

	printf("%-12s %-18s %-18s %-8s %-10s %-9s %-7s %-2s %-9s %-5s %s\n", "REGION", "START",
	       "END", "SIZE", "PROVIDER", "PAGE-SIZE", "SHARING", "FD", "HUGETLBFS", "DIRTY",
	       "HOTPLUG");
	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		uint32_t flags = vmmem_region_flags(r);
		char *size = format_size(vmmem_region_size(r));
		char *page = format_size(vmmem_region_page_size(r));
		bool hot = false;

		for (size_t k = 0; k < n_specs; k++)
			if (strcmp(specs[k].name, vmmem_region_name(r)) == 0)
				hot = vmmem_config_region_hotplug(cfg, k);
		printf("%-12s 0x%016" PRIx64 " 0x%016" PRIx64 " %-8s %-10s %-9s %-7s %-2s %-9s %-5s %s\n",
		       vmmem_region_name(r), vmmem_region_start(r).raw,
		       vmmem_region_last_addr(r).raw, size, vmmem_region_provider_name(r), page,
		       (flags & VMMEM_REGION_SHARED) ? "shared" : "private",
		       (flags & VMMEM_REGION_FD) ? "fd" : "-",
		       (flags & VMMEM_REGION_HUGETLB) ? "hugetlbfs" : "-",
		       vmmem_region_dirty_tracking(r) ? "yes" : "no", hot ? "added" : "-");
		g_free(size);
		g_free(page);
	}
}

static int
cmd_layout(const char *file, bool hotplug)
{
	GError *error = NULL;
	vmmem_config_t *cfg;
	vmmem_space_t *space;
	const vmmem_memory_t *snap;
	const vmmem_region_spec_t *specs;
	size_t n;

	if (!hotplug) {
		vmmem_memory_t *mem = vmmem_memory_new_from_config(file, &error);

		if (!mem)
			return fail(error);
		print_layout(mem, NULL);
		vmmem_memory_unref(mem);
		return EXIT_OK;
	}
	if (!(cfg = vmmem_config_load(file, &error)))
		return fail(error);
	if (!(space = vmmem_config_new_space(cfg, NULL, &error))) {
		vmmem_config_free(cfg);
		return fail(error);
	}
	specs = vmmem_config_regions(cfg, &n);
	for (size_t i = 0; i < n; i++) {
		gint64 t0 = g_get_monotonic_time();

		if (!vmmem_config_region_hotplug(cfg, i))
			continue;
		if (!vmmem_space_add_region_from_config(space, cfg, specs[i].name, &error)) {
			vmmem_space_free(space);
			vmmem_config_free(cfg);
			return fail(error);
		}
		printf("hot-added region '%s' in %.1f us\n", specs[i].name,
		       (double)(g_get_monotonic_time() - t0));
	}
	snap = vmmem_space_get(space);
	print_layout(snap, cfg);
	printf("space: %zu regions, generation %" PRIu64 ", guest span reserved: 0x%" PRIx64 "\n",
	       vmmem_memory_num_regions(snap), vmmem_space_generation(space),
	       vmmem_space_reserved(space));
	vmmem_space_put(space, snap);
	vmmem_space_free(space);
	vmmem_config_free(cfg);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error("%s", "a command is needed: providers, check or layout");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vmmem %s (provider ABI %d.%d)\n", PACKAGE_VERSION,
		       VMMEM_PROVIDER_ABI_MAJOR, VMMEM_PROVIDER_ABI_MINOR);
		return EXIT_OK;
	}
	bool hotplug = false;

	if (strcmp(cmd, "layout") == 0 && argc > 2 && strcmp(argv[2], "--hotplug") == 0) {
		hotplug = true;
		argv[2] = argv[1]; /* drop the option: the rest is parsed as usual */
		argv++;
		argc--;
	}
	if (strcmp(cmd, "providers") == 0)
		return cmd_providers(argc - 2, argv + 2);
	for (int i = 2; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "layout") == 0) {
		if (argc > 3)
			return usage_error("too many arguments, starting at '%s'", argv[3]);
		return cmd[0] == 'c' ? cmd_check(argc > 2 ? argv[2] : NULL)
				     : cmd_layout(argc > 2 ? argv[2] : NULL, hotplug);
	}
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return usage_error("unknown command '%s' (expected providers, check or layout)", cmd);
}
