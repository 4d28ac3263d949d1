/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The configuration file: from a key file to region specs, and the checks
 * `vmmem check` runs without mapping anything.
 *
 * GKeyFile does the tokenising. Two things it does not do are done here
 * first, on the raw text, so that the file means what it looks like:
 * - comments after a value or a group header ("size = 1G  # low RAM");
 *   GKeyFile would keep them as part of the value, or reject the header;
 * - a group written twice, which GKeyFile would silently merge.
 * Everything the parser rejects is VMMEM_ERROR_CONFIG and names file,
 * group, key and value; what the core rejects keeps its code and gets the
 * same prefix. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmmem/config.h>
#include <vmmem/space.h>

#include "internal.h"

/* A config file is a few hundred bytes; anything this big is a mistake. */
#define MAX_CONFIG_BYTES (1024 * 1024)

/* Where a region's provider came from, for messages. */
struct region_origin {
	char *group;    /* "region low" */
	char *start;    /* the values as written */
	char *size;
	char *provider; /* "[region low] provider = x" and the module, if any */
	bool hotplug;   /* hotplug = true: not created with the memory */
};

struct vmmem_config {
	char *path;
	size_t n;
	vmmem_region_spec_t *specs;
	struct region_origin *origin;
	bool dirty_all; /* [memory] dirty-tracking = true */
};

static const char default_path[] = VMMEM_SYSCONFDIR "/vmmem/vmmem.conf";

const char *
vmmem_config_default_path(void)
{
	return default_path;
}

/* "PATH: [GROUP] KEY = 'VALUE': message", dropping the parts not given. */
static void G_GNUC_PRINTF(7, 8)
config_error_code(GError **error, int code, const char *path, const char *group,
		  const char *key, const char *value, const char *fmt, ...)
{
	GString *s = g_string_new(path);
	va_list ap;

	g_string_append(s, ": ");
	if (group)
		g_string_append_printf(s, "[%s]", group);
	if (group && key)
		g_string_append_c(s, ' ');
	if (key)
		g_string_append(s, key);
	if (key && value)
		g_string_append_printf(s, " = '%s'", value);
	if (group || key)
		g_string_append(s, ": ");
	va_start(ap, fmt);
	g_string_append_vprintf(s, fmt, ap);
	va_end(ap);
	g_set_error_literal(error, VMMEM_ERROR, code, s->str);
	g_string_free(s, TRUE);
}

#define config_error(error, ...) config_error_code(error, VMMEM_ERROR_CONFIG, __VA_ARGS__)

/* ---- sizes ---- */

/* <vmmem/size.h> is the grammar; this adds what the file's reader is told.
 * On failure *why says what is wrong with it (free it). */
static bool
parse_size(const char *s, uint64_t *out, char **why)
{
	const char *suffix = "";

	switch (vmmem_parse_size(s, out, &suffix)) {
	case VMMEM_SIZE_OK:
		return true;
	case VMMEM_SIZE_EMPTY:
		*why = g_strdup("the value is empty");
		break;
	case VMMEM_SIZE_NEGATIVE:
		*why = g_strdup("a size cannot be negative");
		break;
	case VMMEM_SIZE_NOT_A_NUMBER:
		*why = g_strdup("it is not a number (expected decimal digits, or 0x and hex "
				"digits, then optionally K, M, G or T)");
		break;
	case VMMEM_SIZE_BAD_SUFFIX:
		*why = g_strdup_printf("unknown suffix '%s' (expected K, M, G or T, for "
				       "powers of 1024)",
				       suffix);
		break;
	case VMMEM_SIZE_OVERFLOW:
	default:
		*why = g_strdup("it does not fit in 64 bits (the largest size is "
				"0xffffffffffffffff)");
		break;
	}
	return false;
}

/* ---- reading the file ---- */

static const char *
file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a plain file";
}

