/* OpenSSL's libcrypto (already loaded with libcurl) for the Azure driver's certificate
 * credential: reading a PEM key and certificate, and signing the client assertion (RS256). */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
