-- wrk script for tests/bench/intake.sh: sends pre-signed intake requests, each at most once.
--
--   wrk -t T -c C -d D -s intake.lua URL -- REQUESTS_PREFIX
--
-- Thread n reads REQUESTS_PREFIX.n (written by presign.mjs: raw HTTP requests, each followed
-- by a NUL byte) and sends them in order. Nothing is signed or formatted during the run. If a
-- thread runs out it stops itself (its last request is a GET /healthz, not a replay) and
-- reports "exhausted"; the script then says to pre-sign more.
--
-- done() prints key=value lines that intake.sh reads: completed requests, answers by status
-- (counted in response(), per thread, summed here), p50/p99/max latency in microseconds,
-- socket errors.

-- Main state: the thread objects, so done() can collect their counters.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

-- Thread state (each wrk thread has its own Lua state; `id` was set by setup above).
local data, pos, size
statuses = {}
sent = 0
exhausted = 0

function init(args)
   local file = assert(io.open(args[1] .. "." .. id, "rb"))
   data = file:read("*a")
   file:close()
   pos, size = 1, #data
end

function request()
   if pos > size then
      exhausted = exhausted + 1
      wrk.thread:stop()
      return wrk.format("GET", "/healthz")
   end
   local stop = string.find(data, "\0", pos, true)
   local raw = string.sub(data, pos, stop - 1)
   pos = stop + 1
   sent = sent + 1
   return raw
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts, total_sent, total_exhausted = {}, 0, 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + n
      end
      total_sent = total_sent + thread:get("sent")
      total_exhausted = total_exhausted + thread:get("exhausted")
   end
   local other = {}
   for status, n in pairs(counts) do
      if status ~= 202 then table.insert(other, status .. ":" .. n) end
   end
   local e = summary.errors
   io.write(string.format("bench.duration_us=%d\n", summary.duration))
   io.write(string.format("bench.completed=%d\n", summary.requests))
   io.write(string.format("bench.sent=%d\n", total_sent))
   io.write(string.format("bench.held=%d\n", counts[202] or 0))
   io.write(string.format("bench.other_statuses=%s\n", #other > 0 and table.concat(other, ",") or "none"))
   io.write(string.format("bench.socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
   io.write(string.format("bench.exhausted=%d\n", total_exhausted))
   io.write(string.format("bench.p50_us=%d\n", latency:percentile(50)))
   io.write(string.format("bench.p99_us=%d\n", latency:percentile(99)))
   io.write(string.format("bench.max_us=%d\n", latency.max))
end
