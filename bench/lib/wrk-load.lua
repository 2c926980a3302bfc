-- The wrk side of a scenario (bench/lib/wrk-worker.mjs runs it):
--   wrk -t T -c C -d D -s bench/lib/wrk-load.lua <url> -- <requests-file> <cycle|once> <T> [count-statuses]
--
-- The requests file is written by wrk-worker.mjs from the same values, with the same bytes, as
-- the autocannon worker sends: the method on the first line, then one header per line, a blank
-- line, then one request per line as "<path>\t<body>" (body empty for a GET).
--
-- cycle: every thread goes round all the requests, each starting at its own offset so threads
--        do not send identical sequences.
-- once:  each thread owns a contiguous slice and sends each request in it exactly once; when a
--        thread runs out it writes "exhausted" on stderr (the worker then stops the run) and stops.
--
-- done() prints one line, "wrk-result {json}", with what the worker needs: duration, completed
-- requests, bytes, socket errors, the statuses seen (when counted), latency percentiles, and how
-- many requests each thread took from its slice.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local function read_requests(file)
  local handle = assert(io.open(file, "r"))
  local method = handle:read("*l")
  local headers = {}
  for line in handle:lines() do
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local lines = {}
  for line in handle:lines() do
    if line ~= "" then table.insert(lines, line) end
  end
  handle:close()
  return method, headers, lines
end

-- Globals of each thread's own Lua state (read back in done() through thread:get).
statuses = {}
taken = 0
slice_first = 0
exhausted = false

local requests = {}
local cursor = 1
local once = false
local stopping_request
-- wrk calls request() once on the first thread before the run, only to check that it parses;
-- that call must not use up a single-use value.
local checking = false

function init(args)
  local file, kind, thread_count, count_statuses = args[1], args[2], tonumber(args[3]), args[4] == "count-statuses"
  local method, headers, lines = read_requests(file)
  -- wrk sets "host:port" in its own headers before init(); wrk.format() would add the host alone.
  headers["Host"] = wrk.headers["Host"]
  local index = thread_index or 0
  checking = index == 0
  once = kind == "once"
  local first, last = 1, #lines
  if once then
    -- Contiguous slices: thread i sends lines [first, last] and nothing else.
    first = math.floor(index * #lines / thread_count) + 1
    last = math.floor((index + 1) * #lines / thread_count)
  end
  for position = first, last do
    local path, body = lines[position]:match("^([^\t]*)\t(.*)$")
    if body == "" then body = nil end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  slice_first = first - 1
  if once then
    -- Sent when the slice is used up, and never read (the thread stops): the request's path with
    -- an empty JSON body, which cannot redeem anything.
    local path, body = (lines[first] or "/\t"):match("^([^\t]*)\t(.*)$")
    stopping_request = wrk.format(method, path, headers, body ~= "" and "{}" or nil)
  else
    -- Threads start at evenly spaced offsets in the same list.
    cursor = math.floor(index * #requests / thread_count) + 1
  end
  if not count_statuses then response = nil end
end

function request()
  if checking then
    checking = false
    return requests[cursor] or stopping_request
  end
  if once then
    if cursor > #requests then
      if not exhausted then
        exhausted = true
        io.stderr:write("exhausted\n")
        io.stderr:flush()
        wrk.thread:stop()
      end
      return stopping_request
    end
    taken = cursor
  end
  local value = requests[cursor]
  cursor = cursor + 1
  if not once and cursor > #requests then cursor = 1 end
  return value
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

local function json_number(value)
  if value == math.floor(value) then return string.format("%d", value) end
  return string.format("%.3f", value)
end

function done(summary, latency)
  local status_parts, slices = {}, {}
  local merged = {}
  local counted = false
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses") or {}
    for status, count in pairs(seen) do
      counted = true
      merged[status] = (merged[status] or 0) + count
    end
    table.insert(slices, string.format('{"first":%d,"taken":%d,"exhausted":%s}', thread:get("slice_first") or 0, thread:get("taken") or 0, tostring(thread:get("exhausted") == true)))
  end
  for status, count in pairs(merged) do
    table.insert(status_parts, string.format('"%d":%d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'wrk-result {"duration_us":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},"statuses":%s,"latency_us":{"p50":%s,"p99":%s,"max":%s},"slices":[%s]}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    counted and ("{" .. table.concat(status_parts, ",") .. "}") or "null",
    json_number(latency:percentile(50)), json_number(latency:percentile(99)), json_number(latency.max),
    table.concat(slices, ",")))
end
