/* auth_int.h - internal interfaces shared by the files in src/auth/. */
#ifndef CRUMB_AUTH_INT_H
#define CRUMB_AUTH_INT_H

/*
 * crumb__password_check - whether @hash is a werkzeug-format hash that
 * crumb_password_verify() would compute (without computing it).
 * Returns CRUMB_OK, CRUMB_EMALFORMED or CRUMB_EUNSUPPORTED.
 */
int crumb__password_check(const char *hash);

#endif
