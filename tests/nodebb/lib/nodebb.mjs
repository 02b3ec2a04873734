// A real, stock NodeBB 4.10.3 for the plugin's tests: brought up by ../shared/nodebb/start.sh
// (its own PostgreSQL, fixtures: category, topic, users helperbot and alice, a master token),
// stopped by stop.sh. This module installs the plugin into it the way an admin does (npm
// install, ./nodebb activate, ./nodebb build), writes the plugin's settings into config.json,
// and talks to NodeBB over its HTTP APIs with the master token acting as a given uid.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../lib/harness.mjs';

export const PLUGIN_ID = 'nodebb-plugin-agentgate';
// AGENTGATE_NODEBB_PLUGIN_DIR: test another copy of the plugin (e.g. a work in progress)
export const PLUGIN_DIR = process.env.AGENTGATE_NODEBB_PLUGIN_DIR || path.join(ROOT, 'plugin', PLUGIN_ID);

/** The folder holding start.sh, stop.sh and the NodeBB tarball. */
export function launcherDir() {
  const candidates = [process.env.AGENTGATE_NODEBB_DIR, path.join(ROOT, '../shared/nodebb'), '/work/shared/nodebb'].filter(Boolean);
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'start.sh')));
  if (!found) throw new Error(`no NodeBB launcher (start.sh) in ${candidates.join(', ')}; set AGENTGATE_NODEBB_DIR`);
  return found;
}

export const NODEBB_ROOT = process.env.NODEBB_ROOT || '/tmp/nodebb-real';
/** Where start.sh makes NodeBB listen. */
export const NODEBB_URL = `http://127.0.0.1:${process.env.NODEBB_PORT || 4567}`;
export const APP = path.join(NODEBB_ROOT, 'nodebb');

function say(message) {
  process.stderr.write(`[nodebb tests ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// asynchronous, so that the event loop keeps running (sockets closed by a NodeBB that stops are
// noticed before the next request)
async function run(command, args, { cwd, what, timeout = 900000 } = {}) {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const output = `${err.stdout || ''}${err.stderr || ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`${what || `${command} ${args.join(' ')}`} failed (${err.status ?? err.signal}):\n${output}`);
  }
}

/** start.sh: brings NodeBB up (idempotent); returns its fixtures {url, token, cid, tid, agent_uid, alice_uid}. */
export async function start() {
  const out = await run(path.join(launcherDir(), 'start.sh'), [], { what: 'NodeBB start.sh' });
  const last = out.trim().split('\n').pop();
  return JSON.parse(last);
}

/** stop.sh: stops NodeBB and its PostgreSQL, keeping all data. */
export async function stop() {
  await run(path.join(launcherDir(), 'stop.sh'), [], { what: 'NodeBB stop.sh', timeout: 120000 });
}

/** A digest of the plugin's files, to reinstall it only when it changed. */
function pluginDigest() {
  const hash = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else hash.update(`${path.relative(PLUGIN_DIR, file)}\0`).update(fs.readFileSync(file)).update('\0');
    }
  };
  walk(PLUGIN_DIR);
  return hash.digest('hex');
}

const DIGEST_FILE = path.join(NODEBB_ROOT, '.agentgate-plugin-digest');
const ACTIVATED_FILE = path.join(NODEBB_ROOT, '.agentgate-plugin-activated');

