/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Finding, loading and checking provider modules.
 *
 * Modules are cached by path for the life of the regions that use them:
 * each region holds a reference, and the last reference dlclose()s the
 * module, so no code is ever unmapped while a region it created lives.
 * Each failure stage has its own error code and names the file.
 * Which files are trusted to load is in docs/provider-abi.md. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static GMutex modules_lock;
static GHashTable *modules; /* path -> vmmem__module_t*, borrowed */

char **
vmmem__provider_search_path(void)
{
	GPtrArray *dirs = g_ptr_array_new();
	/* secure_getenv: a setuid program must not load code named by its
	 * caller's environment. */
	const char *env = secure_getenv("VMMEM_PROVIDER_PATH");

	if (env) {
		char **parts = g_strsplit(env, ":", -1);
		for (char **p = parts; *p; p++)
			if (**p)
				g_ptr_array_add(dirs, g_strdup(*p));
		g_strfreev(parts);
	}
	g_ptr_array_add(dirs, g_strdup(VMMEM_PROVIDERDIR));
	g_ptr_array_add(dirs, NULL);
	return (char **)g_ptr_array_free(dirs, FALSE);
}

static bool
valid_name(const char *name)
{
	if (!*name || *name == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return true;
}

/* A name is looked up as NAME.so in each search directory; anything with
 * a '/' is a path. */
static char *
resolve(const char *spec, GError **error)
{
	char **dirs;
	GString *tried;

	if (strchr(spec, '/')) {
		if (g_file_test(spec, G_FILE_TEST_EXISTS))
			return g_strdup(spec);
		vmmem__error(error, VMMEM_ERROR_PROVIDER_NOT_FOUND,
			     "provider file '%s' does not exist", spec);
		return NULL;
	}
	if (!valid_name(spec)) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_NOT_FOUND,
			     "'%s' is not a provider name (letters, digits, '-', '_' and '.') "
			     "nor a path",
			     spec);
		return NULL;
	}
	dirs = vmmem__provider_search_path();
	tried = g_string_new(NULL);
	for (char **d = dirs; *d; d++) {
		char *file = g_strdup_printf("%s.so", spec);
		char *path = g_build_filename(*d, file, NULL);

		g_free(file);
		if (g_file_test(path, G_FILE_TEST_EXISTS)) {
			g_strfreev(dirs);
			g_string_free(tried, TRUE);
			return path;
		}
		g_string_append_printf(tried, "%s%s", tried->len ? ", " : "", path);
		g_free(path);
	}
	vmmem__error(error, VMMEM_ERROR_PROVIDER_NOT_FOUND,
		     "provider '%s' not found; looked for %s (set VMMEM_PROVIDER_PATH to add "
		     "directories)",
		     spec, tried->str);
	g_strfreev(dirs);
	g_string_free(tried, TRUE);
	return NULL;
}

#define HAS_MEMBER(ptr, type, member) \
	((ptr)->struct_size >= offsetof(type, member) + sizeof(((type *)0)->member))

/* The smallest option description the core reads: up to description
 * (choices came with it in 1.2, but is optional past a shorter stride). */
#define OPTION_DESC_MIN_SIZE \
	(offsetof(struct vmmem_provider_option_desc, description) + sizeof(const char *))

