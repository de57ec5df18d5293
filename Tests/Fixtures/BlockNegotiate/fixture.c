/* Fixture: cdd_negotiate never returns (the vetting child must be stopped at its deadline). */
#define FIXTURE_ID "block_negotiate"
#define FIXTURE_BLOCK_NEGOTIATE
#include "../Common/fixture_driver.inc"
