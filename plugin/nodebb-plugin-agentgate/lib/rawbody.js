'use strict';

// A Standard Webhooks signature covers the exact bytes sent, so the release route needs the raw
// body, not JSON that NodeBB's body parser decoded (re-encoding it would not give the same bytes
// back). NodeBB installs its body parsers before any plugin loads and offers no hook in front of
// them, so the plugin puts one small middleware just before them in Express's stack: for POSTs
// to the release route only, it reads the body itself (up to LIMIT bytes) into
// req.agentgateRawBody; the body parsers then see a finished request and leave it alone. If the
// stack cannot be found (a future Express), the middleware is not installed and the route
// refuses every delivery (fail closed) with a log line saying why.

const winston = require.main.require('winston');

const LIMIT = 1024 * 1024;
const BODY_PARSERS = new Set(['urlencodedParser', 'jsonParser']);

function capture(releasePath) {
	return function agentgateRawBody(req, res, next) {
		if (req.method !== 'POST' || req.url.split('?')[0] !== releasePath || req.complete) {
			return next();
		}
		const encoding = String(req.headers['content-encoding'] || 'identity').toLowerCase();
		if (encoding !== 'identity') {
			return res.status(415).json({ error: { code: 'unsupported_encoding', message: 'send the body uncompressed' } });
		}
		const chunks = [];
		let size = 0;
		let done = false;
		req.on('data', (chunk) => {
			if (done) {
				return;
			}
			size += chunk.length;
			if (size > LIMIT) {
				done = true;
				res.status(413).json({ error: { code: 'body_too_large', message: `the body is over ${LIMIT} bytes` } });
				req.resume();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => {
			if (!done) {
				done = true;
				req.agentgateRawBody = Buffer.concat(chunks);
				next();
			}
		});
		req.on('error', (err) => {
			if (!done) {
				done = true;
				next(err);
			}
		});
	};
}

/** Puts the capture middleware just before NodeBB's body parsers; returns whether it could. */
function install(app, releasePath) {
	const router = app._router;
	const stack = router && router.stack;
	if (!Array.isArray(stack)) {
		winston.error('[agentgate] cannot find Express\'s middleware stack: releases will be refused');
		return false;
	}
	const index = stack.findIndex(layer => BODY_PARSERS.has(layer.name));
	if (index < 0) {
		winston.error('[agentgate] cannot find NodeBB\'s body parsers: releases will be refused');
		return false;
	}
	const fn = capture(releasePath);
	app.use(fn);
	const layer = stack.pop();
	if (!layer || layer.handle !== fn) {
		if (layer) {
			stack.push(layer);
		}
		winston.error('[agentgate] cannot place the raw-body middleware: releases will be refused');
		return false;
	}
	stack.splice(index, 0, layer);
	return true;
}

module.exports = { install };
