/* Fixture: an executor that reports a table too small for ABI 1.0. */
#define FIXTURE_ID "tinyexec"
#define FIXTURE_TABLE_SIZE 16
#include "../Common/fixture_executor.inc"
