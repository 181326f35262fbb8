/* session.c - the session object: tagged JSON data, Flask's flags and the
 * change journal that server-side stores apply. */
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/session.h>
#include <crumb/tagjson.h>

#include "internal.h"

struct crumb_session {
    json_t *data; /* always an object */
    unsigned is_new : 1;
    unsigned modified : 1;
    unsigned accessed : 1;
    crumb_change *changes;
    size_t nchanges, cap;
    crumb__session_srv srv; /* server-side state, see internal.h */
};

crumb_session *
crumb_session_new(void)
{
    crumb_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->data = json_object();
    if (!s->data) {
        free(s);
        return NULL;
    }
    s->is_new = 1;
    return s;
}

crumb__session_srv *
crumb__session_srv_of(crumb_session *s)
{
    return &s->srv;
}

void
crumb_session_regenerate(crumb_session *s)
{
    s->srv.regenerate = 1;
    s->accessed = 1;
}

void
crumb_session_destroy(crumb_session *s)
{
    s->srv.destroy = 1;
    s->accessed = 1;
}

int
crumb_session_regenerating(const crumb_session *s)
{
    return s->srv.regenerate;
}

int
crumb_session_destroying(const crumb_session *s)
{
    return s->srv.destroy;
}

int
crumb_session_set_user(crumb_session *s, const char *user)
{
    if (!user)
        user = "";
    size_t n = strlen(user);
    if (n >= sizeof s->srv.user)
        return CRUMB_EINVAL;
    if (strcmp(s->srv.user, user) != 0) {
        memcpy(s->srv.user, user, n + 1);
        s->srv.meta_changed = 1;
    }
    return CRUMB_OK;
}

const char *
crumb_session_user(const crumb_session *s)
{
    return s->srv.user;
}

/* Copies printable ASCII only, truncated to fit: these end up in pages. */
static void
copy_printable(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < size; src++)
        if ((unsigned char)*src >= 0x20 && (unsigned char)*src < 0x7f)
            dst[n++] = *src;
    dst[n] = '\0';
}

void
crumb_session_set_client(crumb_session *s, const char *addr, const char *agent)
{
    copy_printable(s->srv.addr, sizeof s->srv.addr, addr);
    copy_printable(s->srv.agent, sizeof s->srv.agent, agent);
}

const char *
crumb_session_handle(const crumb_session *s)
{
    return s->srv.handle;
}

crumb_session *
crumb_session_new_from(json_t *data, int steal)
{
    if (!json_is_object(data)) {
        if (steal)
            json_decref(data);
        return NULL;
    }
    crumb_session *s = calloc(1, sizeof *s);
    if (!s) {
        if (steal)
            json_decref(data);
        return NULL;
    }
    s->data = steal ? data : json_deep_copy(data);
    if (!s->data) {
        free(s);
        return NULL;
    }
    return s;
}

static void
changes_free(crumb_session *s)
{
    for (size_t i = 0; i < s->nchanges; i++) {
        free((char *)s->changes[i].path);
        json_decref((json_t *)s->changes[i].value);
    }
    s->nchanges = 0;
}

void
crumb_session_free(crumb_session *s)
{
    if (!s)
        return;
    changes_free(s);
    free(s->changes);
    json_decref(s->data);
    free(s);
}

int
crumb_session_is_new(const crumb_session *s)
{
    return s->is_new;
}

int
crumb_session_is_modified(const crumb_session *s)
{
    return s->modified;
}

int
crumb_session_was_accessed(const crumb_session *s)
{
    return s->accessed;
}

int
crumb_session_is_permanent(const crumb_session *s)
{
    return json_is_true(json_object_get(s->data, "_permanent"));
}

void
crumb_session_set_new(crumb_session *s, int is_new)
{
    s->is_new = is_new != 0;
}

void
crumb_session_mark_modified(crumb_session *s)
{
    s->modified = 1;
    s->accessed = 1;
}

/* ---- JSON Pointer (RFC 6901) ------------------------------------------- */

/*
 * Writes the next reference token of @p (just past a '/') into @buf with
 * "~1" -> '/' and "~0" -> '~' undone; returns the position after it, or
 * NULL for a malformed escape or a token longer than @size - 1.
 */
