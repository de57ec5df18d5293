/* Fixture: built against a future minor (1.1) that added one member. */
#define FIXTURE_ID "future"
#define FIXTURE_MINOR 1
#include "../Common/fixture_driver.inc"
