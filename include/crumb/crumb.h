/* crumb/crumb.h - everything libcrumb offers, in one include. */
#ifndef CRUMB_CRUMB_H
#define CRUMB_CRUMB_H

#define CRUMB_VERSION "0.1.0"

#include <crumb/analytics.h>
#include <crumb/auth.h>
#include <crumb/base64.h>
#include <crumb/cookie.h>
#include <crumb/error.h>
#include <crumb/iface.h>
#include <crumb/random.h>
#include <crumb/remember.h>
#include <crumb/session.h>
#include <crumb/sign.h>
#include <crumb/store.h>
#include <crumb/tagjson.h>

#endif
