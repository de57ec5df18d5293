/* Fixture: an executor built for ABI 2.0. */
#define FIXTURE_ID "major2exec"
#define FIXTURE_MAJOR 2
#include "../Common/fixture_executor.inc"
