/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — look at providers and configuration files from the shell.
 *
 *   vmmem providers [--verbose] [NAME]
 *                          what the search path holds, and why files fail;
 *                          NAME or --verbose: every option described
 *   vmmem check [FILE]     validate a config without mapping anything, and
 *                          say what only mapping would find out
 *   vmmem layout [--hotplug] [--progress|--no-progress] [FILE]
 *                          map it and print one row per region, then the
 *                          total and resident sizes; --hotplug builds the
 *                          hotpluggable form (a space) and hot-adds the
 *                          hotplug = true regions one by one
 *   vmmem help [COMMAND], vmmem COMMAND --help
 *
 * Each command parses its own options with a GOptionContext, so that
 * `vmmem help check` and `vmmem check --help` print the same text.
 * Exit status: 0 ok, 1 the configuration or memory is bad, 2 usage error.
 * Results go to stdout, errors and progress to stderr. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2 };

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: vmmem COMMAND [OPTION...] [ARGS]\n"
		"\n"
		"Commands:\n"
		"  providers [--verbose] [NAME]\n"
		"                 list every provider in the search path (name, version,\n"
		"                 provider ABI, path) and every file that fails to load, with why;\n"
		"                 NAME or --verbose: each option's type, default and meaning\n"
		"  check [FILE]   validate a configuration file without mapping any memory;\n"
		"                 prints \"FILE: ok, N regions\", then what only mapping can tell\n"
		"  layout [--hotplug] [--progress|--no-progress] [FILE]\n"
		"                 map the configured memory and print one row per region, then\n"
		"                 the total and the resident size; --hotplug creates the\n"
		"                 hotpluggable form (a space) and then hot-adds each region\n"
		"                 marked hotplug = true, timing each add\n"
		"  help [COMMAND] show this help, or a command's options\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help and exit (after a command: its help)\n"
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
usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "vmmem: ");
	fprintf(stderr, fmt, arg);
	if (cmd)
		fprintf(stderr, "\nTry 'vmmem %s --help'.\n", cmd);
	else
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
cmd_providers(const char *name, bool verbose)
{
	GPtrArray *list;
	char **dirs;
	unsigned failed = 0;
	int rc = EXIT_OK;

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

/* ---- check ---------------------------------------------------------------- */

static const char *
spec_option(const vmmem_region_spec_t *s, const char *key)
{
	for (size_t i = 0; i < s->n_options; i++)
		if (strcmp(s->options[i].key, key) == 0)
			return s->options[i].value;
	return NULL;
}

static const char *
spec_provider(const vmmem_region_spec_t *s)
{
	return s->provider ? s->provider : "mmap";
}

/* The kernel's default huge page size (Hugepagesize in /proc/meminfo), 0
 * if it has none. */
static uint64_t
default_huge_page_size(void)
{
	char *text = NULL, *line;
	uint64_t kb = 0;

	if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
		return 0;
	if ((line = strstr(text, "Hugepagesize:")))
		kb = g_ascii_strtoull(line + strlen("Hugepagesize:"), NULL, 10);
	g_free(text);
	return kb * 1024;
}

/* A number from /sys/kernel/mm/hugepages/hugepages-<kB>kB/FILE, or -1. */
static long long
huge_pages_read(uint64_t page_size, const char *file)
{
	char *path = g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s",
				     page_size / 1024, file);
	char *text = NULL;
	long long v = -1;

	if (g_file_get_contents(path, &text, NULL, NULL))
		v = g_ascii_strtoll(text, NULL, 10);
	g_free(text);
	g_free(path);
	return v;
}

/* The huge page size a region takes from the pool, or 0 if it uses none.
 * Only the built-in providers are known here; a third-party provider's
 * pages are its own business (the note in cmd_check says so). */
