#!/usr/bin/python3
"""test_sweep.py - crumb-shop removes expired session records from its
SQLite store by itself (CRUMB_GC_INTERVAL), with the clock moved through
CRUMB_TEST_CLOCK_FILE. Prints "ok http <name>" / "FAIL http <name>: why"."""
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_shop as ts  # noqa: E402


def rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="crumb-sweep-")
    clock = os.path.join(tmp, "clock")
    with open(clock, "w") as f:
        f.write("0\n")
    db = os.path.join(tmp, "sessions.db")
    s = ts.Server(tmp, {"CRUMB_STORE": "sqlite:" + db,
                        "CRUMB_ENV": "test", "CRUMB_IDLE_TIMEOUT": "60",
                        "CRUMB_GC_INTERVAL": "1",
                        "CRUMB_TEST_CLOCK_FILE": clock})
    try:
        if not ts.check("sweep: server starts", s.port, s.stderr()[-300:]):
            return 1
        c = ts.Client(s.port)
        ts.register(c, "sweepy")
        ts.check("sweep: a logged-in session is stored", rows(db) >= 1,
                 str(rows(db)))
        time.sleep(2.5)
        ts.check("sweep: a live session is kept", rows(db) >= 1,
                 str(rows(db)))
        # A form posted after the idle timeout: not a bare 403 but the
        # login form, saying why, with the way back; nothing changed.
        token = c.csrf("/preferences")
        with open(clock, "w") as f:
            f.write("61\n")
        r = c.post("/preferences", {"theme": "dark", "font_size": "large",
                                    "csrf_token": token})
        loc = r.header("Location") or ""
        ts.check("expired post: to the login form with the reason",
                 r.status == 303 and loc.startswith("/login?next=%2Fpreferences")
                 and "expired=idle" in loc, "%d %s" % (r.status, loc))
        ts.check("expired post: the login page says why",
                 "without activity" in c.get(loc).body)
        with open(clock, "w") as f:
            f.write("0\n")
        # Past the idle deadline and the 15 minutes a record is kept to say
        # why it ended: the next sweep removes it, with no request.
        with open(clock, "w") as f:
            f.write("%d\n" % (3 * (60 + 900)))
        deadline = time.time() + 10
        while time.time() < deadline and rows(db) > 0:
            time.sleep(0.2)
        ts.check("sweep: expired records removed by the server",
                 rows(db) == 0, "%d rows left" % rows(db))
        ts.check("sweep: the sweep is logged",
                 "session sweep removed" in s.stderr(), s.stderr()[-300:])
        rc = s.stop()
        ts.check("sweep: clean shutdown with the sweeper running", rc == 0,
                 "exit %s" % rc)
    finally:
        for srv in ts.servers:
            if srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# test_sweep.py: %d failed" % ts.failures)
    return 1 if ts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
