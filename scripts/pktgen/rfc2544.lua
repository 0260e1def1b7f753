-- rfc2544.lua: RFC 2544 throughput, the highest rate with zero loss, by
-- binary search over the rate (percent of line rate) with the allowed
-- sweep of npgw_flows.lua. Trials of NPGW_PKTGEN_SECS seconds (RFC 2544
-- asks 60), search until the bounds are NPGW_PKTGEN_RES percent apart.
-- Zero loss means received == sent (and something was sent). Every trial
-- is printed, the first one at 100% too. When no trial is loss-free the
-- result says so: no zero-loss rate was found down to the last rate tried.
-- npgw's side: `npgwctl stats -o json`, whose drops other than policy-*
-- must not grow (tx-full: the receiver of npgw's output did not drain it;
-- npgw falling behind shows as rx misses on its input port).
local C = dofile((os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen") .. "/npgw_common.lua")
local secs = C.env_number("NPGW_PKTGEN_SECS", 60)
local res = C.env_number("NPGW_PKTGEN_RES", 0.5)
local size = C.env_number("NPGW_PKTGEN_SIZE", 64)
if res <= 0 then
  error("NPGW_PKTGEN_RES: must be above 0, not " .. res)
end

local function run(rate)
  local tx, rx = C.trial(rate, secs)
  local ok = tx > 0 and rx == tx
  C.printf("trial %7.3f%%: sent %d, received %d, lost %d%s\n", rate, tx, rx, tx - rx,
           ok and "" or "  (loss)")
  return ok
end

C.printf("%s\n", C.describe())
C.setup(C.flows.allowed, size)
local lo, hi, best = 0.0, 100.0, nil
if run(hi) then
  best = hi
else
  while hi - lo > res do
    local mid = (lo + hi) / 2
    if run(mid) then
      lo, best = mid, mid
    else
      hi = mid
    end
  end
end
if best then
  C.printf("RFC 2544 throughput, %d-byte frames: %.3f%% of line rate with zero loss\n", size, best)
else
  C.printf("RFC 2544 throughput, %d-byte frames: no zero-loss rate found (every trial lost frames, down to %.3f%% of line rate)\n",
           size, hi)
end
C.done()
