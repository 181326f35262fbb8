/* template.c - a small mustache subset over jansson, escaping by default. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "http_int.h"

#define TPL_STACK_MAX 32
#define TPL_PARTIAL_DEPTH 8
#define TPL_FILE_MAX (1024 * 1024)
/* A render's budget: ops run (sections over arrays multiply: ten nested
 * sections over an 8-element array are 8^10 runs) and bytes out. */
#define TPL_STEPS_MAX (1u << 22)
#define TPL_OUTPUT_MAX (32u * 1024 * 1024)

enum { OP_TEXT, OP_VAR, OP_RAW, OP_SECTION, OP_INVERTED, OP_PARTIAL,
       OP_END };

typedef struct op {
    int kind;
    char *text; /* literal text, or the tag's name */
    size_t len;
    size_t end; /* SECTION/INVERTED: index of the matching OP_END */
    size_t first; /* tags: length of the name's part before a '.' */
} op;

typedef struct tpl {
    char *name;
    uint32_t hash; /* of name: set_find() compares these first */
    op *ops;
    size_t n;
} tpl;

struct crumb_tpl_set {
    tpl *t;
    size_t n, cap;
};

/* An output buffer. It may start in storage the caller owns (on_heap 0:
 * a render's stack area); it moves to the heap when that is too small. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
    int on_heap;
} buf;

static void
buf_put(buf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096; /* a whole page, mostly */
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = b->on_heap || !b->p ? realloc(b->p, cap) : malloc(cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        if (!b->on_heap && b->p)
            memcpy(p, b->p, b->len + 1);
        b->p = p;
        b->cap = cap;
        b->on_heap = 1;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void
buf_escape(buf *b, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '`': rep = "&#96;"; break;
        default: continue;
        }
        buf_put(b, s + start, i - start);
        buf_put(b, rep, strlen(rep));
        start = i + 1;
    }
    buf_put(b, s + start, len - start);
}

char *
crumb_html_escape(const char *s)
{
    buf b = {0};
    b.on_heap = 1;
    buf_put(&b, "", 0);
    buf_escape(&b, s, strlen(s));
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

crumb_tpl_set *
crumb_tpl_set_new(void)
{
    return calloc(1, sizeof(crumb_tpl_set));
}

static void
tpl_cleanup(tpl *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->ops[i].text);
    free(t->ops);
    free(t->name);
}

void
crumb_tpl_set_free(crumb_tpl_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        tpl_cleanup(&set->t[i]);
    free(set->t);
    free(set);
}

static int
op_push(tpl *t, int kind, const char *text, size_t len)
{
    op *ops = realloc(t->ops, (t->n + 1) * sizeof(*ops));
    if (!ops)
        return CRUMB_ENOMEM;
    t->ops = ops;
    op *o = &t->ops[t->n];
    o->kind = kind;
    o->len = len;
    o->end = 0;
    o->text = strndup(text, len);
    if (!o->text)
        return CRUMB_ENOMEM;
    o->first = strcspn(o->text, "."); /* text may be shorter than len */
    t->n++;
    return CRUMB_OK;
}