static char *
read_file(const char *path, const char *how, gsize *len, GError **error)
{
	char *text = NULL;
	size_t used = 0, cap = 0;
	struct stat st;
	char buf[4096];
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer
	 * before fstat() could refuse it. A regular file ignores it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int e;

	if (fd < 0) {
		e = errno;
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		e = EISDIR;
		goto fail;
	}
	/* A FIFO, socket or device can block a read forever or never end. */
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG,
			    "cannot read configuration file %s%s: it is %s, not a regular file",
			    path, how, file_kind(st.st_mode));
		return NULL;
	}
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			close(fd);
			g_free(text);
			goto fail;
		}
		/* Room for what came and the terminating NUL (an empty file
		 * too). */
		if (used + (size_t)got + 1 > cap) {
			size_t want = MAX(cap * 2, used + (size_t)got + 1);
			char *grown = vmmem__realloc_n(text, want, 1);

			if (!grown) {
				close(fd);
				g_free(text);
				vmmem__nomem(error, "the text of a configuration file");
				return NULL;
			}
			text = grown;
			cap = want;
		}
		if (got == 0)
			break;
		memcpy(text + used, buf, (size_t)got);
		used += (size_t)got;
		if (used > MAX_CONFIG_BYTES) {
			close(fd);
			g_free(text);
			config_error(error, path, NULL, NULL, NULL,
				     "larger than %d bytes: not a vmmem configuration file",
				     MAX_CONFIG_BYTES);
			return NULL;
		}
	}
	close(fd);
	text[used] = '\0';
	*len = used;
	return text;

fail:
	g_set_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG,
		    "cannot read configuration file %s%s: %s", path, how, g_strerror(e));
	return NULL;
}

/* Cuts each line at a '#' that starts it or follows a space or tab, and
 * rejects a group header that appears twice. Keeps the line count, so
 * GKeyFile's messages still point at the right line. */
static char *
strip_comments(const char *path, const char *text, gsize len, GError **error)
{
	/* Each line keeps at most its bytes and gains at most a newline. */
	char *out = vmmem__malloc(len + 2);
	GHashTable *groups;
	gsize pos = 0, o = 0;
	unsigned line_no = 0;

	if (!out) {
		vmmem__nomem(error, "the text of a configuration file");
		return NULL;
	}
	groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		gsize n = nl ? (gsize)(nl - line) : len - pos;
		gsize cut = n;

		line_no++;
		pos += n + (nl ? 1 : 0);
		for (gsize i = 0; i < n; i++) {
			if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
				cut = i;
				break;
			}
		}
		while (cut > 0 && g_ascii_isspace(line[cut - 1]))
			cut--;
		{
			gsize lead = 0;

			while (lead < cut && g_ascii_isspace(line[lead]))
				lead++;
			if (lead < cut && line[lead] == '[' && line[cut - 1] == ']') {
				char *name = g_strndup(line + lead + 1, cut - lead - 2);
				unsigned first = GPOINTER_TO_UINT(g_hash_table_lookup(groups, name));

				if (first) {
					config_error(error, path, name, NULL, NULL,
						     "the group appears twice, at lines %u and %u",
						     first, line_no);
					g_free(name);
					g_hash_table_unref(groups);
					g_free(out);
					return NULL;
				}
				g_hash_table_insert(groups, name, GUINT_TO_POINTER(line_no));
			}
		}
		memcpy(out + o, line, cut);
		o += cut;
		out[o++] = '\n';
	}
	out[o] = '\0';
	g_hash_table_unref(groups);
	return out;
}

/* ---- groups and keys ---- */

/* The value of group/key, trimmed; NULL if the key is absent. */
static char *
get_value(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_value(kf, group, key, NULL);

	return v ? g_strstrip(v) : NULL;
}

