-- wrk script for bench/serve.py: POST one JSON record to /v1/detect (or the
-- path in VG_BENCH_PATH). The body is read from the file in VG_BENCH_BODY;
-- non-2xx responses are counted and printed at the end, so a run with
-- errors cannot pass for a clean one.
local body_file = os.getenv("VG_BENCH_BODY")
local f = assert(io.open(body_file, "rb"), "VG_BENCH_BODY: cannot open " .. tostring(body_file))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = os.getenv("VG_BENCH_PATH") or "/v1/detect"
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
  end
  -- One machine-readable line for bench/serve.py.
  io.write(string.format(
    "VGBENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d " ..
    "connect_err=%d read_err=%d write_err=%d timeout_err=%d status_err=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, bad,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
end
