/* crumb/error.h - status codes shared by every crumb function. */
#ifndef CRUMB_ERROR_H
#define CRUMB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every fallible crumb function returns int: CRUMB_OK (0) or one of the
 * negative codes below. The X-macro gives both the enum and the text that
 * crumb_strerror() returns.
 */
#define CRUMB_ERRNO_MAP(X)                                                   \
    X(ENOMEM, -1, "out of memory")                                           \
    X(EINVAL, -2, "invalid argument")                                        \
    X(ETOOBIG, -3, "value too large")                                        \
    X(ENOTFOUND, -4, "not found")                                            \
    X(ETYPE, -5, "value has another type")                                   \
    X(EMALFORMED, -6, "malformed input")                                     \
    X(EBADSIG, -7, "bad signature")                                          \
    X(EEXPIRED, -8, "expired")                                               \
    X(ENOKEY, -9, "no secret key")                                           \
    X(ECRYPTO, -10, "cryptographic library failure")                         \
    X(ESTORE, -11, "session store failure")                                  \
    X(EUNAVAIL, -12, "session store unreachable")                            \
    X(ECONFLICT, -13, "concurrent update conflict")                          \
    X(EEXIST, -14, "already exists")                                         \
    X(EIO, -15, "input/output error")                                        \
    X(EUNSUPPORTED, -16, "not supported")

typedef enum crumb_status {
    CRUMB_OK = 0,
#define CRUMB__ERR_ENUM(name, code, text) CRUMB_##name = (code),
    CRUMB_ERRNO_MAP(CRUMB__ERR_ENUM)
#undef CRUMB__ERR_ENUM
} crumb_status;

/**
 * crumb_strerror - text for a status code.
 *
 * Returns a static English string; an unknown code gives "unknown error".
 * Lifetime: static, never freed. Thread-safe.
 */
const char *crumb_strerror(int status);

/**
 * crumb_errname - the code's name ("CRUMB_EBADSIG") for logs and tests.
 * Lifetime: static. Thread-safe.
 */
const char *crumb_errname(int status);

#ifdef __cplusplus
}
#endif
#endif