/* The keys of a group, rejecting one given twice (GKeyFile keeps the last). */
static char **
get_keys(const char *path, GKeyFile *kf, const char *group, GError **error)
{
	char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
	/* A set, not a pairwise comparison: a group may have any number of
	 * keys, and a quadratic check let 100k of them take minutes. */
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (size_t i = 0; keys && keys[i]; i++) {
		if (!g_hash_table_add(seen, keys[i])) {
			config_error(error, path, group, keys[i], NULL, "the key is given twice");
			g_hash_table_unref(seen);
			g_strfreev(keys);
			return NULL;
		}
	}
	g_hash_table_unref(seen);
	if (!keys && !(keys = vmmem__calloc(1, sizeof(*keys))))
		vmmem__nomem(error, "the keys of a group");
	return keys;
}

/* "region low" -> "low"; NULL if `group` is not of the form "KIND NAME". */
static const char *
group_name(const char *group, const char *kind)
{
	size_t k = strlen(kind);

	if (strncmp(group, kind, k) != 0 || (group[k] != ' ' && group[k] != '\t' && group[k]))
		return NULL;
	group += k;
	while (*group == ' ' || *group == '\t')
		group++;
	return group;
}

static bool
check_provider_name(const char *path, const char *group, const char *key, const char *value,
		    GError **error)
{
	if (!*value) {
		config_error(error, path, group, key, value, "the value is empty");
		return false;
	}
	if (strchr(value, '/')) {
		config_error(error, path, group, key, value,
			     "a provider is named here, not given by path: add a [provider NAME] "
			     "group with module = /absolute/path/to/NAME.so and write "
			     "provider = NAME");
		return false;
	}
	return true;
}

static void
free_spec(vmmem_region_spec_t *spec)
{
	for (size_t i = 0; i < spec->n_options; i++) {
		g_free((char *)spec->options[i].key);
		g_free((char *)spec->options[i].value);
	}
	g_free((void *)spec->options);
	g_free((char *)spec->name);
	g_free((char *)spec->provider);
}

void
vmmem_config_free(vmmem_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free_spec(&cfg->specs[i]);
		g_free(cfg->origin[i].group);
		g_free(cfg->origin[i].start);
		g_free(cfg->origin[i].size);
		g_free(cfg->origin[i].provider);
	}
	g_free(cfg->specs);
	g_free(cfg->origin);
	g_free(cfg->path);
	g_free(cfg);
}

/* A yes/no value: true/false, yes/no, on/off, 1/0. */
static bool
parse_flag(const vmmem_config_t *cfg, const char *group, const char *key, const char *v,
	   bool *out, GError **error)
{
	if (vmmem_provider_parse_bool(v, out))
		return true;
	config_error(error, cfg->path, group, key, v,
		     "not a boolean (true/false, yes/no, on/off, 1/0)");
	return false;
}

/* [memory]: the default provider and dirty tracking for every region. */
static bool
parse_memory(vmmem_config_t *cfg, GKeyFile *kf, const char *group, char **default_provider,
	     GError **error)
{
	char **keys = get_keys(cfg->path, kf, group, error);
	bool ok = keys != NULL;

	for (size_t i = 0; ok && keys[i]; i++) {
		char *v = get_value(kf, group, keys[i]);

		if (strcmp(keys[i], "provider") == 0) {
			ok = check_provider_name(cfg->path, group, keys[i], v, error);
			if (ok && !(*default_provider = vmmem__strdup(v)))
				ok = vmmem__nomem(error, "the [memory] provider");
		} else if (strcmp(keys[i], "dirty-tracking") == 0) {
			ok = parse_flag(cfg, group, keys[i], v, &cfg->dirty_all, error);
		} else {
			static const char *const known[] = { "provider", "dirty-tracking", NULL };
			const char *near = vmmem__nearest_word(keys[i], known);

			config_error(error, cfg->path, group, keys[i], v,
				     "unknown key (%s%s%sthe [memory] group accepts: provider, "
				     "dirty-tracking)",
				     near ? "did you mean '" : "", near ? near : "", near ? "'? " : "");
			ok = false;
		}
		g_free(v);
	}
	g_strfreev(keys);
	return ok;
}

