/* Fixture: a driver that declares idempotent_create (and keeps it, unless its mode says
 * "ignore_token"). */
#define FIXTURE_ID "idempotent"
#define FIXTURE_IDEMPOTENT 1
#include "../Common/fixture_driver.inc"
