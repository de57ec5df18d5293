/* Fixture: an executor whose cdx_open never returns. */
#define FIXTURE_ID "blockexec"
#define FIXTURE_BLOCK_OPEN
#include "../Common/fixture_executor.inc"
