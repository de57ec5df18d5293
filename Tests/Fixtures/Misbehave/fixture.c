/* Fixture: an in-memory driver that misbehaves on request. */

#include "../Common/fixture_driver.inc"