static size_t
line_of(const char *text, const char *at)
{
    size_t line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

/*
 * Compile @text into a flat list of ops. Sections record the index of
 * their closing op so rendering can skip or repeat a body without
 * re-scanning. Unbalanced or mismatched sections, unclosed tags, empty
 * names and NUL bytes are refused with the line number in @err.
 */
static int
tpl_compile(tpl *t, const char *text, size_t len, char *err, size_t errsize)
{
    size_t stack[TPL_STACK_MAX];
    size_t depth = 0;
    const char *p = text, *end = text + len;
    int rc;
    /* Ops keep their text as C strings: a NUL would cut one short of
     * its length, and no HTML template needs one. */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        snprintf(err, errsize, "line %zu: NUL byte", line_of(text, nul));
        return CRUMB_EMALFORMED;
    }
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        if (!open) {
            if ((rc = op_push(t, OP_TEXT, p, (size_t)(end - p))) != CRUMB_OK)
                return rc;
            break;
        }
        if (open > p && (rc = op_push(t, OP_TEXT, p,
                                      (size_t)(open - p))) != CRUMB_OK)
            return rc;
        int triple = open + 2 < end && open[2] == '{';
        const char *in = open + (triple ? 3 : 2);
        const char *close = NULL;
        const char *want = triple ? "}}}" : "}}";
        size_t wlen = triple ? 3 : 2;
        for (const char *q = in; q + wlen <= end; q++)
            if (memcmp(q, want, wlen) == 0) {
                close = q;
                break;
            }
        if (!close) {
            snprintf(err, errsize, "line %zu: unclosed tag",
                     line_of(text, open));
            return CRUMB_EMALFORMED;
        }
        p = close + wlen;
        while (in < close && (*in == ' ' || *in == '\t'))
            in++;
        const char *nend = close;
        while (nend > in && (nend[-1] == ' ' || nend[-1] == '\t'))
            nend--;
        int kind = triple ? OP_RAW : OP_VAR;
        if (!triple && in < nend && strchr("#^/>!", *in)) {
            char sigil = *in++;
            while (in < nend && (*in == ' ' || *in == '\t'))
                in++;
            kind = sigil == '#'   ? OP_SECTION
                   : sigil == '^' ? OP_INVERTED
                   : sigil == '/' ? OP_END
                   : sigil == '>' ? OP_PARTIAL
                                  : -1;
            if (kind < 0)
                continue; /* comment */
        }
        size_t nlen = (size_t)(nend - in);
        if (kind == OP_VAR && nlen > 5 &&
            memcmp(nend - 5, "|safe", 5) == 0) {
            kind = OP_RAW;
            nlen -= 5;
            while (nlen && (in[nlen - 1] == ' ' || in[nlen - 1] == '\t'))
                nlen--;
        }
        if (nlen == 0 || memchr(in, '{', nlen) || memchr(in, '}', nlen)) {
            snprintf(err, errsize, "line %zu: bad tag", line_of(text, open));
            return CRUMB_EMALFORMED;
        }
        if (kind == OP_END) {
            if (depth == 0) {
                snprintf(err, errsize, "line %zu: close without open",
                         line_of(text, open));
                return CRUMB_EMALFORMED;
            }
            op *o = &t->ops[stack[depth - 1]];
            if (o->len != nlen || memcmp(o->text, in, nlen) != 0) {
                snprintf(err, errsize, "line %zu: {{/%.*s}} closes {{#%s}}",
                         line_of(text, open), (int)nlen, in, o->text);
                return CRUMB_EMALFORMED;
            }
            o->end = t->n;
            depth--;
        }
        if ((rc = op_push(t, kind, in, nlen)) != CRUMB_OK)
            return rc;
        if (kind == OP_SECTION || kind == OP_INVERTED) {
            if (depth == TPL_STACK_MAX) {
                snprintf(err, errsize, "line %zu: sections nested too deep",
                         line_of(text, open));
                return CRUMB_EMALFORMED;
            }
            stack[depth++] = t->n - 1;
        }
    }
    if (depth) {
        snprintf(err, errsize, "section {{#%s}} is not closed",
                 t->ops[stack[depth - 1]].text);
        return CRUMB_EMALFORMED;
    }
    return CRUMB_OK;
}

/* FNV-1a: a page renders three templates or so, each found by name
 * among a few dozen; comparing hashes first spares most strcmp()s. */
static uint32_t
name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static tpl *
set_find(const crumb_tpl_set *set, const char *name)
{
    uint32_t h = name_hash(name);
    for (size_t i = 0; i < set->n; i++)
        if (set->t[i].hash == h && strcmp(set->t[i].name, name) == 0)
            return &set->t[i];
    return NULL;
}

