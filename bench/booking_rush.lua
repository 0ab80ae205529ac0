-- wrk script of the booking-rush benchmark (run by bench/load.py).
--
-- Each request POSTs a unique JSON booking body (unique national id) to the URL's path;
-- answers are counted by status and 409s by their "code"; at the end one line
-- "WRKJSON {...}" gives the counts, how many requests were sent (wrk does not read the
-- answers still in flight at its deadline) and the latency percentiles in 0.5% steps, from
-- which bench/figures.py merges the runs of a phase.
--
-- Parameters, from the environment:
--   RUSH_FIRST_SLOT  id of the first slot
--   RUSH_SLOTS       number of slots, booked in round robin over all clients (1: hot slot)
--   RUSH_START       position in the round robin to start from (runs go on from each other)
--   RUSH_PREFIX      prefix of the national ids, unique per run
--   RUSH_THREADS     wrk's thread count (its -t)

local function number(name)
  local value = tonumber(os.getenv(name) or "")
  if value == nil then
    error(name .. " is not set to a number")
  end
  return value
end

local first, count, start = number("RUSH_FIRST_SLOT"), number("RUSH_SLOTS"), number("RUSH_START")
local nthreads = number("RUSH_THREADS")
local prefix = os.getenv("RUSH_PREFIX") or error("RUSH_PREFIX is not set")
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
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

function request()
  local k = start + n * nthreads + tid - 1
  n = n + 1
  local nid = prefix .. "T" .. tid .. "N" .. n
  local body = string.format(
    '{"slot":%d,"surname":"BENCH","given_names":"Charge Test","birth_date":"1990-01-01",' ..
    '"national_id":"%s","email":"%s@bench.example.com","phone":"+22376123456",' ..
    '"language":"fr"}', first + (k % count), nid, string.lower(nid))
  return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 409 then
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
