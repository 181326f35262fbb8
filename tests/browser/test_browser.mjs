// test_browser.mjs - crumb-shop in headless Debian chromium (playwright-core).
//
// Starts the real binary (CRUMB_SHOP_BIN, default build/crumb-shop) on a free
// loopback port with a temporary CRUMB_DATA_DIR, drives /usr/bin/chromium
// (CRUMB_CHROMIUM to override) through playwright-core, and prints one line
// per check: "ok browser <name>" or "FAIL browser <name>: why". Screenshots
// (PNG) of the main steps go to CRUMB_TEST_OUT (default: a temporary
// directory, printed at the end). Exits non-zero on any failure, including
// a chromium that cannot start. Only 127.0.0.1; everything is bounded in
// time, the whole run by WATCHDOG_MS.
//
// Layout, so that later flows (checkout, analytics) slot in: a list of
// scenarios, each an async function of a Harness that opens its own
// context(s); helpers for the server, the browser, forms, styles, and a
// "browser restart" (cookies saved to a file the way a browser keeps them,
// then a new context from that file).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = process.env.CRUMB_ROOT || path.resolve(HERE, '..', '..');
const BIN = path.resolve(ROOT, process.env.CRUMB_SHOP_BIN || 'build/crumb-shop');
const CHROMIUM = process.env.CRUMB_CHROMIUM || '/usr/bin/chromium';
const CRUMB = path.resolve(ROOT, process.env.CRUMB_BIN || 'build/crumb');
const OUT = process.env.CRUMB_TEST_OUT
    ? path.resolve(process.env.CRUMB_TEST_OUT, 'browser')
    : fs.mkdtempSync(path.join(os.tmpdir(), 'crumb-browser-out.'));
const WATCHDOG_MS = 85_000;   // the whole test, hard limit
const STEP_MS = 20_000;       // one check
const ACTION_MS = 8_000;      // one click, fill or wait
const NAV_MS = 10_000;        // one navigation

// Flags from the machine notes: no background traffic (the network is
// closed: only loopback), no sandbox (root), no GPU, no first-run UI.
const CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
];

let failures = 0;
let passes = 0;

function report(name, ok, why) {
    if (ok) {
        passes++;
        console.log(`ok browser ${name}`);
    } else {
        failures++;
        const w = String(why || 'condition false').replace(/\s+/g, ' ').trim();
        console.log(`FAIL browser ${name}: ${w.slice(0, 400)}`);
    }
    return ok;
}

function withTimeout(promise, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    });
    return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// A check: runs fn (async, throws on failure) within STEP_MS.
async function check(name, fn, ms = STEP_MS) {
    try {
        const t = Date.now();
        await withTimeout(Promise.resolve().then(fn), ms, name);
        if (process.env.CRUMB_TEST_VERBOSE) console.log(`# ${name}: ${Date.now() - t} ms`);
        return report(name, true);
    } catch (e) {
        return report(name, false, e && e.message ? e.message.split('\n')[0] : e);
    }
}

function assert(cond, why) {
    if (!cond) throw new Error(why);
}

