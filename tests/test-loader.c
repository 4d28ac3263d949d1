#include <vmmem/vmmem.h>
static void t(void) { g_assert_true(TRUE); }
int main(int argc, char **argv) { g_test_init(&argc, &argv, NULL); g_test_add_func("/placeholder", t); return g_test_run(); }