static bool
option_key_valid(const char *key)
{
	if (!key || !*key)
		return false;
	for (const char *c = key; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return true;
}

/* The accepted keys and option descriptions of descriptor `d` (ABI 1.2):
 * the descriptions' keys when there are descriptions, and then
 * `d->options`, if set too, must list the same keys; else `d->options`. */
static bool
read_options(const char *path, const struct vmmem_provider *d, vmmem__module_t *m,
	     GError **error)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);

	m->option_descs = NULL;
	m->desc_stride = 0;
	if (HAS_MEMBER(d, struct vmmem_provider, option_desc_size) && d->option_descs) {
		m->option_descs = d->option_descs;
		m->desc_stride = d->option_desc_size;
		if (m->desc_stride < OPTION_DESC_MIN_SIZE) {
			vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
				     "provider %s: option_desc_size %zu is too small (at least "
				     "%zu)",
				     path, m->desc_stride, (size_t)OPTION_DESC_MIN_SIZE);
			goto fail;
		}
		for (size_t i = 0; VMMEM__OPTION_DESC(m, i)->key; i++)
			g_ptr_array_add(keys, g_strdup(VMMEM__OPTION_DESC(m, i)->key));
		if (d->options) {
			size_t n = 0;

			for (; d->options[n]; n++) {
				bool found = false;

				for (guint k = 0; k < keys->len && !found; k++)
					found = strcmp(keys->pdata[k], d->options[n]) == 0;
				if (!found) {
					vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
						     "provider %s: option '%s' is in options but "
						     "not in option_descs",
						     path, d->options[n]);
					goto fail;
				}
			}
			if (n != keys->len) {
				vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
					     "provider %s: options lists %zu keys, option_descs "
					     "%u",
					     path, n, keys->len);
				goto fail;
			}
		}
	} else {
		for (size_t n = 0; d->options && d->options[n]; n++)
			g_ptr_array_add(keys, g_strdup(d->options[n]));
	}
	for (guint i = 0; i < keys->len; i++) {
		const char *key = keys->pdata[i];

		if (!option_key_valid(key)) {
			vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
				     "provider %s: option %u: '%s' is not an option key (letters, "
				     "digits, '-', '_' and '.')",
				     path, i, key);
			goto fail;
		}
		for (guint j = 0; j < i; j++) {
			if (strcmp(keys->pdata[j], key) == 0) {
				vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
					     "provider %s: option '%s' is listed twice", path, key);
				goto fail;
			}
		}
	}
	g_ptr_array_add(keys, NULL);
	m->keys = (char **)g_ptr_array_free(keys, FALSE);
	return true;

fail:
	g_ptr_array_unref(keys);
	return false;
}

static bool
check_descriptor(const char *path, const struct vmmem_provider *d, GError **error)
{
	const char *missing = NULL;

	if (!HAS_MEMBER(d, struct vmmem_provider, ops)) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
			     "provider %s: descriptor size %zu is too small (at least %zu)", path,
			     d->struct_size, offsetof(struct vmmem_provider, ops) + sizeof(void *));
		return false;
	}
	/* A newer minor loads: it only appends what this core may ignore
	 * (docs/provider-abi.md, "How the ABI grows"). */
	if (d->abi_major != VMMEM_PROVIDER_ABI_MAJOR) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_ABI,
			     "provider %s was built for provider ABI %u.%u; this vmmem %s loads "
			     "ABI %d.x (it has %d.%d)",
			     path, d->abi_major, d->abi_minor, PACKAGE_VERSION,
			     VMMEM_PROVIDER_ABI_MAJOR, VMMEM_PROVIDER_ABI_MAJOR,
			     VMMEM_PROVIDER_ABI_MINOR);
		return false;
	}
	if (!d->name || !*d->name)
		missing = "name";
	else if (!d->ops)
		missing = "ops";
	else if (!HAS_MEMBER(d->ops, struct vmmem_provider_ops, destroy))
		missing = "ops (struct_size too small for create and destroy)";
	else if (!d->ops->create)
		missing = "ops->create";
	else if (!d->ops->destroy)
		missing = "ops->destroy";
	if (missing) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
			     "provider %s: invalid descriptor: missing %s", path, missing);
		return false;
	}
	return true;
}

/* Code that someone else can replace is code that someone else runs in
 * this process: a provider file, and every directory above it, must be
 * writable by nobody but root and the user this process runs as. */

static bool
trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Why directory `dir` (with `st`) lets others replace what is in it, or
 * NULL. A sticky directory owned by root (/tmp) lets nobody rename or
 * delete another user's entries, so its mode does not matter. */
