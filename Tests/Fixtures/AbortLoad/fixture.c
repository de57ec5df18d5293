/* Fixture: a library whose constructor calls abort(): loading it kills the process that loads it. */
#include <stdlib.h>
#define FIXTURE_ID "abort_load"
#include "../Common/fixture_driver.inc"

__attribute__((constructor)) static void abort_on_load(void) { abort(); }
