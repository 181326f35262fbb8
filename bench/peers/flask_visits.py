"""flask_visits.py - the Flask peer for bench/http.sh: /visits counts per
visitor in the session, like crumb-shop's page.

Cookie session (Flask's signed cookie) by default; with
FLASK_SESSION_REDIS=redis://HOST:PORT/DB it uses Flask-Session on Redis.
Debian 12 ships Flask 2.2.2 and Flask-Session 0.3.2, whose config keys are
SESSION_TYPE='redis' and SESSION_REDIS (a redis.Redis client); 0.3.2
writes the record (SETEX) and sets the cookie on every response.
Run: gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench/peers flask_visits:app
"""
import os

from flask import Flask, session

app = Flask(__name__)
app.secret_key = "bench-secret-key-0123456789abcdef0123456789"

REDIS_URL = os.environ.get("FLASK_SESSION_REDIS")
if REDIS_URL:
    import redis
    from flask_session import Session

    app.config["SESSION_TYPE"] = "redis"
    app.config["SESSION_REDIS"] = redis.Redis.from_url(REDIS_URL)
    app.config["SESSION_KEY_PREFIX"] = "flask:"
    app.config["SESSION_USE_SIGNER"] = True
    Session(app)


@app.route("/visits")
def visits():
    session["visits"] = session.get("visits", 0) + 1
    return "You have visited this page %d times.\n" % session["visits"]
