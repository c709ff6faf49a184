// OpenSSL's libcrypto (SHA-256 through the EVP digest API), found through pkg-config.
#include <openssl/evp.h>