function assertEq(got, want, what) {
    if (got !== want)
        throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// ---- the server ---------------------------------------------------------

// crumb-shop on 127.0.0.1:<free port> (it binds port 0 and prints the URL),
// with its own data directory; stopped by PID.
class Server {
    static async start(dataDir) {
        const env = {};
        for (const [k, v] of Object.entries(process.env))
            if (!k.startsWith('CRUMB_') || k === 'CRUMB_ROOT') env[k] = v;
        Object.assign(env, { CRUMB_DATA_DIR: dataDir, CRUMB_ENV: 'development' });
        const s = new Server();
        s.logPath = path.join(dataDir, 'server.log');
        const log = fs.openSync(s.logPath, 'a');
        s.proc = spawn(BIN, ['--listen', '127.0.0.1:0'], {
            cwd: ROOT, env, stdio: ['ignore', 'pipe', log],
        });
        fs.closeSync(log);
        s.exited = new Promise((resolve) => s.proc.on('exit', (code, sig) => resolve({ code, sig })));
        s.proc.on('error', () => {});
        let banner = '';
        s.url = await withTimeout(new Promise((resolve, reject) => {
            s.proc.stdout.on('data', (d) => {
                banner += d.toString();
                const m = banner.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
                if (m) resolve(`http://127.0.0.1:${m[1]}`);
            });
            s.proc.on('exit', (code) => reject(new Error(`crumb-shop exited (${code}) before listening: ${s.log()}`)));
            s.proc.on('error', (e) => reject(new Error(`cannot run ${BIN}: ${e.message}`)));
        }), 15_000, 'crumb-shop start');
        s.proc.stdout.resume();
        return s;
    }

    log() {
        try {
            return fs.readFileSync(this.logPath, 'utf8').slice(-2000);
        } catch {
            return '';
        }
    }

    // SIGTERM by PID, SIGKILL after 5 s; resolves to the exit status.
    async stop() {
        if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null)
            return this.exited;
        try { process.kill(this.proc.pid, 'SIGTERM'); } catch {}
        const t = setTimeout(() => { try { process.kill(this.proc.pid, 'SIGKILL'); } catch {} }, 5_000);
        const st = await this.exited;
        clearTimeout(t);
        return st;
    }
}

// ---- the browser and its pages --------------------------------------------

// One test's view of a context: the page, the console errors and CSP
// reports it saw, and helpers that keep to the app's own origin.
class Tab {
    constructor(h, context, page) {
        this.h = h;
        this.context = context;
        this.page = page;
        this.errors = [];
        page.setDefaultTimeout(ACTION_MS);
        page.setDefaultNavigationTimeout(NAV_MS);
        page.on('console', (m) => {
            if (m.type() === 'error')
                this.errors.push(`console: ${m.text()} (${m.location()?.url || this.page.url()})`);
        });
        page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
        page.on('requestfailed', (r) =>
            this.errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
        page.on('response', (r) => {
            if (r.status() >= 500) this.errors.push(`HTTP ${r.status()}: ${r.url()}`);
        });
    }

    async goto(p) {
        const r = await this.page.goto(this.h.url + p, { waitUntil: 'load' });
        return r;
    }

    path() {
        const u = new URL(this.page.url());
        return u.pathname + u.search;
    }

    // Fills the named fields of the form that posts to `action`, ticks the
    // checkboxes and radios given as true / values, submits it and waits
    // for the page it lands on.
    async submit(action, fields = {}) {
        const form = this.page.locator(`form[action="${action}"]`).first();
        for (const [name, value] of Object.entries(fields)) {
            const input = form.locator(`[name="${name}"]`);
            const type = await input.first().getAttribute('type');
            if (type === 'checkbox') {
                if (value) await input.check();
                else await input.uncheck();
            } else if (type === 'radio') {
                await form.locator(`[name="${name}"][value="${value}"]`).check();
            } else {
                await input.fill(String(value));
            }
        }
        await Promise.all([
            this.page.waitForNavigation({ waitUntil: 'load' }),
            form.locator('button[type="submit"], button:not([type])').first().click(),
        ]);
    }

    async text(selector) {
        return (await this.page.locator(selector).first().innerText()).trim();
    }

    async bodyStyle() {
        return this.page.evaluate(() => {
            const cs = getComputedStyle(document.body);
            return {
                background: cs.backgroundColor,
                color: cs.color,
                fontSize: cs.fontSize,
                fontFamily: cs.fontFamily,
                className: document.body.className,
                sheets: [...document.styleSheets].map((s) => {
                    let rules = -1;
                    try { rules = s.cssRules.length; } catch {}
                    return { href: s.href, rules };
                }),
            };
        });
    }

    async shot(name) {
        const file = path.join(OUT, `${String(++this.h.shots).padStart(2, '0')}-${name}.png`);
        await this.page.screenshot({ path: file, fullPage: true, timeout: ACTION_MS });
        this.h.screenshots.push(file);
        return file;
    }

    sessionCookie() {
        return this.context.cookies(this.h.url).then((cs) => cs.find((c) => c.name === 'session'));
    }

    assertNoErrors() {
        assert(this.errors.length === 0, this.errors.slice(0, 3).join(' | '));
    }
}

class Harness {
    constructor(browser, server, tmp) {
        this.browser = browser;
        this.server = server;
        this.url = server.url;
        this.tmp = tmp;
        this.shots = 0;
        this.screenshots = [];
        this.contexts = new Set();
    }