static char *
unsafe_dir_reason(const char *dir, const struct stat *st)
{
	if (!trusted_owner(st->st_uid))
		return g_strdup_printf("directory %s is owned by uid %u, neither root nor this "
				       "process's user (uid %u)",
				       dir, (unsigned)st->st_uid, (unsigned)geteuid());
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !((st->st_mode & S_ISVTX) && st->st_uid == 0))
		return g_strdup_printf("directory %s is writable by %s (mode %04o)", dir,
				       (st->st_mode & S_IWOTH) ? "everyone" : "its group",
				       (unsigned)(st->st_mode & 07777));
	return NULL;
}

/* Checks every directory from `file`'s parent up to /. `file` is absolute
 * and free of "." and ".."; stat() follows symlinks, so each step is
 * checked as what it resolves to. */
static char *
unsafe_dirs_reason(const char *file)
{
	char *dir = g_path_get_dirname(file);
	char *why = NULL;

	for (;;) {
		struct stat st;
		char *up;

		if (stat(dir, &st) != 0)
			why = g_strdup_printf("cannot stat directory %s: %s", dir, g_strerror(errno));
		else
			why = unsafe_dir_reason(dir, &st);
		if (why || strcmp(dir, "/") == 0)
			break;
		up = g_path_get_dirname(dir);
		g_free(dir);
		dir = up;
	}
	g_free(dir);
	return why;
}

/* Why the opened file `fd` (named `path`) must not be loaded, or NULL.
 * Checks the open file itself (fstat), and the directories both of the
 * path as given and of where it really is (a symlink may lead elsewhere;
 * whoever can write either chain could swap it). */