static const char *
ptr_token(const char *p, char *buf, size_t size)
{
    size_t n = 0;
    while (*p && *p != '/') {
        char c = *p++;
        if (c == '~') {
            if (*p == '0')
                c = '~';
            else if (*p == '1')
                c = '/';
            else
                return NULL;
            p++;
        }
        if (n + 1 >= size)
            return NULL;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return p;
}

/* An array index per RFC 6901: "0" or digits without a leading zero. */
static int
ptr_index(const char *tok, size_t *out)
{
    if (!*tok || (tok[0] == '0' && tok[1]) || strlen(tok) > 9)
        return -1;
    size_t v = 0;
    for (const char *c = tok; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (size_t)(*c - '0');
    }
    *out = v;
    return 0;
}

#define PTR_TOKEN_MAX 1024

static json_t *
ptr_get(json_t *root, const char *ptr)
{
    char tok[PTR_TOKEN_MAX];
    json_t *cur = root;
    if (!ptr || (*ptr && *ptr != '/'))
        return NULL;
    while (cur && *ptr == '/') {
        ptr = ptr_token(ptr + 1, tok, sizeof tok);
        if (!ptr)
            return NULL;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            size_t i;
            cur = ptr_index(tok, &i) == 0 ? json_array_get(cur, i) : NULL;
        } else {
            return NULL;
        }
    }
    return cur;
}

/*
 * Finds the container that holds the last token of @ptr, creating missing
 * objects on the way when @create. *last receives that token.
 * Returns the container or NULL (bad pointer, a scalar in the way, ENOMEM).
 */
static json_t *
ptr_parent(json_t *root, const char *ptr, int create, char *last, size_t size)
{
    char tok[PTR_TOKEN_MAX];
    json_t *cur = root;
    if (!ptr || *ptr != '/')
        return NULL;
    ptr = ptr_token(ptr + 1, tok, sizeof tok);
    while (ptr && *ptr == '/') {
        json_t *next;
        if (json_is_object(cur)) {
            next = json_object_get(cur, tok);
            if (!next && create) {
                next = json_object();
                if (!next || json_object_set_new(cur, tok, next) != 0)
                    return NULL;
            }
        } else if (json_is_array(cur)) {
            size_t i;
            next = ptr_index(tok, &i) == 0 ? json_array_get(cur, i) : NULL;
        } else {
            return NULL;
        }
        if (!next)
            return NULL;
        cur = next;
        ptr = ptr_token(ptr + 1, tok, sizeof tok);
    }
    if (!ptr || strlen(tok) + 1 > size)
        return NULL;
    memcpy(last, tok, strlen(tok) + 1);
    return (json_is_object(cur) || json_is_array(cur)) ? cur : NULL;
}

/* Sets @value (reference stolen) at @ptr. */
static int
ptr_set_new(json_t *root, const char *ptr, json_t *value)
{
    char last[PTR_TOKEN_MAX];
    if (!value)
        return CRUMB_ENOMEM;
    json_t *parent = ptr_parent(root, ptr, 1, last, sizeof last);
    if (!parent) {
        json_decref(value);
        return CRUMB_EINVAL;
    }
    if (json_is_object(parent))
        return json_object_set_new(parent, last, value) == 0 ? CRUMB_OK
                                                             : CRUMB_EINVAL;
    size_t i;
    if (strcmp(last, "-") == 0)
        return json_array_append_new(parent, value) == 0 ? CRUMB_OK
                                                         : CRUMB_ENOMEM;
    if (ptr_index(last, &i) != 0 || i > json_array_size(parent)) {
        json_decref(value);
        return CRUMB_EINVAL;
    }
    if (i == json_array_size(parent))
        return json_array_append_new(parent, value) == 0 ? CRUMB_OK
                                                         : CRUMB_ENOMEM;
    return json_array_set_new(parent, i, value) == 0 ? CRUMB_OK : CRUMB_ENOMEM;
}

static int
ptr_delete(json_t *root, const char *ptr)
{
    char last[PTR_TOKEN_MAX];
    json_t *parent = ptr_parent(root, ptr, 0, last, sizeof last);
    if (!parent)
        return CRUMB_ENOTFOUND;
    if (json_is_object(parent))
        return json_object_del(parent, last) == 0 ? CRUMB_OK : CRUMB_ENOTFOUND;
    size_t i;
    if (ptr_index(last, &i) != 0 || json_array_remove(parent, i) != 0)
        return CRUMB_ENOTFOUND;
    return CRUMB_OK;
}

static int
ptr_incr(json_t *root, const char *ptr, int64_t delta, int64_t *result)
{
    json_t *cur = ptr_get(root, ptr);
    int64_t v = 0;
    if (cur) {
        if (!json_is_integer(cur))
            return CRUMB_ETYPE;
        v = (int64_t)json_integer_value(cur);
    }
    int64_t sum;
    if (__builtin_add_overflow(v, delta, &sum))
        return CRUMB_ETOOBIG;
    int rc = CRUMB_OK;
    if (cur)
        json_integer_set(cur, (json_int_t)sum);
    else
        rc = ptr_set_new(root, ptr, json_integer((json_int_t)sum));
    if (rc == CRUMB_OK && result)
        *result = sum;
    return rc;
}

