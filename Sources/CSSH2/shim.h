/* libssh2 for Swift. Many documented libssh2 calls are function-like macros, which Swift
 * does not import; callers use the _ex forms. OpenSSL's libcrypto (libssh2's own backend,
 * so no new dependency) gives SHA-256 for checksums and host key fingerprints. */
#include <libssh2.h>
#include <openssl/sha.h>