/** Installs (or updates) the plugin into NodeBB's folder as an admin would; returns whether it did. */
async function installPlugin() {
  const digest = pluginDigest();
  const installed = fs.existsSync(path.join(APP, 'node_modules', PLUGIN_ID, 'plugin.json'));
  if (installed && fs.existsSync(DIGEST_FILE) && fs.readFileSync(DIGEST_FILE, 'utf8') === digest) return false;
  say(`npm install ${PLUGIN_DIR} into ${APP}`);
  // npm leaves an installed copy of the same name and version as it is: remove it first
  fs.rmSync(path.join(APP, 'node_modules', PLUGIN_ID), { recursive: true, force: true });
  // --install-links: a copy, as from the registry, with its own dependencies (standardwebhooks)
  await run('npm', ['install', '--install-links', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', PLUGIN_DIR], { cwd: APP, what: 'npm install of the plugin' });
  fs.writeFileSync(DIGEST_FILE, digest);
  return true;
}

function setPluginSettings(settings) {
  const file = path.join(APP, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.agentgate = settings;
  fs.writeFileSync(file, JSON.stringify(config, null, 4) + '\n');
}

/**
 * Makes NodeBB run the current plugin with `settings` in config.json: on the first run it
 * builds NodeBB (start.sh), installs, activates and builds the plugin; afterwards it only
 * updates the plugin when it changed. Returns the fixtures of start.sh.
 */
export async function prepare(settings) {
  const firstTime = !fs.existsSync(ACTIVATED_FILE) || !fs.existsSync(path.join(NODEBB_ROOT, '.setup-done'));
  if (firstTime) {
    say('first run on this NodeBB: start.sh, then install, activate and build the plugin');
    await start();
    await installPlugin();
    await run(path.join(APP, 'nodebb'), ['activate', PLUGIN_ID], { cwd: APP, what: './nodebb activate' });
    say('./nodebb build');
    await run(path.join(APP, 'nodebb'), ['build'], { cwd: APP, what: './nodebb build' });
    fs.writeFileSync(ACTIVATED_FILE, PLUGIN_ID);
    await stop();
  } else {
    await stop();
    await installPlugin();
  }
  setPluginSettings(settings);
  return start();
}

/** Restarts NodeBB (both servers, as after a reboot); returns the fixtures. */
export async function restart() {
  await stop();
  return start();
}

/** NodeBB's HTTP API with the master token acting as `uid`. */
export function client(info) {
  async function call(method, urlPath, { uid = 1, body } = {}) {
    const headers = { authorization: `Bearer ${info.token}` };
    let target = `${info.url}${urlPath}`;
    let payload;
    if (method === 'GET' || method === 'HEAD') {
      target += `${urlPath.includes('?') ? '&' : '?'}_uid=${uid}`;
    } else {
      headers['content-type'] = 'application/json';
      payload = Buffer.from(JSON.stringify({ ...(body || {}), _uid: uid }));
      headers['content-length'] = String(payload.length); // DELETE is not chunked by default
    }
    // a fresh connection per request: NodeBB restarts during the tests
    const { status, text } = await new Promise((resolve, reject) => {
      const req = http.request(target, { method, headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status, json, text };
  }
  const api = {
    call,
    /** The posts of a topic as `uid` sees them (every page): [{pid, uid, username, content}]. */
    async topicPosts(tid, uid = 1) {
      const posts = [];
      for (let page = 1; ; page++) {
        const res = await call('GET', `/api/topic/${tid}?page=${page}`, { uid });
        if (res.status !== 200) throw new Error(`GET /api/topic/${tid}: ${res.status} ${res.text.slice(0, 200)}`);
        posts.push(...res.json.posts.map((p) => ({ pid: p.pid, uid: p.uid, username: p.user.username, content: p.content })));
        if (page >= res.json.pagination.pageCount) return posts;
      }
    },
    /** Topics of a category: [{tid, title, uid}]. */
    async categoryTopics(cid) {
      const res = await call('GET', `/api/category/${cid}`);
      if (res.status !== 200) throw new Error(`GET /api/category/${cid}: ${res.status}`);
      return res.json.topics.map((t) => ({ tid: t.tid, title: t.title, uid: t.uid }));
    },
    /** NodeBB's post queue as an administrator sees it (every page): [{id, uid, type, content, title}]. */
    async queue() {
      const items = [];
      for (let page = 1; ; page++) {
        const res = await call('GET', `/api/post-queue?page=${page}`);
        if (res.status !== 200) throw new Error(`GET /api/post-queue: ${res.status}`);
        items.push(...res.json.posts.map((p) => ({ id: p.id, uid: p.uid, type: p.type, content: p.data.content, title: p.data.title })));
        if (page >= res.json.pagination.pageCount) return items;
      }
    },
    /** Whether queue item `id` is in NodeBB's post queue. */
    async inQueue(id) {
      const res = await call('GET', `/api/post-queue/${encodeURIComponent(id)}`);
      if (res.status !== 200) throw new Error(`GET /api/post-queue/${id}: ${res.status}`);
      return res.json.posts.some((p) => p.id === id);
    },
    /** A user's notifications: [{nid, bodyShort, path, type}]. */
    async notifications(uid) {
      const res = await call('GET', '/api/notifications', { uid });
      if (res.status !== 200) throw new Error(`GET /api/notifications: ${res.status}`);
      return res.json.notifications.map((n) => ({ nid: n.nid, bodyShort: n.bodyShort, path: n.path, type: n.type }));
    },
  };
  return api;
}
