// An open psql session, for tests and benchmarks that interleave transactions statement by
// statement, hold a lock while other things happen, or read the database often without
// starting a process each time.
import { spawn } from 'node:child_process';
import { PGHOST, PGPORT } from './harness.mjs';

/**
 * Starts psql on `database`. run(sql) resolves with what psql printed (stdout and stderr,
 * unaligned, tuples only) once it has answered every statement of `sql`, or rejects when the
 * session ends first (PostgreSQL stopped under it); close() ends the session, releasing what it
 * held, and resolves once psql has exited (at once if it already had).
 */
export function psqlSession(database, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  const child = spawn('psql', ['-X', '-qtA', '-h', host, '-p', String(port), '-U', user, '-d', database], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let waiting = null;
  let exited = false;
  const exit = new Promise((resolve) =>
    child.on('exit', () => {
      exited = true;
      if (waiting) waiting.reject(new Error(`psql session ended before answering:\n${output}`));
      waiting = null;
      resolve();
    }),
  );
  const take = (chunk) => {
    output += chunk;
    if (waiting && output.includes(waiting.marker)) {
      const text = output.slice(0, output.indexOf(waiting.marker)).trim();
      output = '';
      const { resolve } = waiting;
      waiting = null;
      resolve(text);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  child.stdin.on('error', () => {}); // the session may be gone (PostgreSQL stopped under it)
  let count = 0;
  return {
    run(sql) {
      if (exited) return Promise.reject(new Error('psql session has ended'));
      const marker = `__answered_${++count}__`;
      return new Promise((resolve, reject) => {
        waiting = { marker, resolve, reject };
        child.stdin.write(`${sql}\n\\echo ${marker}\n`);
      });
    },
    close() {
      if (!exited) child.stdin.end();
      return exit;
    },
  };
}
