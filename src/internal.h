/* internal.h - declarations shared between libcrumb's own files only. */
#ifndef CRUMB_INTERNAL_H
#define CRUMB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#endif