    // A new context (a fresh cookie jar), optionally from a saved state.
    async open(storageState) {
        const context = await this.browser.newContext({
            storageState, viewport: { width: 1000, height: 700 },
        });
        this.contexts.add(context);
        const page = await context.newPage();
        return new Tab(this, context, page);
    }

    async close(tab) {
        this.contexts.delete(tab.context);
        await tab.context.close();
    }

    // "Browser restart": writes the cookies to a file as a browser keeps
    // them across a restart - persistent cookies only; a cookie without
    // Expires/Max-Age is a browser-session cookie and is dropped - closes
    // the context, and opens a new one from the file.
    async restart(tab, name) {
        const state = await tab.context.storageState();
        const kept = {
            cookies: state.cookies.filter((c) => c.expires > 0),
            origins: state.origins,
        };
        const file = path.join(this.tmp, `state-${name}.json`);
        fs.writeFileSync(file, JSON.stringify(kept, null, 1), { mode: 0o600 });
        await this.close(tab);
        return this.open(file);
    }

    async closeAll() {
        for (const c of this.contexts) await c.close().catch(() => {});
        this.contexts.clear();
    }
}

// ---- scenarios -------------------------------------------------------------

const USER = `alice_${process.pid}`;
const PASSWORD = 'correct horse battery';

async function login(tab, username, password, remember) {
    await tab.goto('/login');
    await tab.submit('/login', { username, password, remember: !!remember });
    assertEq(tab.path(), '/', 'page after login');
    assertEq(await tab.text('h1'), `Welcome back, ${username}!`, 'heading');
}

async function logout(tab) {
    await tab.goto('/');
    await tab.submit('/logout');
    assertEq(tab.path(), '/login', 'page after logout');
}

function price(s) {
    const m = /\$(\d+)\.(\d\d)/.exec(s);
    if (!m) throw new Error(`no price in ${JSON.stringify(s)}`);
    return Number(m[1]) * 100 + Number(m[2]);
}

// Register, log out and in, shop, change the theme, log out.
async function shopFlow(h) {
    const tab = await h.open();
    try {
        await check('register', async () => {
            await tab.goto('/register');
            await tab.shot('register-form');
            await tab.submit('/register', { username: USER, password: PASSWORD, password2: PASSWORD });
            assertEq(tab.path(), '/', 'page after register');
            assertEq(await tab.text('h1'), `Welcome back, ${USER}!`, 'heading');
            await tab.shot('home-after-register');
        });

        await check('stylesheet_applied_under_csp', async () => {
            const r = await tab.goto('/login');
            const csp = r.headers()['content-security-policy'] || '';
            assert(/style-src 'self'/.test(csp), `CSP ${JSON.stringify(csp)}`);
            const st = await tab.bodyStyle();
            const own = st.sheets.find((s) => s.href === `${h.url}/static/style.css`);
            assert(own && own.rules > 10, `stylesheet not loaded: ${JSON.stringify(st.sheets)}`);
            assertEq(st.background, 'rgb(253, 250, 245)', 'light body background');
            assert(/system-ui/.test(st.fontFamily), `font-family ${st.fontFamily}`);
            tab.assertNoErrors();
        });

        await check('session_cookie_flags', async () => {
            const c = await tab.sessionCookie();
            assert(c, 'no session cookie');
            assertEq(c.httpOnly, true, 'HttpOnly');
            assertEq(c.sameSite, 'Lax', 'SameSite');
            assertEq(c.path, '/', 'Path');
            assertEq(c.expires, -1, 'expires (a browser-session cookie without remember)');
            const js = await tab.page.evaluate(() => document.cookie);
            assert(!/session=/.test(js), `document.cookie shows it: ${js}`);
        });

        await check('logout_then_login', async () => {
            await logout(tab);
            await tab.shot('login-form');
            await login(tab, USER, PASSWORD, false);
        });

        await check('wrong_password', async () => {
            const t2 = await h.open();
            try {
                await t2.goto('/login');
                const [resp] = await Promise.all([
                    t2.page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
                    t2.submit('/login', { username: USER, password: 'not the password' }),
                ]);
                assertEq(resp.status(), 401, 'status');
                assert((await t2.text('.error')).includes('Incorrect username or password'), 'error text');
                await t2.shot('login-failed');
            } finally {
                await h.close(t2);
            }
        });

        let expected = 0;
        await check('add_two_products', async () => {
            await tab.goto('/products');
            const items = tab.page.locator('ul.products li');
            assert((await items.count()) >= 3, 'fewer than 3 products');
            for (const i of [0, 1]) {
                const li = items.nth(i);
                const action = await li.locator('form').getAttribute('action');
                expected += price(await li.locator('.price').innerText());
                await tab.submit(action);
                assertEq(tab.path(), '/products', `page after ${action}`);
            }
            await tab.shot('products');
        });

        await check('cart_total', async () => {
            await tab.goto('/cart');
            const rows = await tab.page.locator('table.cart tr').count();
            assertEq(rows, 2, 'cart lines');
            const total = price(await tab.text('.total'));
            assertEq(total, expected, 'total in cents');
            await tab.shot('cart');
        });

        let before;
        await check('theme_dark_large', async () => {
            await tab.goto('/products');
            before = await tab.bodyStyle();
            await tab.goto('/preferences');
            await tab.shot('preferences');
            await tab.submit('/preferences', { theme: 'dark', font_size: 'large' });
            assertEq(tab.path(), '/styled_page', 'page after preferences');
            await tab.shot('styled-page-dark');
        });

        await check('theme_applies_on_other_page', async () => {
            await tab.goto('/cart');
            const after = await tab.bodyStyle();
            assert(/theme-dark/.test(after.className) && /font-large/.test(after.className),
                `body class ${after.className}`);
            assert(before.background !== after.background,
                `background unchanged: ${after.background}`);
            assertEq(after.background, 'rgb(29, 26, 23)', 'dark background');
            assertEq(after.fontSize, '20px', 'large font');
            assert(before.fontSize !== after.fontSize, 'font size unchanged');
            await tab.shot('cart-dark');
        });

        await check('logout_redirects_home_to_login', async () => {
            await logout(tab);
            await tab.goto('/');
            assertEq(tab.path(), '/login', 'page for / after logout');
            await tab.shot('logged-out');
        });

        await check('no_console_errors', async () => tab.assertNoErrors());
    } finally {
        await h.close(tab).catch(() => {});
    }
}

// Across a browser restart: a login without "remember" is a browser-session
// cookie and is gone; with "remember" the cookie is persistent and the user
// is still logged in.
async function restartFlow(h) {
    await check('restart_drops_session_login', async () => {
        let tab = await h.open();
        try {
            await login(tab, USER, PASSWORD, false);
            tab = await h.restart(tab, 'plain');
            assert(!(await tab.sessionCookie()), 'session cookie survived');
            await tab.goto('/');
            assertEq(tab.path(), '/login', 'page for / after restart');
            tab.assertNoErrors();
        } finally {
            await h.close(tab).catch(() => {});
        }
    });

    await check('restart_keeps_remembered_login', async () => {
        let tab = await h.open();
        try {
            await login(tab, USER, PASSWORD, true);
            const c = await tab.sessionCookie();
            assert(c, 'no session cookie');
            const days = (c.expires - Date.now() / 1000) / 86400;
            assert(days > 30 && days < 32, `expires in ${days.toFixed(2)} days, want ~31`);
            assertEq(c.httpOnly, true, 'HttpOnly');
            assertEq(c.sameSite, 'Lax', 'SameSite');
            tab = await h.restart(tab, 'remember');
            await tab.goto('/');
            assertEq(tab.path(), '/', 'page for / after restart');
            assertEq(await tab.text('h1'), `Welcome back, ${USER}!`, 'heading');
            await tab.shot('remembered-after-restart');
            tab.assertNoErrors();
        } finally {
            await h.close(tab).catch(() => {});
        }
    });
}

// The same across a real restart of chromium on one profile directory
// (three launches), to show that the cookie filter in Harness.restart is
// what chromium itself does.
async function profileRestartFlow(h) {
    const profile = fs.mkdtempSync(path.join(h.tmp, 'profile.'));
    let context = null;
    const relaunch = async () => {
        if (context) {
            h.contexts.delete(context);
            await withTimeout(context.close(), 10_000, 'profile close');
        }
        context = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
            timeout: 15_000, viewport: { width: 1000, height: 700 },
        });
        h.contexts.add(context);
        return new Tab(h, context, context.pages()[0] || await context.newPage());
    };
    let tab = null;
    try {
        await check('profile_restart_drops_session_login', async () => {
            await login(await relaunch(), USER, PASSWORD, false);
            tab = await relaunch();
            await tab.goto('/');
            assertEq(tab.path(), '/login', 'page for / after restart');
        }, 30_000);
        await check('profile_restart_keeps_remembered_login', async () => {
            await login(tab || await relaunch(), USER, PASSWORD, true);
            tab = await relaunch();
            await tab.goto('/');
            assertEq(tab.path(), '/', 'page for / after restart');
            assertEq(await tab.text('h1'), `Welcome back, ${USER}!`, 'heading');
            tab.assertNoErrors();
        }, 30_000);
    } finally {
        if (context) {
            h.contexts.delete(context);
            await withTimeout(context.close(), 10_000, 'profile close').catch(() => {});
        }
    }
}

