#!/usr/bin/python3
"""test_accounts.py - remember-me, roles, fresh logins and login throttling
in crumb-shop over real HTTP, on every store (memory, SQLite, Redis).

Reuses test_shop.py's Server, Client and check. Time moves through
CRUMB_TEST_CLOCK_FILE (an offset in seconds read by the server's clock).
Admins are made the way `crumb users role` does it: in the user database
(SQLite here), then a fresh login. Prints "ok http <name>" or
"FAIL http <name>: why"; exits non-zero on a failure. Only 127.0.0.1.
"""
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402

check = ts.check
CRUMB_BIN = os.path.join(ts.ROOT, os.environ.get("CRUMB_BIN", "build/crumb"))
Client = ts.Client
PW = "correct horse"


class Shop:
    """A crumb-shop with a clock file and a user database we can edit."""

    def __init__(self, d, env=None):
        self.dir = d
        self.clock_path = os.path.join(d, "clock")
        self.users_db = os.path.join(d, "users.db")
        self.offset = 0
        self.set_clock(0)
        e = {"CRUMB_SECRET_KEY": ts.KEY_A,
             "CRUMB_USERS": "sqlite:" + self.users_db,
             "CRUMB_TEST_CLOCK_FILE": self.clock_path}
        e.update(env or {})
        self.server = ts.Server(d, env=e)
        self.port = self.server.port

    def set_clock(self, offset):
        self.offset = offset
        tmp = self.clock_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % offset)
        os.replace(tmp, self.clock_path)

    def move(self, seconds):
        self.set_clock(self.offset + seconds)

    def make_admin(self, name, admin=True):
        db = sqlite3.connect(self.users_db, timeout=10)
        db.execute("UPDATE users SET roles = ? WHERE username = ?",
                   ("user,admin" if admin else "user", name))
        db.commit()
        db.close()

    def log(self):
        return self.server.stderr()

    def log_has(self, *needles, timeout=5):
        """The request log is written by a thread in batches: wait."""
        deadline = time.time() + timeout
        while True:
            log = self.log()
            if all(n in log if isinstance(n, str) else n.search(log)
                   for n in needles) or time.time() > deadline:
                return all(n in log if isinstance(n, str) else n.search(log)
                           for n in needles)
            time.sleep(0.1)


def register(c, name):
    return ts.register(c, name, pw=PW)


def login(c, name, pw=PW, remember=False, nxt=None):
    return ts.login(c, name, pw=pw, remember=remember, nxt=nxt)


def logged_in_as(c, name):
    r = c.get("/dashboard")
    return r.status == 200 and ("dashboard, %s" % name) in r.body


def only_remember(token, port):
    c = Client(port)
    c.jar = {"remember_token": token}
    return c


def cookie_attrs(resp, name):
    for sc in resp.all("Set-Cookie"):
        if sc.startswith(name + "="):
            return sc
    return ""


# ------------------------------------------------------------ remember me