static uint64_t
spec_huge_page_size(const vmmem_region_spec_t *s)
{
	const char *prov = spec_provider(s);
	const char *ps = spec_option(s, "page-size");
	const char *huge = spec_option(s, "hugetlb");
	uint64_t v = 0;

	if (strcmp(prov, "hugetlbfs") != 0 &&
	    !(strcmp(prov, "memfd") == 0 &&
	      (huge ? (strcmp(huge, "yes") == 0 || strcmp(huge, "true") == 0 ||
		       strcmp(huge, "1") == 0 || strcmp(huge, "on") == 0)
		    : ps != NULL)))
		return 0;
	if (ps && vmmem_parse_size(ps, &v, NULL) == VMMEM_SIZE_OK && v)
		return v;
	return default_huge_page_size();
}

/* mmap's path = FILE is opened only when mapping; whether it exists and is
 * big enough can be known now. Returns false with an error for a file
 * that mapping would refuse; sets *note for what stays unknown. */
static bool
check_path(const vmmem_config_t *cfg, const vmmem_region_spec_t *s, char **note,
	   GError **error)
{
	const char *path = spec_option(s, "path");
	const char *off = spec_option(s, "offset");
	uint64_t offset = 0;
	struct stat st;

	if (!path || strcmp(spec_provider(s), "mmap") != 0)
		return true;
	if (stat(path, &st) != 0) {
		g_set_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG,
			    "%s: [region %s] path = '%s': %s", vmmem_config_path(cfg), s->name,
			    path, g_strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		*note = g_strdup_printf("region '%s': path = '%s' is not a regular file; whether "
					"it can be mapped at that size is found only by mapping",
					s->name, path);
		return true;
	}
	if (off)
		(void)vmmem_parse_size(off, &offset, NULL); /* validate() refused bad ones */
	if (offset > (uint64_t)st.st_size || (uint64_t)st.st_size - offset < s->size) {
		g_set_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG,
			    "%s: [region %s] path = '%s' is 0x%llx bytes; the region needs 0x%llx "
			    "bytes at offset 0x%llx",
			    vmmem_config_path(cfg), s->name, path, (unsigned long long)st.st_size,
			    (unsigned long long)s->size, (unsigned long long)offset);
		return false;
	}
	return true;
}

/* Huge pages are taken from the pool only when a region is mapped, and
 * another process may take them first: what is free now is a fact worth
 * printing, not a promise, so a shortage is reported but is not a failure
 * of the configuration. */
static void
check_huge_pages(const vmmem_region_spec_t *specs, size_t n, const vmmem_config_t *cfg)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t ps = spec_huge_page_size(&specs[i]), need = 0;
		unsigned regions = 0;
		long long free_pages, resv;
		bool seen = false;
		char *psz;

		if (!ps)
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = spec_huge_page_size(&specs[k]) == ps;
		if (seen)
			continue;
		for (size_t k = i; k < n; k++)
			if (spec_huge_page_size(&specs[k]) == ps &&
			    !vmmem_config_region_hotplug(cfg, k)) {
				need += specs[k].size / ps;
				regions++;
			}
		psz = format_size(ps);
		free_pages = huge_pages_read(ps, "free_hugepages");
		resv = huge_pages_read(ps, "resv_hugepages");
		if (free_pages < 0)
			printf("huge pages %s: this kernel has no pool of that size "
			       "(/sys/kernel/mm/hugepages); mapping will fail\n", psz);
		else if ((uint64_t)(free_pages - (resv > 0 ? resv : 0)) < need)
			printf("huge pages %s: NOT ENOUGH now: %" PRIu64 " needed by %u region%s "
			       "mapped at start, %lld free and unreserved (free_hugepages %lld - "
			       "resv_hugepages %lld)\n",
			       psz, need, regions, regions == 1 ? "" : "s",
			       free_pages - (resv > 0 ? resv : 0), free_pages, resv > 0 ? resv : 0);
		else
			printf("huge pages %s: %" PRIu64 " needed by %u region%s mapped at start, "
			       "%lld free and unreserved now (taken only when mapped)\n",
			       psz, need, regions, regions == 1 ? "" : "s",
			       free_pages - (resv > 0 ? resv : 0));
		g_free(psz);
	}
}

