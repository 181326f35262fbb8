#!/usr/bin/python3
"""test_checkout.py - crumb-shop's checkout, orders and visible expiry.

Issue 5, items 5 and 6 over real HTTP, against every session store there
is: signed cookies, memory:, sqlite: and redis:// (a private redis-server
on a free loopback port, killed by PID; skipped without redis-server).
Reuses test_shop.py's Server, Client and check. Time is moved with
CRUMB_TEST_CLOCK_FILE. Prints "ok http <name>" / "FAIL http <name>: why";
exits non-zero on a failure. Only 127.0.0.1.
"""
import html
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402

ADDRESS = {"name": "Zoë Ñandú <b>&\"Lee\"", "street": "1 Crumb Lane",
           "city": "Bakerton", "postcode": "AB1 2CD", "country": "Wales"}
REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


class Shop:
    """A client with the checkout's moves; @tag names the store."""

    def __init__(self, port, tag):
        self.c = ts.Client(port)
        self.port = port
        self.tag = tag

    def check(self, name, cond, why=""):
        return ts.check("checkout %s [%s]" % (name, self.tag), cond, why)

    def tab(self):
        """A second tab: another client with the same cookies."""
        t = Shop(self.port, self.tag)
        t.c.jar = dict(self.c.jar)
        return t

    def add(self, pid, times=1):
        for _ in range(times):
            tok = self.c.csrf("/products")
            r = self.c.post("/add_to_cart/%d" % pid, {"csrf_token": tok})
            assert r.status == 303, "add_to_cart %d: %d" % (pid, r.status)

    def step_page(self):
        """GET /checkout: (response, step shown or None)."""
        r = self.c.get("/checkout")
        m = re.search(r'name="step" value="(\d)"', r.body)
        return r, int(m.group(1)) if m else None

    def post(self, step, fields=None, action=None, token=True):
        form = dict(fields or {})
        form["step"] = str(step)
        if action:
            form["action"] = action
        if token:
            form["csrf_token"] = self.c.csrf("/products")
        return self.c.post("/checkout", form)

    def orders(self):
        r = self.c.get("/orders")
        return [int(x) for x in re.findall(r'href="/orders/(\d+)"', r.body)]


def value_of(body, name):
    m = re.search(r'<input name="%s" value="([^"]*)"' % name, body)
    return html.unescape(m.group(1)) if m else None


def checked(body, name):
    m = re.search(r'name="%s" value="(\w+)" checked' % name, body)
    return m.group(1) if m else None


def cart_digest(body):
    m = re.search(r'name="cart" value="([^"]*)"', body)
    return m.group(1) if m else None