def t_remember(shop):
    port = shop.port
    register(Client(port), "alice")
    c = Client(port)
    r = login(c, "alice", remember=True)
    sc = cookie_attrs(r, "remember_token")
    tok1 = c.jar.get("remember_token", "")
    check("remember: cookie issued", r.status == 303 and
          re.fullmatch(r"[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{43}", tok1),
          "%d %r" % (r.status, sc))
    check("remember: cookie flags", "HttpOnly" in sc and
          "SameSite=Lax" in sc and "Max-Age=2592000" in sc and
          "Path=/" in sc and "Secure" not in sc, sc)

    # the session is lost (browser restart): the token logs in again
    del c.jar["session"]
    r = c.get("/dashboard")
    tok2 = c.jar.get("remember_token", "")
    check("remember: logs in without a session", r.status == 200 and
          "dashboard, alice" in r.body, "%d" % r.status)
    check("remember: new session cookie", "session" in c.jar)
    check("remember: token rotated", tok2 and tok2 != tok1 and
          tok2[:16] != tok1[:16], "%s -> %s" % (tok1[:16], tok2[:16]))
    check("remember: remembered session is permanent",
          "Max-Age" in cookie_attrs(r, "session"), cookie_attrs(r, "session"))
    check("remember: still logged in with the new session",
          logged_in_as(c, "alice"))

    # a second browser of alice's, with its own token
    d = Client(port)
    login(d, "alice", remember=True)
    tok_d = d.jar.get("remember_token", "")
    # an unrelated user's token must survive alice's theft signal
    register(Client(port), "zed")
    z = Client(port)
    login(z, "zed", remember=True)
    tok_z = z.jar.get("remember_token", "")

    # the thief replays the first token after it was rotated
    shop.move(10)
    thief = only_remember(tok1, port)
    r = thief.get("/dashboard")
    check("remember: replayed token logs nobody in",
          r.status in (302, 303) and not logged_in_as(thief, "alice"),
          "%d" % r.status)
    check("remember: replayed token cookie deleted",
          "remember_token" not in thief.jar, str(thief.jar))
    check("remember: replay revokes the rotated token",
          not logged_in_as(only_remember(tok2, port), "alice"))
    check("remember: replay revokes the user's other tokens",
          not logged_in_as(only_remember(tok_d, port), "alice"))
    check("remember: other users' tokens survive",
          logged_in_as(only_remember(tok_z, port), "zed"))
    check("remember: a live session is not a token",
          logged_in_as(c, "alice"))
    check("remember: theft logged", shop.log_has(re.compile(
        r"remember-me token for user \d+: every remember token of that "
        r"user ended"), "[remember: reused or forged, all ended]"),
        shop.log()[-600:])

    # forged and malformed cookies
    for name, val in [
            ("unknown", "AAAAAAAAAAAAAAAA:" + "A" * 43),
            ("malformed", "not-a-token"),
            ("empty", ""),
            ("injected", "a:b\\x00;c"),
            ("long", "A" * 3000)]:
        f = only_remember(val, port)
        r = f.get("/dashboard")
        check("remember: %s cookie logs nobody in" % name,
              r.status in (302, 303), "%d" % r.status)
    check("remember: forged cookies logged",
          shop.log_has("[remember: unknown or expired]",
                       "[remember: malformed]"))

    # a known selector with a made-up validator: theft signal
    e = Client(port)
    login(e, "alice", remember=True)
    tok_e = e.jar["remember_token"]
    forged = tok_e[:17] + ("B" if tok_e[17] == "A" else "A") + tok_e[18:]
    check("remember: forged validator logs nobody in",
          not logged_in_as(only_remember(forged, port), "alice"))
    check("remember: forged validator ends the real token",
          not logged_in_as(only_remember(tok_e, port), "alice"))

    # expiry: 30 days and a second
    g = Client(port)
    login(g, "alice", remember=True)
    tok_g = g.jar["remember_token"]
    saved = shop.offset
    shop.move(30 * 86400 + 1)
    check("remember: expired token logs nobody in",
          not logged_in_as(only_remember(tok_g, port), "alice"))
    shop.set_clock(saved)

    # logout ends this browser's token
    h = Client(port)
    login(h, "alice", remember=True)
    tok_h = h.jar["remember_token"]
    r = h.post("/logout", {"csrf_token": h.csrf("/logout")})
    check("remember: logout deletes the cookie", r.status == 303 and
          "remember_token" not in h.jar, str(r.all("Set-Cookie")))
    check("remember: logout ends the token",
          not logged_in_as(only_remember(tok_h, port), "alice"))

    # a password change ends every token
    register(Client(port), "pat")
    p1 = Client(port)
    login(p1, "pat", remember=True)
    tok_p = p1.jar["remember_token"]
    p2 = Client(port)
    login(p2, "pat")
    r = p2.post("/account/password", {
        "csrf_token": p2.csrf("/account/password"),
        "current_password": PW, "password": "battery staple",
        "password2": "battery staple"})
    check("remember: password changed", r.status == 303, "%d" % r.status)
    check("remember: password change ends tokens",
          not logged_in_as(only_remember(tok_p, port), "pat"))

    # "log out everywhere" ends every token
    register(Client(port), "quinn")
    q1 = Client(port)
    login(q1, "quinn", remember=True)
    tok_q = q1.jar["remember_token"]
    q2 = Client(port)
    login(q2, "quinn")
    r = q2.post("/account/sessions/revoke", {
        "csrf_token": q2.csrf("/account/sessions"), "which": "all"})
    check("remember: revoke all", r.status == 303, "%d" % r.status)
    check("remember: revoke all ends tokens",
          not logged_in_as(only_remember(tok_q, port), "quinn"))