static char *
unsafe_file_reason(int fd, const char *path)
{
	struct stat st;
	char link[32], *real, *given;
	char *why = NULL;

	if (fstat(fd, &st) != 0)
		return g_strdup_printf("fstat: %s", g_strerror(errno));
	if (!S_ISREG(st.st_mode))
		return g_strdup("it is not a regular file");
	if (!trusted_owner(st.st_uid))
		return g_strdup_printf("it is owned by uid %u, neither root nor this process's "
				       "user (uid %u)",
				       (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & S_IWOTH)
		return g_strdup_printf("it is writable by everyone (mode %04o)",
				       (unsigned)(st.st_mode & 07777));
	if (st.st_mode & S_IWGRP)
		return g_strdup_printf("it is writable by its group (mode %04o)",
				       (unsigned)(st.st_mode & 07777));
	given = g_canonicalize_filename(path, NULL);
	why = unsafe_dirs_reason(given);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	real = why ? NULL : g_file_read_link(link, NULL);
	if (!why && !real)
		why = g_strdup_printf("cannot tell where it is (%s: %s)", link, g_strerror(errno));
	else if (!why && strcmp(real, given) != 0)
		why = unsafe_dirs_reason(real);
	g_free(real);
	g_free(given);
	return why;
}

/* dlclose()s `handle`, and closes its fd unless the object is still
 * loaded under the fd's name (another handle to the same file, or a
 * module that cannot be unloaded): that fd number must then never be
 * reused for another provider, so the fd is left open. */
static void
unload(void *handle, int fd)
{
	char self[32];
	void *still;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	dlclose(handle);
	still = dlopen(self, RTLD_NOW | RTLD_NOLOAD);
	if (still) {
		dlclose(still);
		return;
	}
	close(fd);
}

static vmmem__module_t *
open_module(const char *path, GError **error)
{
	const struct vmmem_provider *(*entry)(void);
	const struct vmmem_provider *desc;
	vmmem__module_t *m;
	char self[32], *why;
	void *handle;
	int fd;

	/* The file is opened once and loaded through its fd: what was
	 * checked is what is loaded, however the path changes meanwhile
	 * (checking the path and then dlopen()ing it was a race). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		vmmem__error_errno(error, VMMEM_ERROR_PROVIDER_NOT_FOUND, e,
				   "provider file '%s': %s", path, g_strerror(e));
		return NULL;
	}
	why = unsafe_file_reason(fd, path);
	if (why) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_LOAD, "refusing to load provider %s: %s",
			     path, why);
		g_free(why);
		close(fd);
		return NULL;
	}
	/* The fd stays open while the module is loaded: the dynamic linker
	 * knows the object by this name, and would hand the same object back
	 * for another file opened under the same fd number. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	handle = dlopen(self, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_LOAD, "cannot load provider %s: %s", path,
			     dlerror());
		close(fd);
		return NULL;
	}
	*(void **)&entry = dlsym(handle, VMMEM_PROVIDER_ENTRY_SYMBOL);
	if (!entry) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_NO_ENTRY,
			     "%s is not a vmmem provider: no symbol %s", path,
			     VMMEM_PROVIDER_ENTRY_SYMBOL);
		unload(handle, fd);
		return NULL;
	}
	desc = entry();
	if (!desc) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
			     "provider %s: %s() returned NULL", path, VMMEM_PROVIDER_ENTRY_SYMBOL);
		unload(handle, fd);
		return NULL;
	}
	if (!(m = vmmem__malloc0(sizeof(*m)))) {
		unload(handle, fd);
		vmmem__nomem(error, "a provider module");
		return NULL;
	}
	if (!check_descriptor(path, desc, error) || !read_options(path, desc, m, error)) {
		g_free(m);
		unload(handle, fd);
		return NULL;
	}
	if (!(m->path = vmmem__strdup(path))) {
		g_strfreev(m->keys);
		g_free(m);
		unload(handle, fd);
		vmmem__nomem(error, "a provider module");
		return NULL;
	}
	m->handle = handle;
	m->fd = fd;
	m->desc = desc;
	m->refcount = 1;
	return m;
}

vmmem__module_t *
vmmem__module_get(const char *spec, GError **error)
{
	vmmem__module_t *m;
	char *path = resolve(spec, error);

	if (!path)
		return NULL;
	g_mutex_lock(&modules_lock);
	if (!modules)
		modules = g_hash_table_new(g_str_hash, g_str_equal);
	m = g_hash_table_lookup(modules, path);
	if (m) {
		m->refcount++;
	} else {
		m = open_module(path, error);
		if (m)
			g_hash_table_insert(modules, m->path, m);
	}
	g_mutex_unlock(&modules_lock);
	g_free(path);
	return m;
}

void
vmmem__module_unref(vmmem__module_t *m)
{
	bool last;

	if (!m)
		return;
	g_mutex_lock(&modules_lock);
	last = --m->refcount == 0;
	if (last)
		g_hash_table_remove(modules, m->path);
	g_mutex_unlock(&modules_lock);
	if (!last)
		return;
	/* VMMEM_NO_DLCLOSE keeps providers mapped so that sanitizer and
	 * valgrind stack traces through them stay readable. */
	if (!getenv("VMMEM_NO_DLCLOSE"))
		unload(m->handle, m->fd);
	g_strfreev(m->keys);
	g_free(m->path);
	g_free(m);
}

bool
vmmem__module_check_options(const vmmem__module_t *m, const char *region_name,
			    const struct vmmem_provider_option *options, size_t n_options,
			    GError **error)
{
	const char *const *known = (const char *const *)m->keys;

	for (size_t i = 0; i < n_options; i++) {
		const char *key = options[i].key;
		bool ok = false;

		if (!key || !options[i].value) {
			vmmem__error(error, VMMEM_ERROR_PROVIDER_OPTION,
				     "region '%s': option %zu has no %s", region_name, i,
				     key ? "value" : "key");
			return false;
		}
		for (size_t k = 0; known && known[k]; k++)
			ok = ok || strcmp(known[k], key) == 0;
		if (!ok) {
			char *list = known && known[0] ? g_strjoinv(", ", (char **)known)
						       : g_strdup("none");
			const char *near = vmmem__nearest_word(key, known);
			char *hint = near ? g_strdup_printf("did you mean '%s'? ", near)
					  : g_strdup("");

			vmmem__error(error, VMMEM_ERROR_PROVIDER_OPTION,
				     "region '%s': provider '%s' (%s) has no option '%s' (%sit "
				     "accepts: %s)",
				     region_name, m->desc->name, m->path, key, hint, list);
			g_free(hint);
			g_free(list);
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(options[j].key, key) == 0) {
				vmmem__error(error, VMMEM_ERROR_PROVIDER_OPTION,
					     "region '%s': option '%s' is given twice", region_name,
					     key);
				return false;
			}
		}
	}
	return true;
}