/* [provider NAME]: module = /absolute/path.so */
static bool
parse_provider(vmmem_config_t *cfg, GKeyFile *kf, const char *group, GHashTable *modules,
	       GError **error)
{
	const char *name = group_name(group, "provider");
	char **keys;
	char *module = NULL;
	bool ok;

	if (!*name) {
		config_error(error, cfg->path, group, NULL, NULL,
			     "a provider group needs a name: [provider NAME]");
		return false;
	}
	keys = get_keys(cfg->path, kf, group, error);
	ok = keys != NULL;
	for (size_t i = 0; ok && keys[i]; i++) {
		char *v = get_value(kf, group, keys[i]);

		if (strcmp(keys[i], "module") != 0) {
			static const char *const known[] = { "module", NULL };
			const char *near = vmmem__nearest_word(keys[i], known);

			config_error(error, cfg->path, group, keys[i], v,
				     "unknown key (%s%sa [provider NAME] group accepts: module)",
				     near ? "did you mean 'module'?" : "", near ? " " : "");
			ok = false;
		} else if (!g_path_is_absolute(v)) {
			config_error(error, cfg->path, group, keys[i], v,
				     "the module must be an absolute path (a relative one would "
				     "depend on the current directory)");
			ok = false;
		} else if (!(module = vmmem__strdup(v))) {
			ok = vmmem__nomem(error, "a provider module path");
		}
		g_free(v);
	}
	g_strfreev(keys);
	if (ok && !module) {
		config_error(error, cfg->path, group, "module", NULL,
			     "missing: a [provider NAME] group gives the provider's file with "
			     "module = /absolute/path/to/NAME.so");
		ok = false;
	}
	if (ok) {
		char *key = vmmem__strdup(name);

		if (key)
			g_hash_table_insert(modules, key, module);
		else
			ok = vmmem__nomem(error, "a provider name");
	}
	if (!ok)
		g_free(module);
	return ok;
}

/* start or size is missing. A key spelt like it (`sise = 1M`) was taken
 * for a provider option; naming that key says what is really wrong. */
static bool
missing_region_key(const char *path, const char *group, const vmmem_region_spec_t *spec,
		   const char *key, const char *what, GError **error)
{
	const char *const wanted[] = { key, NULL };

	for (size_t i = 0; i < spec->n_options; i++) {
		const struct vmmem_provider_option *o = &spec->options[i];

		if (vmmem__nearest_word(o->key, wanted)) {
			config_error(error, path, group, o->key, o->value,
				     "unknown key; did you mean '%s'? (every region needs %s = "
				     "%s)",
				     key, key, what);
			return false;
		}
	}
	config_error(error, path, group, key, NULL, "missing: every region needs %s = %s", key,
		     what);
	return false;
}