static int
cmd_check(const char *file)
{
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(file, &error);
	const vmmem_region_spec_t *specs;
	GPtrArray *notes;
	size_t n;

	if (!cfg)
		return fail(error);
	if (!vmmem_config_validate(cfg, &error)) {
		vmmem_config_free(cfg);
		return fail(error);
	}
	specs = vmmem_config_regions(cfg, &n);
	notes = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < n; i++) {
		char *note = NULL;

		if (!check_path(cfg, &specs[i], &note, &error)) {
			g_ptr_array_unref(notes);
			vmmem_config_free(cfg);
			return fail(error);
		}
		if (note)
			g_ptr_array_add(notes, note);
		if (spec_option(&specs[i], "fd"))
			g_ptr_array_add(notes, g_strdup_printf(
				"region '%s': fd = %s must be open in the process that maps it; "
				"not checked here", specs[i].name, spec_option(&specs[i], "fd")));
	}
	printf("%s: ok, %zu region%s\n", vmmem_config_path(cfg), n, n == 1 ? "" : "s");
	check_huge_pages(specs, n, cfg);
	for (guint i = 0; i < notes->len; i++)
		printf("not checked without mapping: %s\n", (const char *)notes->pdata[i]);
	g_ptr_array_unref(notes);
	vmmem_config_free(cfg);
	return EXIT_OK;
}

/* ---- layout --------------------------------------------------------------- */

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

/* Progress while the regions are mapped. Prefaulting happens inside the
 * providers' create() (MADV_POPULATE_WRITE, or the core's guarded touch),
 * one call per region that may take seconds; rather than a callback
 * through the provider ABI, a thread here watches the process's resident
 * memory grow (VmRSS + HugetlbPages of /proc/self/status, since hugetlb
 * pages are not in VmRSS) against the total being mapped. */
struct progress {
	GMutex lock;
	GCond cond;
	bool done;
	bool tty;
	bool forced;
	bool printed; /* a progress line is on stderr */
	uint64_t expected;
	uint64_t base;
	gint64 t0;
	GThread *thread;
};

/* 1.5 GiB: for progress, where an exact value would flicker. ASCII, unlike
 * g_format_size(), whose no-break space a C locale terminal garbles. */
static char *
human_size(uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = -1;

	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	return u < 0 ? g_strdup_printf("%" PRIu64 " B", v) : g_strdup_printf("%.1f %s", d, units[u]);
}

/* Bytes resident in this process now, or 0 if /proc says nothing. */
static uint64_t
resident_now(void)
{
	static const char *const keys[] = { "VmRSS:", "HugetlbPages:" };
	char *text = NULL;
	uint64_t kb = 0;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *line = strstr(text, keys[i]);

		if (line)
			kb += g_ascii_strtoull(line + strlen(keys[i]), NULL, 10);
	}
	g_free(text);
	return kb * 1024;
}

static void
progress_print(struct progress *p)
{
	uint64_t now = resident_now();
	uint64_t done = now > p->base ? now - p->base : 0;
	char *have = human_size(done);
	char *want = human_size(p->expected);
	unsigned pct = p->expected ? (unsigned)(done >= p->expected ? 100
						: done * 100.0 / (double)p->expected)
				   : 100;

	fprintf(stderr, "%svmmem: mapping %s: %s resident (%u%%), %.1f s%s", p->tty ? "\r" : "",
		want, have, pct, (double)(g_get_monotonic_time() - p->t0) / 1e6,
		p->tty ? "\033[K" : "\n");
	fflush(stderr);
	p->printed = true;
	g_free(have);
	g_free(want);
}

static gpointer
progress_thread(gpointer data)
{
	struct progress *p = data;
	/* Quick mappings print nothing but the final line; then a tty gets
	 * 4 updates a second, a pipe or file one line a second. */
	gint64 next = p->t0 + G_TIME_SPAN_SECOND / 2;

	g_mutex_lock(&p->lock);
	while (!p->done) {
		if (g_cond_wait_until(&p->cond, &p->lock, next) || p->done)
			continue;
		progress_print(p);
		next = g_get_monotonic_time() + (p->tty ? G_TIME_SPAN_SECOND / 4 : G_TIME_SPAN_SECOND);
	}
	g_mutex_unlock(&p->lock);
	return NULL;
}

