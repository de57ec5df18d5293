/* Fixture: the in-memory executor backend the loader tests and the executor kit use. */
#include "../Common/fixture_executor.inc"