/* [region NAME]: start, size, provider, and options. */
static bool
parse_region(vmmem_config_t *cfg, GKeyFile *kf, const char *group, char **provider,
	     GError **error)
{
	vmmem_region_spec_t *spec = &cfg->specs[cfg->n];
	struct region_origin *origin = &cfg->origin[cfg->n];
	const char *name = group_name(group, "region");
	GArray *options;
	char **keys;
	bool ok;

	if (!*name) {
		config_error(error, cfg->path, group, NULL, NULL,
			     "a region group needs a name: [region NAME]");
		return false;
	}
	keys = get_keys(cfg->path, kf, group, error);
	if (!keys)
		return false;
	cfg->n++; /* from here on, vmmem_config_free() releases the spec */
	spec->name = vmmem__strdup(name);
	origin->group = vmmem__strdup(group);
	options = g_array_new(FALSE, TRUE, sizeof(struct vmmem_provider_option));
	ok = (spec->name && origin->group) || vmmem__nomem(error, "a region's name");
	for (size_t i = 0; ok && keys[i]; i++) {
		char *v = get_value(kf, group, keys[i]);
		bool is_start = strcmp(keys[i], "start") == 0;

		if (is_start || strcmp(keys[i], "size") == 0) {
			uint64_t n;
			char *why = NULL;

			if (!parse_size(v, &n, &why)) {
				config_error(error, cfg->path, group, keys[i], v, "%s", why);
				g_free(why);
				ok = false;
			} else if (is_start) {
				spec->start.raw = n;
				if (!(origin->start = vmmem__strdup(v)))
					ok = vmmem__nomem(error, "a region's start");
			} else {
				spec->size = n;
				if (!(origin->size = vmmem__strdup(v)))
					ok = vmmem__nomem(error, "a region's size");
			}
		} else if (strcmp(keys[i], "provider") == 0) {
			ok = check_provider_name(cfg->path, group, keys[i], v, error);
			if (ok && !(*provider = vmmem__strdup(v)))
				ok = vmmem__nomem(error, "a region's provider");
		} else if (strcmp(keys[i], "dirty-tracking") == 0) {
			bool on = false;

			ok = parse_flag(cfg, group, keys[i], v, &on, error);
			if (on)
				spec->flags |= VMMEM_SPEC_DIRTY_TRACKING;
		} else if (strcmp(keys[i], "read-only") == 0) {
			bool on = false;

			ok = parse_flag(cfg, group, keys[i], v, &on, error);
			if (on)
				spec->flags |= VMMEM_SPEC_READ_ONLY;
		} else if (strcmp(keys[i], "hotplug") == 0) {
			ok = parse_flag(cfg, group, keys[i], v, &origin->hotplug, error);
		} else {
			struct vmmem_provider_option opt = { vmmem__strdup(keys[i]),
							     vmmem__strdup(v) };

			if (opt.key && opt.value) {
				g_array_append_val(options, opt);
			} else {
				g_free((char *)opt.key);
				g_free((char *)opt.value);
				ok = vmmem__nomem(error, "a provider option");
			}
		}
		g_free(v);
	}
	g_strfreev(keys);
	spec->n_options = options->len;
	spec->options = (struct vmmem_provider_option *)(void *)g_array_free(options, FALSE);
	if (ok && !origin->start)
		ok = missing_region_key(cfg->path, group, spec, "start", "ADDRESS", error);
	if (ok && !origin->size)
		ok = missing_region_key(cfg->path, group, spec, "size", "BYTES", error);
	return ok;
}

/* Points each region at its provider: its own `provider`, else the
 * [memory] default, else the core's default; a name with a
 * [provider NAME] group becomes that group's module path. */
static bool
resolve_providers(vmmem_config_t *cfg, char **region_provider, const char *default_provider,
		  GHashTable *modules, GError **error)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const char *name = region_provider[i] ? region_provider[i] : default_provider;
		const char *module = name ? g_hash_table_lookup(modules, name) : NULL;
		const char *group = cfg->origin[i].group;
		char *where;

		if (region_provider[i])
			where = vmmem__strdup_printf("[%s] provider = '%s'", group, name);
		else if (name)
			where = vmmem__strdup_printf("[%s] uses [memory] provider = '%s'", group, name);
		else
			where = vmmem__strdup_printf("[%s] uses the default provider 'mmap'", group);
		if (where && module) {
			char *base = where;

			where = vmmem__strdup_printf("%s, [provider %s] module = '%s'", base, name,
						     module);
			g_free(base);
		}
		cfg->specs[i].provider = vmmem__strdup(module ? module : name ? name : "mmap");
		cfg->origin[i].provider = where;
		if (!cfg->specs[i].provider || !where)
			return vmmem__nomem(error, "a region's provider");
	}
	return true;
}