// A full checkout: cart -> address (one bad postcode first) -> delivery
// and payment -> review -> order number, then the order in /orders and an
// empty cart.
async function checkoutFlow(h) {
    const tab = await h.open();
    let unit = 0;
    try {
        await check('checkout_address_validated', async () => {
            await login(tab, USER, PASSWORD, false);
            await tab.goto('/products');
            const li = tab.page.locator('ul.products li').first();
            unit = price(await li.locator('.price').innerText());
            await tab.submit(await li.locator('form').getAttribute('action'));
            await tab.goto('/cart');
            await Promise.all([
                tab.page.waitForNavigation({ waitUntil: 'load' }),
                tab.page.locator('a[href="/checkout"]').first().click(),
            ]);
            assertEq(tab.path(), '/checkout', 'page after "Proceed to checkout"');
            const address = {
                name: 'Zoë <Tester>', street: '1 Crumb Lane', city: 'Bakerton',
                postcode: 'AB1 2CD!', country: 'Wales',
            };
            const [resp] = await Promise.all([
                tab.page.waitForResponse((r) => r.url().endsWith('/checkout') && r.request().method() === 'POST'),
                tab.submit('/checkout', address),
            ]);
            assertEq(resp.status(), 400, 'status for a bad postcode');
            tab.errors.length = 0; // chromium logs the expected 400
            assert((await tab.text('#postcode-error')).startsWith('Postcode'), 'postcode error');
            assertEq(await tab.page.inputValue('input[name="name"]'), address.name, 'name kept');
            await tab.shot('checkout-address-error');
            await tab.submit('/checkout', { ...address, postcode: 'AB1 2CD' });
            assert((await tab.text('h2')).startsWith('Step 2'), 'on step 2');
        });
        await check('checkout_review_and_place', async () => {
            await tab.submit('/checkout', { delivery: 'express', payment: 'card' });
            assert((await tab.text('h2')).startsWith('Step 3'), 'on step 3');
            assertEq(price(await tab.text('.total')), unit + 1250, 'total with express');
            assert((await tab.text('.ship-to')).startsWith('Zoë <Tester>'), 'address shown as text');
            await tab.shot('checkout-review');
            await tab.submit('/checkout');
            assert(/^\/orders\/\d+\?placed=1$/.test(tab.path()), `page after placing: ${tab.path()}`);
            const n = await tab.text('.order-number');
            await tab.shot('checkout-placed');
            await tab.goto('/orders');
            assert(await tab.page.locator(`a[href="/orders/${n}"]`).count() === 1, `order ${n} not listed`);
            await tab.goto('/cart');
            assert((await tab.page.content()).includes('Your cart is empty'), 'cart not empty');
            tab.assertNoErrors();
        });
    } finally {
        await h.close(tab).catch(() => {});
    }
}