def set_clock(path, offset):
    """The server's clock is real time + offset; a new file each time."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset)
    os.replace(tmp, path)


def query_of(location):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location or "").query)


# ---------------------------------------------------------------- checks

def t_guard(port, tag):
    s = Shop(port, tag)
    r = s.c.get("/checkout")
    s.check("anonymous /checkout goes to login",
            r.status == 302 and r.header("Location") ==
            "/login?next=%2Fcheckout",
            "%d %s" % (r.status, r.header("Location")))
    r = s.c.get("/orders")
    s.check("anonymous /orders goes to login",
            r.status == 302 and r.header("Location") ==
            "/login?next=%2Forders", "%d %s" % (r.status, r.header("Location")))
    r = s.c.get("/login?next=%2Fcheckout&expired=%3Cscript%3E")
    s.check("unknown expiry word shows nothing",
            r.status == 200 and 'class="notice"' not in r.body and
            "<script>" not in r.body, r.body[:300])


def t_full(port, tag, data_dir):
    a = Shop(port, tag)
    user = "ann_%s" % tag.replace(":", "")
    r = ts.register(a.c, user)
    assert r.status == 303, "register: %d" % r.status
    r, step = a.step_page()
    a.check("empty cart is said", r.status == 200 and
            "Your cart is empty" in r.body and step is None,
            "%d %s" % (r.status, r.body[:200]))
    r = a.post(1, ADDRESS)
    a.check("empty cart refuses a step", r.status == 409 and
            "Your cart is empty" in r.body, "%d" % r.status)
    a.add(1, 2)
    a.add(3)
    r, step = a.step_page()
    a.check("starts at step 1", r.status == 200 and step == 1,
            "%d step %s" % (r.status, step))

    # out of order: nothing may be skipped, and nothing changes
    r = a.post(3, {"cart": "1x2.3x1"}, action="place")
    a.check("step 3 before step 1 refused", r.status == 409 and
            "Step 3" in r.body and "Nothing was changed" in r.body,
            "%d %s" % (r.status, r.body[:300]))
    r = a.post(2, {"delivery": "standard", "payment": "card"})
    a.check("step 2 before step 1 refused", r.status == 409, "%d" % r.status)
    r, step = a.step_page()
    a.check("refused steps changed nothing", step == 1 and
            value_of(r.body, "name") == "" and not a.orders(),
            "step %s orders %s" % (step, a.orders()))

    # step 1 validation: 400, the field named, what was typed shown again
    bad = [("name", "", "required"), ("street", "", "required"),
           ("city", "x" * 101, "too long"),
           ("postcode", "AB1 2CD!", "Postcode must be"),
           ("postcode", "-12", "Postcode must be"),
           ("country", "Wa\x01les", "printable"),
           ("name", "Eve \u202egnp.exe", "printable"),
           ("street", "a\nb", "printable")]
    for field, value, words in bad:
        form = dict(ADDRESS)
        form[field] = value
        r = a.post(1, form)
        other = "city" if field != "city" else "name"
        a.check("address %s %r refused" % (field, value[:12]),
                r.status == 400 and 'data-field="%s"' % field in r.body and
                words in r.body and
                value_of(r.body, other) == ADDRESS[other].strip(),
                "%d %s" % (r.status, re.findall(r'<li data-field.*', r.body)))
    r = a.post(1, dict(ADDRESS, postcode="  AB1 2CD  "))
    a.check("valid address goes on", r.status == 303 and
            r.header("Location") == "/checkout", "%d %s" % (r.status, r.body))
    r, step = a.step_page()
    a.check("step 2 after the address", step == 2, "step %s" % step)

    # resume: a reload and a second tab land on the same step
    r, step = a.tab().step_page()
    a.check("a new tab resumes at step 2", step == 2, "step %s" % step)

    # step 2 validation
    r = a.post(2, {"payment": "card"})
    a.check("missing delivery refused", r.status == 400 and
            'data-field="delivery"' in r.body and
            checked(r.body, "payment") == "card", "%d" % r.status)
    r = a.post(2, {"delivery": "express", "payment": "bitcoin"})
    a.check("unknown payment refused", r.status == 400 and
            'data-field="payment"' in r.body and
            checked(r.body, "delivery") == "express", "%d" % r.status)

    # back keeps what was entered, on both steps
    r = a.post(2, {"delivery": "express", "payment": "invoice"},
               action="back")
    r, step = a.step_page()
    a.check("back to step 1 keeps the address",
            step == 1 and value_of(r.body, "name") == ADDRESS["name"] and
            value_of(r.body, "postcode") == "AB1 2CD",
            "step %s name %r" % (step, value_of(r.body, "name")))
    r = a.post(1, ADDRESS)
    r, step = a.step_page()
    a.check("forward again keeps the choices", step == 2 and
            checked(r.body, "delivery") == "express" and
            checked(r.body, "payment") == "invoice",
            "step %s %s %s" % (step, checked(r.body, "delivery"),
                               checked(r.body, "payment")))
    r = a.post(2, {"delivery": "express", "payment": "invoice"})
    r, step = a.step_page()
    esc = html.escape(ADDRESS["name"], quote=True)
    a.check("review shows lines, totals, address, delivery",
            step == 3 and "Crumb cookie × 2" in r.body and
            "Butter croissant × 1" in r.body and "$8.20" in r.body and
            "$12.50" in r.body and "Total: $20.70" in r.body and
            "Invoice" in r.body and "AB1 2CD Bakerton" in r.body,
            r.body[-1500:])
    a.check("review escapes the address", "<b>" not in r.body and
            ("Zoë Ñandú &lt;b&gt;&amp;" in r.body), esc)
    r = a.post(3, action="back")
    r, step = a.step_page()
    a.check("back from review keeps the choices", step == 2 and
            checked(r.body, "delivery") == "express", "step %s" % step)
    a.post(2, {"delivery": "express", "payment": "invoice"})

    # the cart changes in another tab after the review: refused
    r, step = a.step_page()
    old = cart_digest(r.body)
    tab = a.tab()
    tab.add(2)
    a.c.jar = dict(tab.c.jar)
    r = a.post(3, {"cart": old}, action="place")
    a.check("a cart changed since review is refused", r.status == 409 and
            "cart changed" in r.body and not a.orders(), "%d" % r.status)
    new = cart_digest(r.body)

    r = a.post(3, {"cart": new}, action="place")
    loc = r.header("Location") or ""
    m = re.match(r"/orders/(\d+)\?placed=1$", loc)
    a.check("placing the order redirects to it", r.status == 303 and m,
            "%d %s %s" % (r.status, loc, r.body[:300]))
    if not m:
        return None
    oid = int(m.group(1))
    r = a.c.get(loc)
    a.check("the order number is shown", r.status == 200 and
            re.search(r'order number is <strong class="order-number">%d<'
                      % oid, r.body) and "Total: $26.70" in r.body and
            "<b>" not in r.body, r.body[:500])
    r = a.c.get("/cart")
    a.check("the cart is empty after", "Your cart is empty" in r.body)
    r, step = a.step_page()
    a.check("checkout says the cart is empty after",
            "Your cart is empty" in r.body and step is None)
    a.add(4)
    r, step = a.step_page()
    a.check("the checkout state is cleared", step == 1 and
            value_of(r.body, "name") == "", "step %s" % step)
    r = a.post(3, {"cart": new}, action="place")
    a.check("replaying the place step is refused", r.status == 409 and
            a.orders() == [oid], "%d %s" % (r.status, a.orders()))
    a.check("/orders lists it", a.orders() == [oid], str(a.orders()))
    r = a.c.get("/orders/%d" % oid)
    a.check("/orders/<id> shows it to its owner", r.status == 200 and
            "Order #%d" % oid in r.body and "order number is" not in r.body,
            "%d" % r.status)

    with sqlite3.connect(os.path.join(data_dir, "orders.db")) as db:
        row = db.execute("SELECT lines, subtotal_cents, delivery_cents, "
                         "total_cents, address, delivery, payment, created "
                         "FROM orders WHERE id = ?", (oid,)).fetchone()
    lines = json.loads(row[0]) if row else []
    a.check("the orders table holds the order",
            row and [(l["id"], l["qty"]) for l in lines] ==
            [(1, 2), (2, 1), (3, 1)] and row[1:4] == (1420, 1250, 2670) and
            json.loads(row[4])["postcode"] == "AB1 2CD" and
            row[5:7] == ("express", "invoice") and
            abs(row[7] - time.time()) < 3600, repr(row))

    # another user: not listed, and 404 (never 403) for its number
    b = Shop(port, tag)
    ts.register(b.c, "bob_%s" % tag.replace(":", ""))
    r = b.c.get("/orders/%d" % oid)
    r2 = b.c.get("/orders/%d" % (oid + 100000))
    b.check("another user's order is 404 like a missing one",
            r.status == 404 and r2.status == 404 and
            "Bakerton" not in r.body, "%d %d" % (r.status, r2.status))
    b.check("another user's /orders does not list it", b.orders() == [],
            str(b.orders()))
    r = a.c.post("/checkout", {"step": "1"})
    a.check("a POST without csrf_token is 403", r.status == 403,
            "%d" % r.status)
    return a, oid


def t_double(port, tag):
    """Two 'Place order' clicks at once make one order."""
    a = Shop(port, tag)
    ts.register(a.c, "dan_%s" % tag.replace(":", ""))
    a.add(2)
    a.post(1, ADDRESS)
    a.post(2, {"delivery": "standard", "payment": "card"})
    r, step = a.step_page()
    digest = cart_digest(r.body)
    tok = a.c.csrf("/checkout")
    out = []

    def click():
        out.append(a.tab().c.post("/checkout", {
            "step": "3", "action": "place", "cart": digest,
            "csrf_token": tok}))
    ts_ = [threading.Thread(target=click) for _ in range(2)]
    for t in ts_:
        t.start()
    for t in ts_:
        t.join()
    placed = [r for r in out if r.status == 303]
    a.check("a double click makes one order",
            placed and len(a.orders()) == 1 and
            all(r.status in (303, 409) for r in out) and
            len(set(r.header("Location") for r in placed)) == 1,
            "%s %s" % ([r.status for r in out], a.orders()))


def t_expiry(port, tag, clock, server_side, who):
    a, oid = who
    page = "/orders/%d" % oid
    set_clock(clock, 0)
    r = a.c.get(page)
    a.check("logged in before the clock moves", r.status == 200,
            "%d" % r.status)
    if server_side:
        # a store drops the record when the timeout passes, so the
        # reason may come back as an unknown id ("ended"), which names
        # both rules
        set_clock(clock, 1801)
        words_ok, words = ("idle", "ended"), "30 minutes without activity"
    else:
        # a cookie session ends with the permanent lifetime (31 days)
        set_clock(clock, 32 * 86400)
        words_ok, words = ("expired",), "expired after 31 days"
    r = a.c.get(page)
    loc = r.header("Location") or ""
    q = query_of(loc)
    a.check("expired session goes to login with the reason",
            r.status == 302 and loc.startswith("/login?") and
            q.get("next") == [page] and
            q.get("expired", [""])[0] in words_ok,
            "%d %s" % (r.status, loc))
    r = a.c.get(loc)
    a.check("the login page says why", r.status == 200 and
            words in r.body and 'class="notice"' in r.body and
            'name="next" value="%s"' % page in r.body, r.body[:800])
    tok = re.search(r'name="csrf_token" value="([^"]+)"', r.body)
    r = a.c.post("/login", {"username": "ann_%s" % tag.replace(":", ""),
                            "password": "correct horse", "next": page,
                            "csrf_token": tok.group(1) if tok else ""})
    a.check("logging in returns to the page", r.status == 303 and
            r.header("Location") == page, "%d %s" % (r.status,
                                                      r.header("Location")))
    r = a.c.get(page)
    a.check("and the page shows again", r.status == 200 and
            "Order #%d" % oid in r.body, "%d" % r.status)

    if server_side:
        # the absolute timeout: active every 25 minutes, out after 12 hours
        off, r = 1801, None
        for _ in range(40):
            off += 1500
            set_clock(clock, off)
            r = a.c.get("/checkout")
            if r.status != 200:
                break
        q = query_of(r.header("Location"))
        a.check("the absolute timeout ends an active session",
                r.status == 302 and
                q.get("expired", [""])[0] in ("absolute", "ended") and
                q.get("next") == ["/checkout"] and off - 1801 >= 43200,
                "%d %s after %d s" % (r.status, r.header("Location"),
                                      off - 1801))
        r = a.c.get(r.header("Location"))
        a.check("the login page says 12 hours",
                "12 hours" in r.body and 'class="notice"' in r.body,
                r.body[-900:])
        # never logged in, or logged out: no message
    set_clock(clock, 0)
    n = Shop(port, tag)
    r = n.c.get("/dashboard")
    a.check("never logged in: no expiry reason",
            r.status == 302 and "expired" not in r.header("Location"),
            r.header("Location") or "")


# ---------------------------------------------------------------- stores

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_redis(tmp):
    """A private redis-server: (proc, port), or (None, None)."""
    if not os.access(REDIS, os.X_OK):
        return None, None
    port = free_port()
    d = os.path.join(tmp, "redis-server")
    os.mkdir(d)
    log = open(os.path.join(d, "log"), "wb")
    p = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", d,
                          "--daemonize", "no"], stdout=log, stderr=log)
    log.close()
    for _ in range(100):
        try:
            c = socket.create_connection(("127.0.0.1", port), 0.2)
            c.sendall(b"PING\r\n")
            ok = c.recv(16).startswith(b"+PONG")
            c.close()
            if ok:
                return p, port
        except OSError:
            pass
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    p.wait()
    return None, None


def run_store(tmp, tag, store):
    data = os.path.join(tmp, tag.replace(":", ""))
    os.mkdir(data)
    clock = os.path.join(data, "clock")
    set_clock(clock, 0)
    s = ts.Server(data, env={"CRUMB_SECRET_KEY": ts.KEY_A,
                             "CRUMB_STORE": store,
                             "CRUMB_TEST_CLOCK_FILE": clock,
                             "CRUMB_LOG": "0"})
    if not ts.check("checkout server starts [%s]" % tag, s.port,
                    s.banner + s.stderr()[-2000:]):
        s.stop()
        return
    who = None
    for name, fn in (("guard", lambda: t_guard(s.port, tag)),
                     ("full", lambda: t_full(s.port, tag, data)),
                     ("double", lambda: t_double(s.port, tag))):
        try:
            res = fn()
            if name == "full":
                who = res
        except Exception as e:  # a crash of the test is a failure
            ts.check("checkout %s [%s]" % (name, tag), False,
                     "%s: %s" % (type(e).__name__, e))
    if who:
        try:
            t_expiry(s.port, tag, clock, store != "cookie", who)
        except Exception as e:
            ts.check("checkout expiry [%s]" % tag, False,
                     "%s: %s" % (type(e).__name__, e))
    ts.check("checkout server still running [%s]" % tag,
             s.proc.poll() is None, "exit %s" % s.proc.returncode)
    rc = s.stop()
    ts.check("checkout clean shutdown [%s]" % tag, rc == 0,
             "exit %s: %s" % (rc, s.stderr()[-2000:]))


def main():
    if not os.path.exists(ts.BIN):
        ts.check("binary exists", False, "%s not built" % ts.BIN)
        return 1
    tmp = tempfile.mkdtemp(prefix="crumb-checkout-test.")
    redis = None
    try:
        stores = [("cookie", "cookie"), ("memory", "memory:"),
                  ("sqlite", "sqlite:" + os.path.join(tmp, "sessions.db"))]
        redis, rport = start_redis(tmp)
        if redis:
            stores.append(("redis", "redis://127.0.0.1:%d/0" % rport))
        else:
            print("# no redis-server: the redis store is skipped")
        for tag, store in stores:
            run_store(tmp, tag, store)
    finally:
        for s in ts.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if redis:
            redis.kill()
            redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_checkout.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