static bool
parse(vmmem_config_t *cfg, GKeyFile *kf, GError **error)
{
	gsize n_groups;
	char **groups = g_key_file_get_groups(kf, &n_groups);
	GHashTable *modules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char **region_provider = vmmem__calloc(n_groups + 1, sizeof(char *));
	char *default_provider = NULL;
	bool ok = true;

	cfg->specs = vmmem__calloc(n_groups, sizeof(*cfg->specs));
	cfg->origin = vmmem__calloc(n_groups, sizeof(*cfg->origin));
	if (!region_provider || !cfg->specs || !cfg->origin) {
		g_free(region_provider);
		g_hash_table_unref(modules);
		g_strfreev(groups);
		return vmmem__nomem(error, "the regions of a configuration");
	}
	for (gsize g = 0; ok && g < n_groups; g++) {
		const char *group = groups[g];

		if (strcmp(group, "memory") == 0)
			ok = parse_memory(cfg, kf, group, &default_provider, error);
		else if (group_name(group, "region"))
			ok = parse_region(cfg, kf, group, &region_provider[cfg->n], error);
		else if (group_name(group, "provider"))
			ok = parse_provider(cfg, kf, group, modules, error);
		else {
			config_error(error, cfg->path, group, NULL, NULL,
				     "unknown group (expected [memory], [region NAME] or "
				     "[provider NAME])");
			ok = false;
		}
	}
	if (ok && cfg->n == 0) {
		config_error(error, cfg->path, NULL, NULL, NULL,
			     "no [region NAME] group: a guest memory needs at least one region");
		ok = false;
	}
	if (ok)
		ok = resolve_providers(cfg, region_provider, default_provider, modules, error);
	for (size_t i = 0; ok && cfg->dirty_all && i < cfg->n; i++)
		cfg->specs[i].flags |= VMMEM_SPEC_DIRTY_TRACKING;
	/* Not g_strfreev: regions without a provider leave NULL gaps. */
	for (gsize i = 0; i < n_groups; i++)
		g_free(region_provider[i]);
	g_free(region_provider);
	g_free(default_provider);
	g_hash_table_unref(modules);
	g_strfreev(groups);
	return ok;
}

vmmem_config_t *
vmmem_config_load(const char *path_or_null, GError **error)
{
	const char *env = secure_getenv("VMMEM_CONFIG");
	const char *path, *how;
	GKeyFile *kf;
	GError *local = NULL;
	vmmem_config_t *cfg;
	char *raw, *text;
	gsize len;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	if (path_or_null) {
		path = path_or_null;
		how = "";
	} else if (env && *env) {
		path = env;
		how = " (named by VMMEM_CONFIG)";
	} else {
		path = default_path;
		how = " (the default: no path was given and VMMEM_CONFIG is not set)";
	}
	raw = read_file(path, how, &len, error);
	if (!raw)
		return NULL;
	/* GKeyFile would stop at a NUL and silently drop the rest of the
	 * file: refuse it, naming the line. */
	if (memchr(raw, '\0', len)) {
		const char *nul = memchr(raw, '\0', len);
		unsigned line = 1;

		for (const char *c = raw; c < nul; c++)
			line += *c == '\n';
		config_error(error, path, NULL, NULL, NULL,
			     "line %u contains a NUL byte: this is not a text file", line);
		g_free(raw);
		return NULL;
	}
	text = strip_comments(path, raw, len, error);
	g_free(raw);
	if (!text)
		return NULL;

	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &local)) {
		config_error(error, path, NULL, NULL, NULL, "%s", local->message);
		g_error_free(local);
		g_key_file_free(kf);
		g_free(text);
		return NULL;
	}
	g_free(text);
	cfg = vmmem__malloc0(sizeof(*cfg));
	if (!cfg || !(cfg->path = vmmem__strdup(path)) || !parse(cfg, kf, error)) {
		if (!cfg || !cfg->path)
			vmmem__nomem(error, "a configuration");
		g_key_file_free(kf);
		vmmem_config_free(cfg);
		return NULL;
	}
	g_key_file_free(kf);
	return cfg;
}

