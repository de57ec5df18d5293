/* Fixture: a driver that declares it creates real, billed instances. */
#define FIXTURE_ID "realcloud"
#define FIXTURE_REAL_CLOUD 1
#include "../Common/fixture_driver.inc"