// An admin (made with `crumb users add --admin` on the server's user
// database) browses a little, then looks at /admin/analytics: the charts
// are inline SVG, drawn by the server, shown under the page's own CSP.
async function analyticsFlow(h) {
    const admin = `boss_${process.pid}`;
    const users = `sqlite:${path.join(path.dirname(h.server.logPath), 'users.db')}`;
    const tab = await h.open();
    try {
        await check('analytics_admin_created', async () => {
            const r = spawnSync(CRUMB, ['users', 'add', admin, '--admin',
                '--password-stdin', '--users', users],
            { input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 10_000 });
            assertEq(r.status, 0, `crumb users add: ${r.stderr}`);
        });
        await check('analytics_page_charts', async () => {
            await login(tab, admin, PASSWORD, false);
            for (const p of ['/products', '/cart', '/visits', '/products'])
                await tab.goto(p);
            await tab.goto('/admin/analytics');
            assertEq(tab.path(), '/admin/analytics', 'page');
            assertEq(await tab.text('h1'), 'Analytics', 'heading');
            const svgs = await tab.page.locator('svg').count();
            assert(svgs >= 4, `only ${svgs} charts`);
            const text = await tab.page.content();
            assert(text.includes('/products'), 'page views of /products missing');
            await tab.shot('admin-analytics');
            tab.assertNoErrors();
        });
    } finally {
        await h.close(tab).catch(() => {});
    }
}

