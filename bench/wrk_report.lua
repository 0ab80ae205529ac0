-- What every wrk script of the benchmarks reports (bench/booking_rush.lua, bench/track.lua,
-- run by bench/load.py), loaded by them with dofile: answers counted by status, and by the
-- "code" of their JSON body for the statuses the script lists in `coded`; at the end one
-- line "WRKJSON {...}" gives the counts, how many requests were sent (wrk does not read the
-- answers still in flight at its deadline) and the latency percentiles in 0.5% steps, from
-- which bench/figures.py merges the runs of a phase.
--
-- The script sets `coded` (a set of statuses, e.g. {[409] = true}) and counts its requests
-- in the global `n` in its request(); each thread's number (1, 2...) is the global `tid`.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  n = 0
  statuses = {}
  codes = {}
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  if coded[status] then
    local code = body and body:match('"code"%s*:%s*"([%w_]+)"') or "?"
    codes[code] = (codes[code] or 0) + 1
  end
end

function done(summary, latency, requests)
  local st, cd, sent = {}, {}, 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("n")
    for k, v in pairs(thread:get("statuses")) do st[k] = (st[k] or 0) + v end
    for k, v in pairs(thread:get("codes")) do cd[k] = (cd[k] or 0) + v end
  end
  local sp, cp, qp = {}, {}, {}
  for k, v in pairs(st) do table.insert(sp, string.format('"%d":%d', k, v)) end
  for k, v in pairs(cd) do table.insert(cp, string.format('"%s":%d', k, v)) end
  table.insert(qp, string.format("[0,%d]", latency.min))
  for i = 1, 199 do
    local p = i / 2
    table.insert(qp, string.format("[%s,%d]", p, latency:percentile(p)))
  end
  table.insert(qp, string.format("[100,%d]", latency.max))
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"sent":%d,"duration_us":%d,"statuses":{%s},"codes":{%s},' ..
    '"errors":%d,"quantiles_us":[%s]}\n',
    summary.requests, sent, summary.duration, table.concat(sp, ","), table.concat(cp, ","),
    e.connect + e.read + e.write + e.timeout, table.concat(qp, ",")))
end
