/* Fixture: an ELF library without the entry functions. */
#define FIXTURE_NO_ENTRY 1
#include "../Common/fixture_driver.inc"