int
crumb_tpl_set_add(crumb_tpl_set *set, const char *name, const char *text,
                  size_t len, char *err, size_t errsize)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errsize = sizeof(dummy);
    }
    tpl t = {0};
    t.name = strdup(name);
    t.hash = name_hash(name);
    if (!t.name)
        return CRUMB_ENOMEM;
    int rc = tpl_compile(&t, text, len, err, errsize);
    if (rc != CRUMB_OK) {
        tpl_cleanup(&t);
        return rc;
    }
    tpl *old = set_find(set, name);
    if (old) {
        tpl_cleanup(old);
        *old = t;
        return CRUMB_OK;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        tpl *ts = realloc(set->t, cap * sizeof(*ts));
        if (!ts) {
            tpl_cleanup(&t);
            return CRUMB_ENOMEM;
        }
        set->t = ts;
        set->cap = cap;
    }
    set->t[set->n++] = t;
    return CRUMB_OK;
}

static int
load_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CRUMB_EIO;
    char *p = malloc(TPL_FILE_MAX + 1);
    if (!p) {
        fclose(f);
        return CRUMB_ENOMEM;
    }
    size_t n = fread(p, 1, TPL_FILE_MAX + 1, f);
    int rc = ferror(f) ? CRUMB_EIO
             : n > TPL_FILE_MAX ? CRUMB_ETOOBIG
                                : CRUMB_OK;
    fclose(f);
    if (rc != CRUMB_OK) {
        free(p);
        return rc;
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return CRUMB_OK;
}

int
crumb_tpl_set_load(crumb_tpl_set **out, const char *dir, char *err,
                   size_t errsize)
{
    char dummy[8], msg[200] = "";
    if (!err) {
        err = dummy;
        errsize = sizeof(dummy);
    }
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errsize, "%s: cannot open directory", dir);
        return CRUMB_EIO;
    }
    crumb_tpl_set *set = crumb_tpl_set_new();
    int rc = set ? CRUMB_OK : CRUMB_ENOMEM;
    struct dirent *e;
    while (rc == CRUMB_OK && (e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl <= 5 || e->d_name[0] == '.' ||
            strcmp(e->d_name + nl - 5, ".html") != 0)
            continue;
        char path[4096], name[256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(name, sizeof(name), "%.*s", (int)(nl - 5), e->d_name);
        char *text;
        size_t len;
        rc = load_file(path, &text, &len);
        if (rc != CRUMB_OK) {
            snprintf(err, errsize, "%s: cannot read", path);
            break;
        }
        rc = crumb_tpl_set_add(set, name, text, len, msg, sizeof(msg));
        free(text);
        if (rc != CRUMB_OK)
            snprintf(err, errsize, "%s: %s", path, msg);
    }
    closedir(d);
    if (rc != CRUMB_OK) {
        crumb_tpl_set_free(set);
        return rc;
    }
    *out = set;
    return CRUMB_OK;
}

typedef struct render {
    const crumb_tpl_set *set;
    const json_t *stack[TPL_STACK_MAX];
    size_t depth;
    int partials;
    unsigned long steps;
    int rc;
    buf out;
} render;

/* Look @name up through the context stack, innermost first. A dotted
 * name resolves its first part through the stack, the rest inside it. */
static const json_t *
lookup(const render *r, const op *o)
{
    const char *name = o->text;
    if (name[0] == '.' && name[1] == '\0')
        return r->depth ? r->stack[r->depth - 1] : NULL;
    const char *dot = name[o->first] == '.' ? name + o->first : NULL;
    size_t flen = o->first;
    const json_t *v = NULL;
    for (size_t i = r->depth; i-- > 0;) {
        if (json_is_object(r->stack[i])) {
            v = json_object_getn(r->stack[i], name, flen);
            if (v)
                break;
        }
    }
    while (v && dot) {
        const char *part = dot + 1;
        dot = strchr(part, '.');
        size_t plen = dot ? (size_t)(dot - part) : strlen(part);
        v = json_is_object(v) ? json_object_getn(v, part, plen) : NULL;
    }
    return v;
}

static int
truthy(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return 1;
}

