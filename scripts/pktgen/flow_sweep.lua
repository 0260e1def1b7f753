-- flow_sweep.lua: range-mode sweeps over the flows the policies allow and
-- the flows they deny (npgw_flows.lua, from gen_flows.py). Allowed flows
-- must come back whole, denied ones not at all; npgw's side of the story
-- is `npgwctl stats -o json` (drops.policy-ingress grows by what the
-- denied sweep sent).
local C = dofile((os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen") .. "/npgw_common.lua")
local rate = tonumber(os.getenv("NPGW_PKTGEN_RATE") or "10")
local secs = tonumber(os.getenv("NPGW_PKTGEN_SECS") or "10")

for _, name in ipairs({"allowed", "denied"}) do
  local sw = C.flows[name]
  C.setup(sw, 64)
  local tx, rx = C.trial(rate, secs)
  printf("%-8s %s -> %s port %d (%s): sent %d, received %d (%.2f%%)\n", name,
         sw.src_min .. "-" .. sw.src_max, sw.dst_min .. "-" .. sw.dst_max, sw.dport,
         sw.policy, tx, rx, tx > 0 and 100.0 * rx / tx or 0.0)
end