const char *
vmmem_config_path(const vmmem_config_t *cfg)
{
	return cfg->path;
}

const vmmem_region_spec_t *
vmmem_config_regions(const vmmem_config_t *cfg, size_t *n)
{
	if (n)
		*n = cfg->n;
	return cfg->specs;
}

/* The specs of the regions present from the start (not hotplug = true),
 * sharing the config's strings; free the array with g_free. */
static vmmem_region_spec_t *
present_specs(const vmmem_config_t *cfg, size_t *n, GError **error)
{
	vmmem_region_spec_t *out = vmmem__calloc(cfg->n, sizeof(*out));

	*n = 0;
	if (!out) {
		vmmem__nomem(error, "the regions of a configuration");
		return NULL;
	}
	for (size_t i = 0; i < cfg->n; i++)
		if (!cfg->origin[i].hotplug)
			out[(*n)++] = cfg->specs[i];
	return out;
}

/* ---- checking without mapping ---- */

/* Start and size must be multiples of the host page size whatever the
 * provider: no mapping is finer than that (see docs/provider-abi.md).
 * Larger pages are the provider's to check, in validate(). */
static bool
check_page_size(const vmmem_config_t *cfg, size_t i, GError **error)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	const vmmem_region_spec_t *spec = &cfg->specs[i];
	const struct region_origin *o = &cfg->origin[i];
	bool bad_start = spec->start.raw % page != 0;

	if (!bad_start && spec->size % page == 0)
		return true;
	config_error_code(error, VMMEM_ERROR_INVALID_LAYOUT, cfg->path, o->group,
			  bad_start ? "start" : "size", bad_start ? o->start : o->size,
			  "0x%" PRIx64 " is not a multiple of the host page size 0x%" PRIx64,
			  bad_start ? spec->start.raw : spec->size, page);
	return false;
}

/* Loads region i's provider and checks its options; on success the module
 * is appended to `held`, which keeps it loaded. */
static bool
check_region(const vmmem_config_t *cfg, size_t i, GPtrArray *held, GError **error)
{
	const vmmem_region_spec_t *spec = &cfg->specs[i];
	const struct region_origin *o = &cfg->origin[i];
	vmmem__module_t *m = vmmem__module_get(spec->provider, error);

	if (!m) {
		g_prefix_error(error, "%s: %s: ", cfg->path, o->provider);
		return false;
	}
	g_ptr_array_add(held, m);
	for (size_t k = 0; k < spec->n_options; k++) {
		if (!vmmem__module_check_options(m, spec->name, &spec->options[k], 1, error)) {
			g_prefix_error(error, "%s: [%s] %s = '%s': ", cfg->path, o->group,
				       spec->options[k].key, spec->options[k].value);
			return false;
		}
	}
	if (!vmmem__module_validate(m, spec->name, spec->start.raw, spec->size, spec->options,
				    spec->n_options, error)) {
		g_prefix_error(error, "%s: [%s]: ", cfg->path, o->group);
		return false;
	}
	return true;
}

static void
release_modules(GPtrArray *held)
{
	for (guint i = 0; i < held->len; i++)
		vmmem__module_unref(held->pdata[i]);
	g_ptr_array_unref(held);
}

static bool
validate(const vmmem_config_t *cfg, GPtrArray *held, GError **error)
{
	/* Page multiples first: the config can name the key and value, the
	 * core's layout check (overlap, wrap, zero size) only the region. */
	for (size_t i = 0; i < cfg->n; i++)
		if (!check_page_size(cfg, i, error))
			return false;
	if (!vmmem__layout_check(cfg->specs, cfg->n, error)) {
		g_prefix_error(error, "%s: ", cfg->path);
		return false;
	}
	for (size_t i = 0; i < cfg->n; i++)
		if (!check_region(cfg, i, held, error))
			return false;
	return true;
}