/* Levenshtein distance, two rows; names and keys are short. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *prev = g_new(size_t, lb + 1), *cur = g_new(size_t, lb + 1), d;

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), sub);
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	g_free(prev);
	g_free(cur);
	return d;
}

const char *
vmmem__nearest_word(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = 3;

	/* Far longer than any key: no hint, and no cost. */
	if (strlen(word) > 64)
		return NULL;
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t d = edit_distance(word, candidates[i]);

		if (d < best_d && d < strlen(candidates[i])) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

const char *
vmmem__provider_message(char *msg, size_t size, int rc)
{
	msg[size - 1] = '\0';
	return msg[0] ? msg : g_strerror(rc);
}

bool
vmmem__module_validate(const vmmem__module_t *m, const char *region_name, uint64_t start,
		       uint64_t size, const struct vmmem_provider_option *options,
		       size_t n_options, GError **error)
{
	const struct vmmem_provider_ops *ops = m->desc->ops;
	struct vmmem_provider_request req;
	char msg[512] = "";
	int rc;

	if (!VMMEM_PROVIDER_HAS_OP(ops, validate))
		return true;
	memset(&req, 0, sizeof(req));
	req.struct_size = sizeof(req);
	req.touch_pages = vmmem__touch_pages;
	req.region_name = region_name;
	req.guest_start = start;
	req.size = size;
	req.options = options;
	req.n_options = n_options;
	rc = ops->validate(&req, msg, sizeof(msg));
	if (rc != 0) {
		vmmem__error_errno(error, VMMEM_ERROR_PROVIDER_OPTION, rc,
				   "provider '%s' (%s) rejects the region: %s", m->desc->name,
				   m->path, vmmem__provider_message(msg, sizeof(msg), rc));
		return false;
	}
	return true;
}

/* ---- Listing what is installed (the public side of the search path) ---- */

char **
vmmem_provider_search_path(void)
{
	return vmmem__provider_search_path();
}

