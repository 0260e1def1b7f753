-- rate_sweep.lua: the allowed sweep of npgw_flows.lua at 10%, 20% ... 100%
-- of line rate; loss at each rate (64-byte frames unless NPGW_PKTGEN_SIZE).
local C = dofile((os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen") .. "/npgw_common.lua")
local secs = C.env_number("NPGW_PKTGEN_SECS", 10)
local size = C.env_number("NPGW_PKTGEN_SIZE", 64)

C.printf("%s\n", C.describe())
C.setup(C.flows.allowed, size)
C.printf("%6s %14s %14s %10s\n", "rate%", "sent", "received", "loss%")
for rate = 10, 100, 10 do
  local tx, rx = C.trial(rate, secs)
  C.printf("%6d %14d %14d %10.4f\n", rate, tx, rx, tx > 0 and 100.0 * (tx - rx) / tx or 0.0)
end
C.done()