bool
vmmem_config_validate(const vmmem_config_t *cfg, GError **error)
{
	GPtrArray *held = g_ptr_array_new();
	bool ok;

	g_return_val_if_fail(cfg != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	ok = validate(cfg, held, error);
	release_modules(held);
	return ok;
}

vmmem_memory_t *
vmmem_config_new_memory(const vmmem_config_t *cfg, GError **error)
{
	GPtrArray *held = g_ptr_array_new();
	vmmem_memory_t *mem = NULL;

	g_return_val_if_fail(cfg != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	/* The modules stay loaded from validation to mapping, so each is
	 * opened once. */
	if (validate(cfg, held, error)) {
		size_t n;
		vmmem_region_spec_t *present = present_specs(cfg, &n, error);

		if (present && n == 0)
			config_error(error, cfg->path, NULL, NULL, NULL,
				     "every region has hotplug = true: a memory needs at least one "
				     "region present from the start (a space does not: "
				     "vmmem_config_new_space)");
		else if (present && !(mem = vmmem_memory_new(present, n, error)))
			g_prefix_error(error, "%s: ", cfg->path);
		g_free(present);
	}
	release_modules(held);
	return mem;
}

vmmem_space_t *
vmmem_config_new_space(const vmmem_config_t *cfg, const vmmem_space_options_t *options,
		       GError **error)
{
	GPtrArray *held = g_ptr_array_new();
	vmmem_space_t *space = NULL;

	g_return_val_if_fail(cfg != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	if (validate(cfg, held, error)) {
		size_t n;
		vmmem_region_spec_t *present = present_specs(cfg, &n, error);

		space = present ? vmmem_space_new(present, n, options, error) : NULL;
		if (present && !space)
			g_prefix_error(error, "%s: ", cfg->path);
		g_free(present);
	}
	release_modules(held);
	return space;
}

vmmem_space_t *
vmmem_space_new_from_config(const char *path_or_null, const vmmem_space_options_t *options,
			    GError **error)
{
	vmmem_config_t *cfg = vmmem_config_load(path_or_null, error);
	vmmem_space_t *space;

	if (!cfg)
		return NULL;
	space = vmmem_config_new_space(cfg, options, error);
	vmmem_config_free(cfg);
	return space;
}

bool
vmmem_space_add_region_from_config(vmmem_space_t *space, const vmmem_config_t *cfg,
				   const char *region, GError **error)
{
	GPtrArray *held;
	size_t i;
	bool ok;

	g_return_val_if_fail(space && cfg && region, false);
	for (i = 0; i < cfg->n; i++)
		if (strcmp(cfg->specs[i].name, region) == 0)
			break;
	if (i == cfg->n) {
		config_error_code(error, VMMEM_ERROR_NOT_FOUND, cfg->path, NULL, NULL, NULL,
				  "no [region %s] group", region);
		return false;
	}
	held = g_ptr_array_new();
	ok = check_page_size(cfg, i, error) && check_region(cfg, i, held, error);
	if (ok && !(ok = vmmem_space_add_region(space, &cfg->specs[i], error)))
		g_prefix_error(error, "%s: [%s]: ", cfg->path, cfg->origin[i].group);
	release_modules(held);
	return ok;
}

bool
vmmem_config_region_hotplug(const vmmem_config_t *cfg, size_t i)
{
	return i < cfg->n && cfg->origin[i].hotplug;
}

vmmem_memory_t *
vmmem_memory_new_from_config(const char *path_or_null, GError **error)
{
	vmmem_config_t *cfg = vmmem_config_load(path_or_null, error);
	vmmem_memory_t *mem;

	if (!cfg)
		return NULL;
	mem = vmmem_config_new_memory(cfg, error);
	vmmem_config_free(cfg);
	return mem;
}
