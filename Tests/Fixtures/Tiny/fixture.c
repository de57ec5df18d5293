/* Fixture: reports a function table too small for ABI 1.0. */
#define FIXTURE_ID "tiny"
#define FIXTURE_TABLE_SIZE 16
#include "../Common/fixture_driver.inc"