const SCENARIOS = [shopFlow, restartFlow, profileRestartFlow, checkoutFlow,
    analyticsFlow];

// ---- main ----------------------------------------------------------------

async function main() {
    const t0 = Date.now();
    fs.mkdirSync(OUT, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crumb-browser.'));
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    let server = null;
    let browser = null;
    let h = null;

    const watchdog = setTimeout(() => {
        report('watchdog', false, `whole test over ${WATCHDOG_MS} ms`);
        if (server?.proc?.pid) try { process.kill(server.proc.pid, 'SIGKILL'); } catch {}
        if (browser) try { browser.process?.()?.kill('SIGKILL'); } catch {}
        process.exit(1);
    }, WATCHDOG_MS);

    try {
        const started = await check('server_start', async () => {
            server = await Server.start(dataDir);
        });
        if (!started) return;

        const launched = await check('chromium_launch', async () => {
            browser = await chromium.launch({
                executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
                timeout: 15_000,
            });
        });
        if (!launched) return;

        h = new Harness(browser, server, tmp);
        for (const scenario of SCENARIOS) {
            try {
                await scenario(h);
            } catch (e) {
                report(scenario.name, false, e.message);
            }
        }
    } finally {
        if (h) await h.closeAll();
        if (browser) await withTimeout(browser.close(), 10_000, 'browser close').catch((e) => {
            report('chromium_close', false, e.message);
            try { browser.process?.()?.kill('SIGKILL'); } catch {}
        });
        if (server) {
            const st = await server.stop();
            report('server_clean_exit', st.code === 0, `exit ${st.code} signal ${st.sig}: ${server.log()}`);
        }
        clearTimeout(watchdog);
        if (failures === 0) fs.rmSync(tmp, { recursive: true, force: true });
        else console.log(`server data and log kept in ${tmp}`);
        console.log(`screenshots (${h ? h.screenshots.length : 0}) in ${OUT}`);
        console.log(`time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        console.log(`browser: ${passes} passed, ${failures} failed`);
    }
}

main().then(
    () => process.exit(failures === 0 ? 0 : 1),
    (e) => {
        report('main', false, e && e.stack ? e.stack : e);
        process.exit(1);
    },
);