static void
progress_start(struct progress *p, uint64_t expected, bool forced)
{
	memset(p, 0, sizeof(*p));
	p->forced = forced;
	g_mutex_init(&p->lock);
	g_cond_init(&p->cond);
	p->tty = isatty(STDERR_FILENO);
	p->expected = expected;
	p->base = resident_now();
	p->t0 = g_get_monotonic_time();
	p->thread = g_thread_new("vmmem-progress", progress_thread, p);
}

static void
progress_stop(struct progress *p, bool ok, size_t regions)
{
	char *size;

	if (!p->thread)
		return;
	g_mutex_lock(&p->lock);
	p->done = true;
	g_cond_signal(&p->cond);
	g_mutex_unlock(&p->lock);
	g_thread_join(p->thread);
	p->thread = NULL;
	size = human_size(p->expected);
	/* The last line stays: how long mapping took is worth keeping once
	 * it was long enough to show progress. */
	if (ok && (p->printed || p->forced))
		fprintf(stderr, "%svmmem: mapped %zu region%s, %s, in %.2f s%s\n", p->tty ? "\r" : "",
			regions, regions == 1 ? "" : "s", size,
			(double)(g_get_monotonic_time() - p->t0) / 1e6, p->tty ? "\033[K" : "");
	else if (p->tty && p->printed)
		fprintf(stderr, "\r\033[K");
	g_free(size);
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->cond);
}

/* Bytes of the region present in memory, by mincore(2) over its mapping
 * (for a shared file, pages in the page cache count too); false if
 * mincore fails (errno set). */
static bool
region_resident(const vmmem_region_t *r, uint64_t *out)
{
	const uint64_t host_page = (uint64_t)sysconf(_SC_PAGESIZE);
	const uint64_t chunk = 65536; /* pages per call: a 64 KiB vector */
	uint8_t *base = vmmem_region_host(r);
	uint64_t pages = vmmem_region_size(r) / host_page, have = 0;
	unsigned char *vec = g_malloc(chunk);
	bool ok = true;

	for (uint64_t i = 0; i < pages && ok; i += chunk) {
		uint64_t len = MIN(chunk, pages - i);

		if (mincore(base + i * host_page, len * host_page, vec) != 0) {
			ok = false;
			break;
		}
		for (uint64_t k = 0; k < len; k++)
			have += vec[k] & 1;
	}
	g_free(vec);
	*out = have * host_page;
	return ok;
}

static void
print_totals(const vmmem_memory_t *mem)
{
	size_t n = vmmem_memory_num_regions(mem);
	uint64_t total = 0, resident = 0;
	char *t, *res;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		uint64_t have;

		total += vmmem_region_size(r);
		if (!err && region_resident(r, &have))
			resident += have;
		else if (!err)
			err = errno;
	}
	t = total ? format_size(total) : g_strdup("0");
	res = resident ? format_size(resident) : g_strdup("0");
	if (err)
		printf("total: %s in %zu region%s, resident unknown (mincore: %s)\n", t, n,
		       n == 1 ? "" : "s", g_strerror(err));
	else
		printf("total: %s in %zu region%s, resident %s (mincore)\n", t, n,
		       n == 1 ? "" : "s", res);
	g_free(t);
	g_free(res);
}