/* "/" + the key with '~' and '/' escaped; malloc'd. */
static char *
key_pointer(const char *key)
{
    size_t n = 1;
    for (const char *c = key; *c; c++)
        n += (*c == '~' || *c == '/') ? 2 : 1;
    char *p = malloc(n + 1), *w = p;
    if (!p)
        return NULL;
    *w++ = '/';
    for (const char *c = key; *c; c++) {
        if (*c == '~' || *c == '/') {
            *w++ = '~';
            *w++ = *c == '~' ? '0' : '1';
        } else {
            *w++ = *c;
        }
    }
    *w = '\0';
    return p;
}

/* ---- the journal -------------------------------------------------------- */

/* Appends a change; takes ownership of @path and of a reference to @value.
 * On failure both are released and CRUMB_ENOMEM returned. */
static int
journal_add(crumb_session *s, crumb_change_op op, char *path, json_t *value,
            int64_t delta)
{
    if (s->nchanges == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        crumb_change *c = realloc(s->changes, cap * sizeof *c);
        if (!c) {
            free(path);
            json_decref(value);
            return CRUMB_ENOMEM;
        }
        s->changes = c;
        s->cap = cap;
    }
    s->changes[s->nchanges++] = (crumb_change){op, path, value, delta};
    return CRUMB_OK;
}

size_t
crumb_session_changes(const crumb_session *s, const crumb_change **changes)
{
    *changes = s->changes;
    return s->nchanges;
}

void
crumb_session_changes_reset(crumb_session *s)
{
    changes_free(s);
}

int
crumb_session_apply_changes(json_t *data, const crumb_change *changes, size_t n)
{
    int result = CRUMB_OK;
    if (!json_is_object(data))
        return CRUMB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const crumb_change *c = &changes[i];
        int rc = CRUMB_OK;
        switch (c->op) {
        case CRUMB_CHANGE_SET:
            rc = ptr_set_new(data, c->path, json_deep_copy(c->value));
            break;
        case CRUMB_CHANGE_DELETE:
            rc = ptr_delete(data, c->path);
            if (rc == CRUMB_ENOTFOUND)
                rc = CRUMB_OK; /* already gone: the goal holds */
            break;
        case CRUMB_CHANGE_INCR:
            rc = ptr_incr(data, c->path, c->delta, NULL);
            break;
        case CRUMB_CHANGE_CLEAR:
            rc = json_object_clear(data) == 0 ? CRUMB_OK : CRUMB_ENOMEM;
            break;
        }
        if (rc == CRUMB_ENOMEM)
            return rc;
        if (rc != CRUMB_OK)
            result = CRUMB_ETYPE; /* skip it, apply the rest */
    }
    return result;
}

/* ---- reads ----------------------------------------------------------------
 */

size_t
crumb_session_count(crumb_session *s)
{
    s->accessed = 1;
    return json_object_size(s->data);
}

int
crumb_session_contains(crumb_session *s, const char *key)
{
    s->accessed = 1;
    return key && json_object_get(s->data, key) != NULL;
}

const json_t *
crumb_session_get_json(crumb_session *s, const char *key)
{
    s->accessed = 1;
    return key ? json_object_get(s->data, key) : NULL;
}

const json_t *
crumb_session_get_path(crumb_session *s, const char *pointer)
{
    s->accessed = 1;
    return ptr_get(s->data, pointer);
}

