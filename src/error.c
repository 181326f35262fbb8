/* error.c - text for crumb status codes. */
#include <crumb/error.h>

const char *
crumb_strerror(int status)
{
    switch (status) {
    case CRUMB_OK:
        return "success";
#define CRUMB__ERR_TEXT(name, code, text)                                    \
    case (code):                                                             \
        return text;
        CRUMB_ERRNO_MAP(CRUMB__ERR_TEXT)
#undef CRUMB__ERR_TEXT
    }
    return "unknown error";
}

const char *
crumb_errname(int status)
{
    switch (status) {
    case CRUMB_OK:
        return "CRUMB_OK";
#define CRUMB__ERR_NAME(name, code, text)                                    \
    case (code):                                                             \
        return "CRUMB_" #name;
        CRUMB_ERRNO_MAP(CRUMB__ERR_NAME)
#undef CRUMB__ERR_NAME
    }
    return "CRUMB_UNKNOWN";
}
