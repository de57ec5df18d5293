/* Fixture: an executor that leaves the mandatory submit member NULL. */
#define FIXTURE_ID "nullexec"
#define FIXTURE_NULL_SUBMIT
#include "../Common/fixture_executor.inc"