static void
emit(render *r, const json_t *v, int raw)
{
    char num[64];
    const char *s = NULL;
    size_t len = 0;
    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_integer(v)) {
        /* By hand: snprintf's format machinery was a visible share of a
         * small page's render (counters, quantities, prices). */
        json_int_t n = json_integer_value(v);
        unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n
                                     : (unsigned long long)n;
        char *p = num + sizeof(num);
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (n < 0)
            *--p = '-';
        s = p;
        len = (size_t)(num + sizeof(num) - p);
    } else if (json_is_real(v)) {
        len = (size_t)snprintf(num, sizeof(num), "%g", json_real_value(v));
        s = num;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        len = strlen(s);
    }
    if (!s)
        return;
    if (raw)
        buf_put(&r->out, s, len);
    else
        buf_escape(&r->out, s, len);
}

static void render_ops(render *r, const tpl *t, size_t from, size_t to);

static void
push_render(render *r, const json_t *ctx, const tpl *t, size_t from,
            size_t to)
{
    if (r->depth == TPL_STACK_MAX || ++r->steps > TPL_STEPS_MAX) {
        r->rc = CRUMB_ETOOBIG;
        return;
    }
    r->stack[r->depth++] = ctx;
    render_ops(r, t, from, to);
    r->depth--;
}

static void
render_ops(render *r, const tpl *t, size_t from, size_t to)
{
    for (size_t i = from; i < to && r->rc == CRUMB_OK; i++) {
        const op *o = &t->ops[i];
        if (++r->steps > TPL_STEPS_MAX || r->out.len > TPL_OUTPUT_MAX) {
            r->rc = CRUMB_ETOOBIG;
            break;
        }
        switch (o->kind) {
        case OP_TEXT:
            buf_put(&r->out, o->text, o->len);
            break;
        case OP_VAR:
        case OP_RAW:
            emit(r, lookup(r, o), o->kind == OP_RAW);
            break;
        case OP_SECTION: {
            const json_t *v = lookup(r, o);
            if (json_is_array(v)) {
                for (size_t k = 0; k < json_array_size(v); k++)
                    push_render(r, json_array_get(v, k), t, i + 1, o->end);
            } else if (json_is_object(v)) {
                push_render(r, v, t, i + 1, o->end);
            } else if (truthy(v)) {
                render_ops(r, t, i + 1, o->end);
            }
            i = o->end;
            break;
        }
        case OP_INVERTED:
            if (!truthy(lookup(r, o)))
                render_ops(r, t, i + 1, o->end);
            i = o->end;
            break;
        case OP_PARTIAL: {
            const tpl *p = set_find(r->set, o->text);
            if (!p)
                break;
            if (r->partials == TPL_PARTIAL_DEPTH) {
                r->rc = CRUMB_ETOOBIG;
                break;
            }
            r->partials++;
            render_ops(r, p, 0, p->n);
            r->partials--;
            break;
        }
        default:
            break;
        }
    }
    if (r->out.oom)
        r->rc = CRUMB_ENOMEM;
}

int
crumb_tpl_render(const crumb_tpl_set *set, const char *name,
                 const json_t *ctx, char **out, size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    const tpl *t = set ? set_find(set, name) : NULL;
    if (!t)
        return CRUMB_ENOTFOUND;
    /* Most pages are a few KiB: they are rendered here and copied once
     * into an allocation of their size. A growing heap buffer costs a
     * realloc per doubling, and its first malloc of 4 KiB is a "large"
     * request for glibc, which then consolidates its fastbins first. */
    char first[16384];
    render r;
    memset(&r, 0, sizeof(r));
    r.set = set;
    r.out.p = first;
    r.out.cap = sizeof(first);
    first[0] = '\0';
    if (ctx)
        r.stack[r.depth++] = ctx;
    render_ops(&r, t, 0, t->n);
    if (r.rc == CRUMB_OK && r.out.oom)
        r.rc = CRUMB_ENOMEM;
    if (r.rc == CRUMB_OK && !r.out.on_heap) {
        char *p = malloc(r.out.len + 1);
        if (p)
            memcpy(p, first, r.out.len + 1);
        else
            r.rc = CRUMB_ENOMEM;
        r.out.p = p;
    }
    if (r.rc != CRUMB_OK) {
        if (r.out.on_heap)
            free(r.out.p);
        return r.rc;
    }
    *out = r.out.p;
    if (len)
        *len = r.out.len;
    return CRUMB_OK;
}