# ------------------------------------------------------------ roles

def t_roles(shop):
    port = shop.port
    register(Client(port), "bob")
    register(Client(port), "carol")
    shop.make_admin("carol")

    anon = Client(port)
    r = anon.get("/admin")
    check("roles: anonymous redirected to login", r.status == 303 and
          r.header("Location") == "/login?next=%2Fadmin",
          "%d %s" % (r.status, r.header("Location")))
    r = anon.get("/admin?x=1&y=a%20b")
    check("roles: next keeps the query", r.header("Location") ==
          "/login?next=%2Fadmin%3Fx%3D1%26y%3Da%2520b",
          str(r.header("Location")))

    bob = Client(port)
    login(bob, "bob")
    r = bob.get("/admin")
    check("roles: user gets 403", r.status == 403 and
          "permission" in r.body, "%d" % r.status)

    carol = Client(port)
    login(carol, "carol")
    r = carol.get("/admin")
    check("roles: admin gets 200", r.status == 200 and "bob" in r.body and
          "carol" in r.body, "%d" % r.status)
    tok = carol.csrf("/admin")

    # raising bob's role: bob's next guarded page has it, with a new id
    before = bob.jar.get("session")
    r = carol.post("/admin/users/bob/role", {"csrf_token": tok,
                                             "role": "admin"})
    check("roles: admin grants admin", r.status == 303 and
          r.header("Location") == "/admin", "%d" % r.status)
    r = bob.get("/admin")
    check("roles: raised role takes effect", r.status == 200,
          "%d" % r.status)
    check("roles: raised role regenerates the session",
          bob.jar.get("session") and bob.jar.get("session") != before)
    old = Client(port)
    old.jar = {"session": before}
    r = old.get("/admin")
    check("roles: the old session id is dead", r.status == 303,
          "%d" % r.status)
    check("roles: regeneration logged",
          shop.log_has("[user changed: session regenerated]"))

    r = carol.post("/admin/users/bob/role", {
        "csrf_token": carol.csrf("/admin"), "role": "user"})
    check("roles: lowering takes effect", r.status == 303 and
          bob.get("/admin").status == 403)

    r = carol.post("/admin/users/bob/role", {"role": "admin"})
    check("roles: role change without CSRF 403", r.status == 403,
          "%d" % r.status)
    r = carol.post("/admin/users/bob/role", {
        "csrf_token": carol.csrf("/admin"), "role": "root"})
    check("roles: unknown role 400", r.status == 400, "%d" % r.status)
    r = carol.post("/admin/users/nobody/role", {
        "csrf_token": carol.csrf("/admin"), "role": "admin"})
    check("roles: unknown user 404", r.status == 404, "%d" % r.status)
    r = carol.post("/admin/users/carol/role", {
        "csrf_token": carol.csrf("/admin"), "role": "user"})
    check("roles: cannot drop own admin", r.status == 400, "%d" % r.status)
    r = bob.post("/admin/users/bob/role", {
        "csrf_token": bob.csrf("/logout"),
        "role": "admin"})
    check("roles: user cannot change roles", r.status == 403 and
          "permission" in r.body,
          "%d" % r.status)
    t_roles_cli(shop, bob)
    return carol


