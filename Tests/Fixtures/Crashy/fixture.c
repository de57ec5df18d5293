/* Fixture: a working in-memory driver that dies of SIGSEGV on every third instance-set call. */
#define FIXTURE_ID "crashy"
#define FIXTURE_CRASH_EVERY 3
#include "../Common/fixture_driver.inc"
