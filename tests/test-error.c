/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Error codes: VMMEM_ERROR_MAP is the one list, the codes keep the values
 * they shipped with, and every code has its name and its message. */
#include <string.h>

#include <vmmem/vmmem.h>
#include "isolate.h"

/* The values, written out by hand: a change here is an ABI break. */
static void
test_values_are_stable(void)
{
	static const struct {
		int code, value;
	} pinned[] = {
		{ VMMEM_ERROR_INVALID_ADDRESS, 1 },     { VMMEM_ERROR_PARTIAL_RANGE, 2 },
		{ VMMEM_ERROR_CROSSES_REGION, 3 },      { VMMEM_ERROR_MISALIGNED, 4 },
		{ VMMEM_ERROR_OVERFLOW, 5 },            { VMMEM_ERROR_IO, 6 },
		{ VMMEM_ERROR_SHORT_TRANSFER, 7 },      { VMMEM_ERROR_NO_SPACE, 8 },
		{ VMMEM_ERROR_INVALID_ARGUMENT, 9 },    { VMMEM_ERROR_INVALID_LAYOUT, 10 },
		{ VMMEM_ERROR_PROVIDER_NOT_FOUND, 11 }, { VMMEM_ERROR_PROVIDER_LOAD, 12 },
		{ VMMEM_ERROR_PROVIDER_NO_ENTRY, 13 },  { VMMEM_ERROR_PROVIDER_ABI, 14 },
		{ VMMEM_ERROR_PROVIDER_INVALID, 15 },   { VMMEM_ERROR_PROVIDER_OPTION, 16 },
		{ VMMEM_ERROR_PROVIDER_CREATE, 17 },    { VMMEM_ERROR_CONFIG, 18 },
		{ VMMEM_ERROR_UNSUPPORTED, 19 },        { VMMEM_ERROR_PROTOCOL, 20 },
		{ VMMEM_ERROR_NOT_FOUND, 21 },          { VMMEM_ERROR_REGION_LOST, 22 },
		{ VMMEM_ERROR_NOMEM, 23 },              { VMMEM_ERROR_READ_ONLY, 24 },
		{ VMMEM_ERROR_IOTLB_MISS, 25 },         { VMMEM_ERROR_IOTLB_DENIED, 26 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(pinned); i++)
		g_assert_cmpint(pinned[i].code, ==, pinned[i].value);
}

/* Codes run 1..N without a gap or a duplicate, so the tables indexed by
 * code have no hole. */
static void
test_values_are_dense(void)
{
	static const int values[] = {
#define VALUE(name, value, message) value,
		VMMEM_ERROR_MAP(VALUE)
#undef VALUE
	};

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++)
		g_assert_cmpint(values[i], ==, (int)i + 1);
}

static void
test_every_code_has_name_and_message(void)
{
	static const struct {
		int code;
		const char *name, *message;
	} codes[] = {
#define ENTRY(name, value, message) { VMMEM_ERROR_##name, "VMMEM_ERROR_" #name, message },
		VMMEM_ERROR_MAP(ENTRY)
#undef ENTRY
	};

	g_assert_cmpuint(G_N_ELEMENTS(codes), ==, 26);
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
		g_assert_cmpstr(vmmem_error_code_name(codes[i].code), ==, codes[i].name);
		g_assert_cmpstr(vmmem_error_code_message(codes[i].code), ==, codes[i].message);
		g_assert_cmpuint(strlen(codes[i].message), >, 0);
	}
	g_assert_cmpstr(vmmem_error_code_message(VMMEM_ERROR_PARTIAL_RANGE), ==,
			"an all-or-nothing access whose range starts backed and runs into a hole");
}

static void
test_unknown_codes(void)
{
	/* One past the last code the map defines, whatever that is. */
#define ONE(name, value, message) +1
	const int unknown[] = { 0, -1, 0 VMMEM_ERROR_MAP(ONE) + 1, 1000, G_MININT, G_MAXINT };
#undef ONE

	for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
		g_assert_cmpstr(vmmem_error_code_name(unknown[i]), ==, "unknown");
		g_assert_cmpstr(vmmem_error_code_message(unknown[i]), ==, "unknown error code");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/error/codes/values-are-stable", test_values_are_stable);
	g_test_add_func("/error/codes/values-are-dense", test_values_are_dense);
	g_test_add_func("/error/codes/every-code-has-name-and-message",
			test_every_code_has_name_and_message);
	g_test_add_func("/error/codes/unknown-code-is-unknown", test_unknown_codes);
	return g_test_run();
}