def crumb_users_role(shop, name, roles):
    """The real `crumb users role`, told about this server's store."""
    import subprocess
    p = subprocess.run(
        [CRUMB_BIN, "users", "role", name, roles,
         "--users", "sqlite:" + shop.users_db, "--store", ts.STORE_URI],
        capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def t_roles_cli(shop, bob):
    """`crumb users role` with the session store: an open session takes
    the new roles at its next page (the store keeps the generation)."""
    if ts.STORE == "memory":
        return  # a memory: store lives in the server: the CLI cannot tell it
    rc, out = crumb_users_role(shop, "bob", "user,admin")
    check("roles: crumb users role --store", rc == 0 and
          "take them at their next page" in out, "%d %s" % (rc, out))
    before = bob.jar.get("session")
    r = bob.get("/admin")
    check("roles: raised from the CLI takes effect at once",
          r.status == 200, "%d" % r.status)
    check("roles: ... with a new session id",
          bob.jar.get("session") not in (None, before))
    rc, out = crumb_users_role(shop, "bob", "user")
    r = bob.get("/admin")
    check("roles: lowered from the CLI takes effect at once",
          rc == 0 and r.status == 403, "%d %d %s" % (rc, r.status, out))

    # `crumb users passwd` ends the logins made with the old password: the
    # shop compares the session's password stamp with the user's
    import subprocess
    check("passwd: bob logged in before", logged_in_as(bob, "bob"))
    p = subprocess.run(
        [CRUMB_BIN, "users", "passwd", "bob", "--password-stdin",
         "--users", "sqlite:" + shop.users_db],
        input="a new password 123\n", capture_output=True, text=True,
        timeout=30)
    check("passwd: crumb users passwd", p.returncode == 0,
          p.stdout + p.stderr)
    check("passwd: the open session is no longer logged in",
          not logged_in_as(bob, "bob"))
    check("passwd: the new password logs in",
          login(Client(shop.port), "bob", pw="a new password 123").status
          == 303)


# ------------------------------------------------------------ fresh login

def t_fresh(shop, carol):
    port = shop.port
    check("fresh: admin page right after login", carol.get("/admin").status
          == 200)
    shop.move(16 * 60)
    r = carol.get("/admin")
    check("fresh: 16 minutes later asks for the password",
          r.status == 303 and r.header("Location") ==
          "/login/confirm?next=%2Fadmin",
          "%d %s" % (r.status, r.header("Location")))
    r = carol.get("/dashboard")
    check("fresh: ordinary pages still open", r.status == 200,
          "%d" % r.status)
    r = carol.post("/admin/users/bob/role", {
        "csrf_token": carol.csrf("/login/confirm"), "role": "admin"},
        headers={"Referer": "http://127.0.0.1:%d/admin" % port})
    check("fresh: a stale POST goes to confirm, back to its page",
          r.status == 303 and r.header("Location") ==
          "/login/confirm?next=%2Fadmin", str(r.header("Location")))
    r = carol.get("/login/confirm?next=%2Fadmin")
    check("fresh: confirm form", r.status == 200 and
          'action="/login/confirm"' in r.body and
          'name="next" value="/admin"' in r.body, "%d" % r.status)
    tok = carol.csrf("/login/confirm?next=%2Fadmin")
    r = carol.post("/login/confirm", {"csrf_token": tok, "next": "/admin",
                                      "password": "wrong password"})
    check("fresh: wrong password 401", r.status == 401, "%d" % r.status)
    before = carol.jar.get("session")
    r = carol.post("/login/confirm", {
        "csrf_token": carol.csrf("/login/confirm"), "next": "/admin",
        "password": PW})
    check("fresh: right password goes back", r.status == 303 and
          r.header("Location") == "/admin", "%d %s" % (
              r.status, r.header("Location")))
    check("fresh: confirm regenerates the session",
          carol.jar.get("session") != before)
    check("fresh: admin page open again", carol.get("/admin").status == 200)
    r = carol.post("/login/confirm", {
        "csrf_token": carol.csrf("/login/confirm"),
        "next": "//evil.example/", "password": PW})
    check("fresh: confirm next stays on site", r.header("Location") == "/",
          str(r.header("Location")))
    check("fresh: anonymous confirm goes to login",
          Client(port).get("/login/confirm").status == 303)

    # a remember-me login is never fresh
    m = Client(port)
    login(m, "carol", remember=True)
    del m.jar["session"]
    r = m.get("/admin")
    check("fresh: remember-me login must confirm", r.status == 303 and
          r.header("Location", ).startswith("/login/confirm"),
          "%d %s" % (r.status, r.header("Location")))
    # the password page and the session revocation are sensitive too
    shop.move(16 * 60)
    for path in ("/account/password",):
        r = carol.get(path)
        check("fresh: %s asks for the password" % path, r.status == 303 and
              r.header("Location").startswith("/login/confirm"),
              "%d %s" % (r.status, r.header("Location")))
    r = carol.post("/account/sessions/revoke", {
        "csrf_token": carol.csrf("/account/sessions"), "which": "others"})
    check("fresh: revoking sessions asks for the password",
          r.status == 303 and
          r.header("Location").startswith("/login/confirm"),
          "%d %s" % (r.status, r.header("Location")))


# ------------------------------------------------------------ throttling

def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def t_throttle(shop):
    port = shop.port
    register(Client(port), "dave")
    c = Client(port)
    bad, slow = [], []
    for i in range(5):
        r, dt = timed(lambda: login(c, "dave", pw="wrong password"))
        bad.append(r.status)
        slow.append(dt)
    check("throttle: five failures are 401", bad == [401] * 5, str(bad))
    r, dt6 = timed(lambda: login(c, "dave", pw="wrong password"))
    ra6 = r.header("Retry-After")
    check("throttle: sixth attempt 429", r.status == 429 and ra6 and
          ra6.isdigit() and int(ra6) > 0, "%d %s" % (r.status, ra6))
    check("throttle: 429 page is clear", "Too many failed logins" in r.body
          and "Try again in %s seconds" % ra6 in r.body, r.body[-300:])
    r, dt7 = timed(lambda: login(c, "dave", pw="wrong password"))
    ra7 = r.header("Retry-After")
    check("throttle: Retry-After grows", r.status == 429 and ra7 and
          int(ra7) > int(ra6 or 0), "%s then %s" % (ra6, ra7))
    r, dt8 = timed(lambda: login(c, "dave"))
    check("throttle: right password refused too while throttled",
          r.status == 429, "%d" % r.status)
    # the login form fetch is inside each timing; the 429s skip scrypt
    fast = statistics.median([dt6, dt7, dt8])
    check("throttle: refused attempts skip the password hash",
          fast < 0.5 * statistics.median(slow),
          "refused %.3fs vs failures %.3fs" % (fast,
                                               statistics.median(slow)))
    shop.log_has("login throttled")
    time.sleep(0.3)
    check("throttle: refusals logged",
          shop.log().count("[login throttled]") >= 3)
    other = Client(port)
    register(other, "erin")
    r = login(Client(port), "erin", pw="wrong password")
    check("throttle: other users unaffected", r.status == 401,
          "%d" % r.status)

    # after the delay, a right password logs in and resets the count
    shop.move(int(ra7 or 0) * 8 + 1)
    r = login(c, "dave")
    check("throttle: success after the delay", r.status == 303,
          "%d" % r.status)
    r = login(Client(port), "dave", pw="wrong password")
    check("throttle: success resets the count", r.status == 401,
          "%d" % r.status)
    # past the window everything is forgotten
    for i in range(6):
        login(Client(port), "dave", pw="wrong password")
    shop.move(901)
    r = login(Client(port), "dave", pw="wrong password")
    check("throttle: window passes", r.status == 401, "%d" % r.status)


# ------------------------------------------------------------ per store

def run_store(tmp, store, n):
    ts.STORE = store
    d = os.path.join(tmp, "run-%s" % store)
    os.mkdir(d)
    ts.STORE_URI = {"memory": "memory:",
                    "sqlite": "sqlite:%s/sessions.db" % d}.get(store)
    if store == "redis":
        ts.STORE_URI = "redis://%s/0?prefix=acc%d_%d" % (ts.REDIS,
                                                         os.getpid(), n)
    shop = Shop(d)
    if not check("server starts", shop.port, shop.server.banner +
                 shop.server.stderr()):
        shop.server.stop()
        return
    carol = None
    for t in (t_remember, t_roles, t_fresh, t_throttle):
        try:
            if t is t_fresh:
                t(shop, carol or Client(shop.port))
            elif t is t_roles:
                carol = t(shop)
            else:
                t(shop)
        except Exception as e:  # a crash of the test is a failure
            check(t.__name__, False, "%s: %s" % (type(e).__name__, e))
    check("server still running", shop.server.proc.poll() is None)
    rc = shop.server.stop()
    check("clean shutdown", rc == 0, "exit %s: %s" % (
        rc, shop.server.stderr()[-1500:]))
    if store == "redis":
        t_two_servers(tmp, n)


def t_two_servers(tmp, n):
    """Two crumb-shop processes on one Redis share throttling counts,
    remember tokens and the theft signal."""
    d = os.path.join(tmp, "two")
    os.mkdir(d)
    ts.STORE_URI = "redis://%s/0?prefix=two%d_%d" % (ts.REDIS, os.getpid(),
                                                     n)
    a = Shop(d)
    b = Shop(d)
    try:
        if not check("two servers start", a.port and b.port):
            return
        register(Client(a.port), "frank")
        ca, cb = Client(a.port), Client(b.port)
        st = [login(ca if i % 2 else cb, "frank", pw="wrong password").status
              for i in range(5)]
        check("two servers: failures on both are 401", st == [401] * 5,
              str(st))
        r = login(ca, "frank")
        check("two servers: sixth attempt throttled on either",
              r.status == 429 and r.header("Retry-After"), "%d" % r.status)
        a.move(3600)
        b.move(3600)
        r = login(cb, "frank")
        check("two servers: success after the delay", r.status == 303,
              "%d" % r.status)

        x = Client(a.port)
        login(x, "frank", remember=True)
        tok1 = x.jar["remember_token"]
        y = only_remember(tok1, b.port)
        check("two servers: token from A logs in on B",
              logged_in_as(y, "frank"))
        tok2 = y.jar.get("remember_token")
        a.move(10)
        b.move(10)
        check("two servers: replay on A refused",
              not logged_in_as(only_remember(tok1, a.port), "frank"))
        check("two servers: theft on A ends B's rotated token",
              not logged_in_as(only_remember(tok2, b.port), "frank"))
    finally:
        a.server.stop()
        b.server.stop()


def t_proxies(tmp):
    """Only a trusted proxy's X-Forwarded-For names the client; the
    address limit counts that client; Secure remember cookies."""
    ts.STORE = "memory"
    ts.STORE_URI = "memory:"
    d = os.path.join(tmp, "proxy")
    os.mkdir(d)
    shop = Shop(d, env={"CRUMB_TRUSTED_PROXIES": "127.0.0.1, ::1",
                        "CRUMB_LOGIN_MAX_FAILURES_ADDR": "3",
                        "CRUMB_COOKIE_SECURE": "1"})
    try:
        port = shop.port

        def attempt(user, xff):
            c = Client(port)
            return login(c, user, pw="wrong password") if xff is None else \
                c.post("/login", {"csrf_token": c.csrf("/login"),
                                  "username": user,
                                  "password": "wrong password"},
                       headers={"X-Forwarded-For": xff})

        st = [attempt("u%d" % i, "203.0.113.5").status for i in range(3)]
        check("proxy: three failures 401", st == [401] * 3, str(st))
        r = attempt("u9", "203.0.113.5")
        check("proxy: client named by the proxy throttled",
              r.status == 429, "%d" % r.status)
        r = attempt("u9", "198.51.100.1, 203.0.113.5")
        check("proxy: a forged hop left of it does not help",
              r.status == 429, "%d" % r.status)
        r = attempt("u9", "203.0.113.6")
        check("proxy: another client is not", r.status == 401,
              "%d" % r.status)
        r = attempt("u9", "203.0.113.6, 127.0.0.1")
        check("proxy: trusted hops are skipped", r.status == 401,
              "%d" % r.status)
        r = attempt("u9", "junk, 203.0.113.5")
        check("proxy: the rightmost untrusted hop counts", r.status == 429,
              "%d" % r.status)
        register(Client(port), "gina")
        c = Client(port)
        r = login(c, "gina", remember=True)
        check("proxy: Secure remember cookie with CRUMB_COOKIE_SECURE",
              "Secure" in cookie_attrs(r, "remember_token"),
              cookie_attrs(r, "remember_token"))
    finally:
        shop.server.stop()

    # without trusted proxies, X-Forwarded-For changes nothing
    d = os.path.join(tmp, "noproxy")
    os.mkdir(d)
    shop = Shop(d, env={"CRUMB_LOGIN_MAX_FAILURES_ADDR": "3"})
    try:
        port = shop.port
        st = []
        for i in range(4):
            c = Client(port)
            st.append(c.post("/login", {
                "csrf_token": c.csrf("/login"), "username": "v%d" % i,
                "password": "wrong password"},
                headers={"X-Forwarded-For": "192.0.2.%d" % i}).status)
        check("proxy: untrusted X-Forwarded-For ignored",
              st == [401, 401, 401, 429], str(st))
    finally:
        shop.server.stop()
    for bad in ("10.0.0.0/33", "not-an-address", "::1/129"):
        d = os.path.join(tmp, "badproxy%d" % len(ts.servers))
        os.mkdir(d)
        shop = Shop(d, env={"CRUMB_TRUSTED_PROXIES": bad})
        rc = shop.server.stop()
        check("proxy: CRUMB_TRUSTED_PROXIES=%s refused" % bad,
              shop.port is None and rc != 0 and
              "CRUMB_TRUSTED_PROXIES" in shop.server.stderr(),
              shop.server.stderr()[-300:])
    d = os.path.join(tmp, "badremember")
    os.mkdir(d)
    shop = Shop(d, env={"CRUMB_REMEMBER_DAYS": "0"})
    rc = shop.server.stop()
    check("config: CRUMB_REMEMBER_DAYS=0 refused", shop.port is None and
          rc != 0 and "CRUMB_REMEMBER_DAYS" in shop.server.stderr())


def main():
    if not os.path.exists(ts.BIN):
        check("binary exists", False, "%s not built" % ts.BIN)
        return 1
    stores = [x for x in os.environ.get(
        "CRUMB_TEST_STORES", "memory,sqlite,redis").split(",") if x]
    tmp = tempfile.mkdtemp(prefix="crumb-accounts-test.")
    redis = None
    try:
        if "redis" in stores:
            ts.REDIS = os.environ.get("CRUMB_TEST_REDIS") or None
            if not ts.REDIS and os.access("/usr/bin/redis-server", os.X_OK):
                redis = ts.Redis(tmp)
                ts.REDIS = "127.0.0.1:%d" % redis.port
            if not ts.REDIS:
                print("# no redis-server: the redis run is skipped")
                stores.remove("redis")
        for n, store in enumerate(stores):
            run_store(tmp, store, n)
        try:
            t_proxies(tmp)
        except Exception as e:
            check("t_proxies", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for s in ts.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if redis:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_accounts.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
