/* Fixture: cdd_open never returns. */
#define FIXTURE_ID "block_open"
#define FIXTURE_BLOCK_OPEN
#include "../Common/fixture_driver.inc"
