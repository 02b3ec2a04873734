// An open psql session, for tests and benchmarks that interleave transactions statement by
// statement or read the database often without starting a process each time.
import { spawn } from 'node:child_process';
import { PGHOST, PGPORT } from './harness.mjs';

/**
 * Starts psql on `database`. run(sql) resolves with what psql printed (stdout and stderr,
 * unaligned, tuples only) once it has answered every statement of `sql`; close() ends it.
 */
export function psqlSession(database, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  const child = spawn('psql', ['-X', '-qtA', '-h', host, '-p', String(port), '-U', user, '-d', database], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let waiting = null;
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
  let count = 0;
  return {
    run(sql) {
      const marker = `__answered_${++count}__`;
      return new Promise((resolve) => {
        waiting = { marker, resolve };
        child.stdin.write(`${sql}\n\\echo ${marker}\n`);
      });
    },
    close() {
      child.stdin.end();
      return new Promise((resolve) => child.on('exit', resolve));
    },
  };
}
