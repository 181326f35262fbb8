// server.js - the Express peer for bench/http.sh: /visits counts per visitor
// in express-session, with its memory store, or with connect-redis when
// REDIS_URL is set. Usage: PORT=N [REDIS_URL=redis://H:P/D] node server.js
'use strict';
const express = require('express');
const session = require('express-session');

const port = Number(process.env.PORT || 3000);
const app = express();

async function main() {
  const opts = {
    secret: 'bench-secret-key-0123456789abcdef0123456789',
    resave: false,
    saveUninitialized: false,
  };
  if (process.env.REDIS_URL) {
    const { RedisStore } = require('connect-redis');
    const { createClient } = require('redis');
    const client = createClient({ url: process.env.REDIS_URL });
    await client.connect();
    opts.store = new RedisStore({ client, prefix: 'express:' });
  }
  app.use(session(opts));
  app.get('/visits', (req, res) => {
    req.session.visits = (req.session.visits || 0) + 1;
    res.type('text/plain');
    res.send(`You have visited this page ${req.session.visits} times.\n`);
  });
  app.listen(port, '127.0.0.1');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
