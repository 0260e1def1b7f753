-- rfc2544.lua: RFC 2544 throughput, the highest rate with zero loss, by
-- binary search over the rate (percent of line rate) with the allowed
-- sweep of npgw_flows.lua. Trials of NPGW_PKTGEN_SECS seconds (RFC 2544
-- asks 60), search until the bounds are NPGW_PKTGEN_RES percent apart.
-- Zero loss means received == sent; npgw must also show no drop other
-- than policy ones (`npgwctl stats -o json`: drops.tx-full stays 0).
local C = dofile((os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen") .. "/npgw_common.lua")
local secs = tonumber(os.getenv("NPGW_PKTGEN_SECS") or "60")
local res = tonumber(os.getenv("NPGW_PKTGEN_RES") or "0.5")
local size = tonumber(os.getenv("NPGW_PKTGEN_SIZE") or "64")

C.setup(C.flows.allowed, size)
local lo, hi, best = 0.0, 100.0, 0.0
local tx, rx = C.trial(hi, secs)
if tx > 0 and rx == tx then
  best = hi
else
  while hi - lo > res do
    local mid = (lo + hi) / 2
    tx, rx = C.trial(mid, secs)
    printf("trial %7.3f%%: sent %d, received %d, lost %d\n", mid, tx, rx, tx - rx)
    if tx > 0 and rx == tx then
      lo, best = mid, mid
    else
      hi = mid
    end
  end
end
printf("RFC 2544 throughput, %d-byte frames: %.3f%% of line rate with zero loss\n", size, best)