const char *
crumb_session_get_string(crumb_session *s, const char *key, const char *def)
{
    const json_t *v = crumb_session_get_json(s, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

int64_t
crumb_session_get_int(crumb_session *s, const char *key, int64_t def)
{
    const json_t *v = crumb_session_get_json(s, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

double
crumb_session_get_double(crumb_session *s, const char *key, double def)
{
    const json_t *v = crumb_session_get_json(s, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

int
crumb_session_get_bool(crumb_session *s, const char *key, int def)
{
    const json_t *v = crumb_session_get_json(s, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

const json_t *
crumb_session_data(crumb_session *s)
{
    s->accessed = 1;
    return s->data;
}

json_t *
crumb_session_edit(crumb_session *s, const char *key)
{
    json_t *v = key ? json_object_get(s->data, key) : NULL;
    s->accessed = 1;
    if (!v)
        return NULL;
    char *path = key_pointer(key);
    if (!path || journal_add(s, CRUMB_CHANGE_SET, path, json_incref(v), 0))
        return NULL;
    s->modified = 1;
    return v;
}

/* ---- writes ------------------------------------------------------------- */

/* Stores @value (reference stolen) at @pointer and journals it. */
static int
set_at(crumb_session *s, const char *pointer, json_t *value)
{
    s->accessed = 1;
    if (!value)
        return CRUMB_EINVAL; /* jansson refused it: bad UTF-8 or NaN */
    if (crumb_tagjson_check(value) != CRUMB_OK) {
        json_decref(value);
        return CRUMB_EINVAL;
    }
    char *path = strdup(pointer);
    if (!path) {
        json_decref(value);
        return CRUMB_ENOMEM;
    }
    int rc = ptr_set_new(s->data, pointer, json_incref(value));
    if (rc != CRUMB_OK) {
        free(path);
        json_decref(value);
        return rc;
    }
    s->modified = 1;
    return journal_add(s, CRUMB_CHANGE_SET, path, value, 0);
}

static int
set_key(crumb_session *s, const char *key, json_t *value)
{
    if (!key) {
        json_decref(value);
        return CRUMB_EINVAL;
    }
    char *ptr = key_pointer(key);
    if (!ptr) {
        json_decref(value);
        return CRUMB_ENOMEM;
    }
    int rc = set_at(s, ptr, value);
    free(ptr);
    return rc;
}

int
crumb_session_set_string(crumb_session *s, const char *key, const char *value)
{
    return set_key(s, key, value ? json_string(value) : NULL);
}

int
crumb_session_set_int(crumb_session *s, const char *key, int64_t value)
{
    return set_key(s, key, json_integer((json_int_t)value));
}

int
crumb_session_set_double(crumb_session *s, const char *key, double value)
{
    return set_key(s, key, json_real(value));
}

int
crumb_session_set_bool(crumb_session *s, const char *key, int value)
{
    return set_key(s, key, json_boolean(value));
}

int
crumb_session_set_null(crumb_session *s, const char *key)
{
    return set_key(s, key, json_null());
}

int
crumb_session_set_json(crumb_session *s, const char *key, const json_t *value)
{
    return set_key(s, key, value ? json_deep_copy(value) : NULL);
}

int
crumb_session_set_path(crumb_session *s, const char *pointer,
                       const json_t *value)
{
    if (!pointer || *pointer != '/')
        return CRUMB_EINVAL;
    return set_at(s, pointer, value ? json_deep_copy(value) : NULL);
}

int
crumb_session_set_permanent(crumb_session *s, int permanent)
{
    return crumb_session_set_bool(s, "_permanent", permanent);
}

int
crumb_session_incr_path(crumb_session *s, const char *pointer, int64_t delta,
                        int64_t *result)
{
    s->accessed = 1;
    if (!pointer || *pointer != '/')
        return CRUMB_EINVAL;
    char *path = strdup(pointer);
    if (!path)
        return CRUMB_ENOMEM;
    int rc = ptr_incr(s->data, pointer, delta, result);
    if (rc != CRUMB_OK) {
        free(path);
        return rc;
    }
    s->modified = 1;
    return journal_add(s, CRUMB_CHANGE_INCR, path, NULL, delta);
}

int
crumb_session_incr(crumb_session *s, const char *key, int64_t delta,
                   int64_t *result)
{
    if (!key)
        return CRUMB_EINVAL;
    char *ptr = key_pointer(key);
    if (!ptr)
        return CRUMB_ENOMEM;
    int rc = crumb_session_incr_path(s, ptr, delta, result);
    free(ptr);
    return rc;
}

int
crumb_session_delete_path(crumb_session *s, const char *pointer)
{
    s->accessed = 1;
    if (!pointer || *pointer != '/')
        return CRUMB_EINVAL;
    int rc = ptr_delete(s->data, pointer);
    if (rc != CRUMB_OK)
        return rc;
    s->modified = 1;
    char *path = strdup(pointer);
    if (!path)
        return CRUMB_ENOMEM;
    return journal_add(s, CRUMB_CHANGE_DELETE, path, NULL, 0);
}

int
crumb_session_delete(crumb_session *s, const char *key)
{
    if (!key)
        return CRUMB_EINVAL;
    char *ptr = key_pointer(key);
    if (!ptr)
        return CRUMB_ENOMEM;
    int rc = crumb_session_delete_path(s, ptr);
    free(ptr);
    return rc;
}

void
crumb_session_clear(crumb_session *s)
{
    s->accessed = 1;
    s->modified = 1;
    json_object_clear(s->data);
    /* Earlier changes are moot once everything is cleared. */
    changes_free(s);
    char *path = strdup("");
    if (path)
        journal_add(s, CRUMB_CHANGE_CLEAR, path, NULL, 0);
}