/* progress: -1 only on a terminal (the default), 0 never, 1 always. */
static int
cmd_layout(const char *file, bool hotplug, int progress)
{
	GError *error = NULL;
	vmmem_config_t *cfg;
	vmmem_space_t *space;
	const vmmem_memory_t *snap;
	const vmmem_region_spec_t *specs;
	struct progress prog = { 0 };
	uint64_t expected = 0;
	size_t n, mapped = 0;

	if (!(cfg = vmmem_config_load(file, &error)))
		return fail(error);
	specs = vmmem_config_regions(cfg, &n);
	for (size_t i = 0; i < n; i++)
		if (hotplug || !vmmem_config_region_hotplug(cfg, i)) {
			expected += specs[i].size;
			mapped++;
		}
	if (progress > 0 || (progress < 0 && isatty(STDERR_FILENO)))
		progress_start(&prog, expected, progress > 0);
	if (!hotplug) {
		vmmem_memory_t *mem = vmmem_config_new_memory(cfg, &error);

		progress_stop(&prog, mem != NULL, mapped);
		if (!mem) {
			vmmem_config_free(cfg);
			return fail(error);
		}
		print_layout(mem, NULL);
		print_totals(mem);
		vmmem_memory_unref(mem);
		vmmem_config_free(cfg);
		return EXIT_OK;
	}
	if (!(space = vmmem_config_new_space(cfg, NULL, &error))) {
		progress_stop(&prog, false, 0);
		vmmem_config_free(cfg);
		return fail(error);
	}
	for (size_t i = 0; i < n; i++) {
		gint64 t0 = g_get_monotonic_time();

		if (!vmmem_config_region_hotplug(cfg, i))
			continue;
		if (!vmmem_space_add_region_from_config(space, cfg, specs[i].name, &error)) {
			progress_stop(&prog, false, 0);
			vmmem_space_free(space);
			vmmem_config_free(cfg);
			return fail(error);
		}
		printf("hot-added region '%s' in %.1f us\n", specs[i].name,
		       (double)(g_get_monotonic_time() - t0));
	}
	progress_stop(&prog, true, mapped);
	snap = vmmem_space_get(space);
	print_layout(snap, cfg);
	printf("space: %zu regions, generation %" PRIu64 ", guest span reserved: 0x%" PRIx64 "\n",
	       vmmem_memory_num_regions(snap), vmmem_space_generation(space),
	       vmmem_space_reserved(space));
	print_totals(snap);
	vmmem_space_put(space, snap);
	vmmem_space_free(space);
	vmmem_config_free(cfg);
	return EXIT_OK;
}

/* ---- commands and their options ------------------------------------------- */

static gboolean opt_help, opt_verbose, opt_hotplug, opt_progress, opt_no_progress;

#define HELP_ENTRY { "help", 'h', 0, G_OPTION_ARG_NONE, &opt_help, "Show this command's help and exit", NULL }

static const GOptionEntry providers_entries[] = {
	{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
	  "Describe each option: type, default, meaning", NULL },
	HELP_ENTRY,
	G_OPTION_ENTRY_NULL
};
static const GOptionEntry check_entries[] = { HELP_ENTRY, G_OPTION_ENTRY_NULL };
static const GOptionEntry layout_entries[] = {
	{ "hotplug", 0, 0, G_OPTION_ARG_NONE, &opt_hotplug,
	  "Build a space, then hot-add the hotplug = true regions", NULL },
	{ "progress", 0, 0, G_OPTION_ARG_NONE, &opt_progress,
	  "Report progress on stderr even if not a terminal", NULL },
	{ "no-progress", 0, 0, G_OPTION_ARG_NONE, &opt_no_progress,
	  "Never report progress (default off a terminal)", NULL },
	HELP_ENTRY,
	G_OPTION_ENTRY_NULL
};

struct command {
	const char *name;
	const char *args; /* GOptionContext's parameter string */
	const char *summary;
	const char *description;
	const GOptionEntry *entries;
	int max_args;
};

