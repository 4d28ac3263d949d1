#include <vmmem/vmmem.h>