static void
info_free(gpointer p)
{
	vmmem_provider_info_t *info = p;

	g_free(info->path);
	g_free(info->name);
	g_free(info->version);
	g_free(info->description);
	g_strfreev(info->options);
	for (size_t i = 0; info->option_info && info->option_info[i]; i++) {
		vmmem_provider_option_info_t *o = info->option_info[i];

		g_free(o->key);
		g_free(o->type_name);
		g_free(o->default_value);
		g_free(o->description);
		g_strfreev(o->choices);
		g_free(o);
	}
	g_free(info->option_info);
	g_free(info->shadowed_by);
	g_clear_error(&info->error);
	g_free(info);
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *const option_type_names[] = {
	[VMMEM_PROVIDER_OPTION_UNDESCRIBED] = "value", [VMMEM_PROVIDER_OPTION_STRING] = "string",
	[VMMEM_PROVIDER_OPTION_SIZE] = "size",         [VMMEM_PROVIDER_OPTION_BOOL] = "bool",
	[VMMEM_PROVIDER_OPTION_PATH] = "path",         [VMMEM_PROVIDER_OPTION_INTEGER] = "integer",
	[VMMEM_PROVIDER_OPTION_ENUM] = "enum",
};

/* A copy of what the module says of each of its keys. Only members the
 * provider's option_desc_size covers are read; a type this core does not
 * know (a newer minor's) is shown as undescribed, which is safe because
 * types are only ever shown, never used to parse. */
static vmmem_provider_option_info_t **
describe_options(const vmmem__module_t *m)
{
	size_t n = g_strv_length(m->keys);
	vmmem_provider_option_info_t **list = g_new0(vmmem_provider_option_info_t *, n + 1);

	for (size_t i = 0; i < n; i++) {
		vmmem_provider_option_info_t *o = g_new0(vmmem_provider_option_info_t, 1);

		list[i] = o;
		o->key = g_strdup(m->keys[i]);
		if (m->option_descs) {
			const struct vmmem_provider_option_desc *d = VMMEM__OPTION_DESC(m, i);

			if (d->type < G_N_ELEMENTS(option_type_names))
				o->type = d->type;
			o->default_value = g_strdup(d->default_value);
			o->description = g_strdup(d->description);
			if (o->type == VMMEM_PROVIDER_OPTION_ENUM &&
			    VMMEM__OPTION_DESC_HAS(m, choices) && d->choices)
				o->choices = g_strsplit(d->choices, "|", -1);
		}
		o->type_name = g_strdup(option_type_names[o->type]);
	}
	return list;
}

/* Loads one file the way a region would (same checks, same cache), copies
 * what the descriptor says and lets the module go again. */
static vmmem_provider_info_t *
describe(const char *path)
{
	vmmem_provider_info_t *info = g_new0(vmmem_provider_info_t, 1);
	vmmem__module_t *m = vmmem__module_get(path, &info->error);

	info->path = g_strdup(path);
	if (!m) {
		info->options = g_new0(char *, 1);
		info->option_info = g_new0(vmmem_provider_option_info_t *, 1);
		return info;
	}
	info->name = g_strdup(m->desc->name);
	info->version = g_strdup(m->desc->version ? m->desc->version : "");
	info->description = g_strdup(m->desc->description);
	info->abi_major = m->desc->abi_major;
	info->abi_minor = m->desc->abi_minor;
	info->options = g_strdupv(m->keys);
	info->option_info = describe_options(m);
	vmmem__module_unref(m);
	return info;
}

GPtrArray *
vmmem_provider_list(void)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(info_free);
	GHashTable *first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTable *visited = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char **dirs = vmmem__provider_search_path();

	for (char **d = dirs; *d; d++) {
		char *canon = g_canonicalize_filename(*d, NULL);
		GDir *dir;
		GPtrArray *names;
		const char *entry;

		/* VMMEM_PROVIDER_PATH may repeat providerdir: list each file once. */
		if (!g_hash_table_add(visited, canon))
			continue;
		dir = g_dir_open(*d, 0, NULL); /* a missing directory holds nothing */
		names = g_ptr_array_new_with_free_func(g_free);
		if (!dir) {
			g_ptr_array_unref(names);
			continue;
		}
		while ((entry = g_dir_read_name(dir)))
			if (g_str_has_suffix(entry, ".so") && strlen(entry) > 3)
				g_ptr_array_add(names, g_strdup(entry));
		g_dir_close(dir);
		/* Directory order is arbitrary; users compare listings. */
		qsort(names->pdata, names->len, sizeof(char *), compare_strings);
		for (guint i = 0; i < names->len; i++) {
			const char *file = names->pdata[i];
			char *path = g_build_filename(*d, file, NULL);
			vmmem_provider_info_t *info;
			const char *winner;

			info = describe(path);
			/* resolve() takes NAME.so from the first directory that has
			 * it; later files of the same name are never loaded by name. */
			winner = g_hash_table_lookup(first, file);
			if (winner)
				info->shadowed_by = g_strdup(winner);
			else
				g_hash_table_insert(first, g_strdup(file), g_strdup(path));
			g_ptr_array_add(list, info);
			g_free(path);
		}
		g_ptr_array_unref(names);
	}
	g_strfreev(dirs);
	g_hash_table_unref(first);
	g_hash_table_unref(visited);
	return list;
}