static const struct command commands[] = {
	{ "providers", "[NAME]",
	  "List every provider in the search path ($VMMEM_PROVIDER_PATH, then the\n"
	  "providerdir): name, version, provider ABI and path, and every file that\n"
	  "fails to load, with the reason. With NAME, only that provider.",
	  "Exits 0 even when some files fail to load: listing them is its job.", providers_entries,
	  1 },
	{ "check", "[FILE]",
	  "Validate a configuration file without mapping any memory: sizes, overlap,\n"
	  "page-size multiples, each region's provider and options (the provider's\n"
	  "validate()), and a path = FILE of the mmap provider (exists, long enough).\n"
	  "Prints \"FILE: ok, N regions\", then the huge pages the regions need against\n"
	  "those free now, and a line \"not checked without mapping: ...\" for each\n"
	  "thing only mapping can find out.",
	  "Without FILE, reads $VMMEM_CONFIG, else the default file.\n"
	  "Exit status: 0 ok (a huge page shortage is reported, not an error, since\n"
	  "the pool can change before mapping), 1 the file is bad, 2 usage error.",
	  check_entries, 1 },
	{ "layout", "[FILE]",
	  "Map the configured memory as a consumer would and print one row per\n"
	  "region, then \"total: SIZE in N regions, resident SIZE (mincore)\".\n"
	  "While mapping (prefault can take seconds per GiB), progress is shown on\n"
	  "stderr if it is a terminal.",
	  "Without FILE, reads $VMMEM_CONFIG, else the default file.\n"
	  "Exit status: 0 ok, 1 the file or the memory is bad, 2 usage error.",
	  layout_entries, 1 },
};

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static GOptionContext *
command_context(const struct command *c)
{
	GOptionContext *ctx = g_option_context_new(c->args);
	char *prg = g_strdup_printf("vmmem %s", c->name);

	/* GOptionContext's "Usage:" line names g_get_prgname(). */
	g_set_prgname(prg);
	g_free(prg);
	g_option_context_set_summary(ctx, c->summary);
	g_option_context_set_description(ctx, c->description);
	g_option_context_add_main_entries(ctx, c->entries, NULL);
	/* Our own --help entry, so that `vmmem help CMD` and `vmmem CMD
	 * --help` print the same text, and GLib's --help-all (which lists
	 * nothing more here) does not appear. */
	g_option_context_set_help_enabled(ctx, FALSE);
	return ctx;
}

static int
command_help(const struct command *c)
{
	GOptionContext *ctx = command_context(c);
	char *text = g_option_context_get_help(ctx, TRUE, NULL);

	fputs(text, stdout);
	g_free(text);
	g_option_context_free(ctx);
	return EXIT_OK;
}

static int
command_run(const struct command *c, int argc, char **argv)
{
	GOptionContext *ctx = command_context(c);
	GError *error = NULL;
	const char *arg;

	/* argv[0] is the command: GOptionContext takes it as the program. */
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_option_context_free(ctx);
		fprintf(stderr, "vmmem %s: %s\nTry 'vmmem %s --help'.\n", c->name, error->message,
			c->name);
		g_error_free(error);
		return EXIT_USAGE;
	}
	g_option_context_free(ctx);
	if (opt_help)
		return command_help(c);
	/* GOptionContext refused unknown options, so what is left is
	 * positional; it keeps a "--" when an argument after it starts with
	 * '-' (for a second parser): drop that one, so that
	 * `vmmem check -- -odd.conf` checks the file. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			break;
		}
	if (argc - 1 > c->max_args)
		return usage_error(c->name, "too many arguments, starting at '%s'",
				   argv[1 + c->max_args]);
	arg = argc > 1 ? argv[1] : NULL;
	if (strcmp(c->name, "providers") == 0)
		return cmd_providers(arg, opt_verbose);
	if (strcmp(c->name, "check") == 0)
		return cmd_check(arg);
	if (opt_progress && opt_no_progress)
		return usage_error(c->name, "%s", "--progress and --no-progress contradict each other");
	return cmd_layout(arg, opt_hotplug, opt_progress ? 1 : opt_no_progress ? 0 : -1);
}

int
main(int argc, char **argv)
{
	const struct command *c;
	const char *cmd;

	if (argc < 2)
		return usage_error(NULL, "%s", "a command is needed: providers, check or layout");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		if (argc > 3)
			return usage_error(NULL, "too many arguments, starting at '%s'", argv[3]);
		if (argc == 3) {
			if (!(c = find_command(argv[2])))
				return usage_error(NULL,
						   "help: unknown command '%s' (expected "
						   "providers, check or layout)",
						   argv[2]);
			return command_help(c);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vmmem %s (provider ABI %d.%d)\n", PACKAGE_VERSION,
		       VMMEM_PROVIDER_ABI_MAJOR, VMMEM_PROVIDER_ABI_MINOR);
		return EXIT_OK;
	}
	if ((c = find_command(cmd)))
		return command_run(c, argc - 1, argv + 1);
	if (cmd[0] == '-')
		return usage_error(NULL, "unknown option '%s'", cmd);
	return usage_error(NULL, "unknown command '%s' (expected providers, check or layout)", cmd);
}
