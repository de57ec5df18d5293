/* Fixture: leaves the mandatory create member NULL. */
#define FIXTURE_ID "nullmember"
#define FIXTURE_NULL_CREATE 1
#include "../Common/fixture_driver.inc"
