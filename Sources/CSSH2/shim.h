/* libssh2 for Swift. Many documented libssh2 calls are function-like macros, which Swift
 * does not import; callers use the _ex forms. */
#include <libssh2.h>
