/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Fuzzer for the configuration reader (<vmmem/config.h>).
 *
 * The input is the text of a configuration file. It goes to a memfd that
 * vmmem_config_load() reads through /proc/self/fd (there is no API for a
 * file in memory), then through vmmem_config_validate(), and, for small
 * configs of plain anonymous memory, vmmem_config_new_memory(). Every
 * step must either succeed or fail with a VMMEM_ERROR whose message starts
 * with the file name (config.h), and what it parsed must be a layout the
 * core accepts or refuses consistently: a config that validates maps.
 *
 * Not everything a config can say is safe to do here: a [provider] module
 * path would load arbitrary code and a path/fd/allocate option of the
 * mmap provider would map or grow arbitrary files. Such configs are parsed
 * and their layout checked, but not validated or mapped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "fuzz.h"

/* Mapping more than this per input would only make the fuzzer slow. */
#define MAX_MAPPED ((uint64_t)64 << 20)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup_provider_path();
	/* The input names the file, not the environment. */
	unsetenv("VMMEM_CONFIG");
	return 0;
}

static void
check_error(GError *err, const char *path, const char *step)
{
	if (!err)
		fuzz_fail("%s failed without an error", step);
	if (err->domain != VMMEM_ERROR)
		fuzz_fail("%s: an error outside VMMEM_ERROR: %s", step, err->message);
	if (!g_str_has_prefix(err->message, path))
		fuzz_fail("%s: the message does not start with the file name %s: %s", step, path,
			  err->message);
	if (strlen(err->message) <= strlen(path) + 2)
		fuzz_fail("%s: the message says nothing but the file name: %s", step,
			  err->message);
}

/* True if loading the providers and mapping `specs` can do no harm here. */
static bool
safe_to_validate(const vmmem_region_spec_t *specs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (specs[i].provider && strchr(specs[i].provider, '/'))
			return false;
	return true;
}

static bool
safe_to_map(const vmmem_region_spec_t *specs, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		if (specs[i].provider && strcmp(specs[i].provider, "mmap") != 0)
			return false;
		for (size_t k = 0; k < specs[i].n_options; k++) {
			const char *key = specs[i].options[k].key;

			if (strcmp(key, "shared") != 0 && strcmp(key, "prefault") != 0 &&
			    strcmp(key, "reserve") != 0)
				return false;
		}
		if (specs[i].size > MAX_MAPPED - total)
			return false;
		total += specs[i].size;
	}
	return true;
}

/* The memory maps every region but those marked hotplug = true (they
 * are left for a space to add later), and those exactly as configured. */
static void
check_memory(const vmmem_memory_t *mem, const vmmem_config_t *cfg,
	     const vmmem_region_spec_t *specs, size_t n)
{
	size_t present = 0;

	for (size_t i = 0; i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_to_region(mem, specs[i].start, NULL);

		if (vmmem_config_region_hotplug(cfg, i)) {
			if (r)
				fuzz_fail("region '%s' has hotplug = true but is mapped",
					  specs[i].name);
			continue;
		}
		present++;
		if (!r || vmmem_region_start(r).raw != specs[i].start.raw ||
		    vmmem_region_size(r) != specs[i].size)
			fuzz_fail("region '%s' is not mapped as configured", specs[i].name);
	}
	if (vmmem_memory_num_regions(mem) != present)
		fuzz_fail("the config has %zu regions present from the start, the memory %zu",
			  present, vmmem_memory_num_regions(mem));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	const vmmem_region_spec_t *specs;
	vmmem_config_t *cfg;
	vmmem_memory_t *mem;
	GError *err = NULL;
	char path[64];
	size_t n = 0;

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fuzz_fail("cannot write the input to a memfd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	cfg = vmmem_config_load(path, &err);
	if (!cfg) {
		check_error(err, path, "vmmem_config_load");
		if (err->code != VMMEM_ERROR_CONFIG)
			fuzz_fail("vmmem_config_load: not VMMEM_ERROR_CONFIG: %s", err->message);
		goto out;
	}
	if (strcmp(vmmem_config_path(cfg), path) != 0)
		fuzz_fail("vmmem_config_path is %s, not %s", vmmem_config_path(cfg), path);
	specs = vmmem_config_regions(cfg, &n);
	if (!specs || n == 0)
		fuzz_fail("a loaded config without regions");
	for (size_t i = 0; i < n; i++)
		if (!specs[i].name || !*specs[i].name)
			fuzz_fail("region %zu has no name", i);

	if (!safe_to_validate(specs, n))
		goto out;
	if (!vmmem_config_validate(cfg, &err)) {
		check_error(err, path, "vmmem_config_validate");
		g_clear_error(&err);
		/* What does not validate does not map either. */
		if (safe_to_map(specs, n)) {
			mem = vmmem_config_new_memory(cfg, &err);
			if (mem)
				fuzz_fail("vmmem_config_new_memory mapped a config that does not "
					  "validate");
			check_error(err, path, "vmmem_config_new_memory");
		}
		goto out;
	}
	if (!safe_to_map(specs, n))
		goto out;
	mem = vmmem_config_new_memory(cfg, &err);
	if (!mem) {
		size_t present = 0;

		for (size_t i = 0; i < n; i++)
			present += !vmmem_config_region_hotplug(cfg, i);
		/* Only a memory with no region present at start may refuse. */
		if (present || err->code != VMMEM_ERROR_CONFIG)
			fuzz_fail("a config that validates does not map: %s", err->message);
		goto out;
	}
	check_memory(mem, cfg, specs, n);
	vmmem_memory_unref(mem);
out:
	g_clear_error(&err);
	vmmem_config_free(cfg);
	close(fd);
	return 0;
}
