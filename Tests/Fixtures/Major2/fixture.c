/* Fixture: built for ABI major 2. */
#define FIXTURE_ID "major2"
#define FIXTURE_MAJOR 2
#include "../Common/fixture_driver.inc"
