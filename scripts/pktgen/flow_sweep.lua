-- flow_sweep.lua: range-mode sweeps over the flows the policies allow and
-- the flows they deny (npgw_flows.lua, from gen_flows.py). Allowed flows
-- must come back whole, denied ones not at all; npgw's side of the story
-- is `npgwctl stats -o json` (drops.policy-ingress grows by what the
-- denied sweep sent). In pcap mode one sweep: the capture (made with
-- --deny 0, every frame allowed).
local C = dofile((os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen") .. "/npgw_common.lua")
local rate = C.env_number("NPGW_PKTGEN_RATE", 10)
local secs = C.env_number("NPGW_PKTGEN_SECS", 10)
local size = C.env_number("NPGW_PKTGEN_SIZE", 64)

C.printf("%s\n", C.describe())
local sweeps = {"allowed", "denied"}
if C.mode == "pcap" then
  sweeps = {"capture"}
end
local bad = 0
for _, name in ipairs(sweeps) do
  local sw = C.flows[name] or C.flows.allowed
  C.setup(sw, size)
  local tx, rx = C.trial(rate, secs)
  local want = (name == "denied") and 0 or tx
  local verdict = (rx == want and tx > 0) and "ok" or "UNEXPECTED"
  if verdict ~= "ok" then
    bad = bad + 1
  end
  if name == "capture" then
    C.printf("%-8s port %s: sent %d, received %d (%.2f%%), expected %d: %s\n", name, C.TX,
             tx, rx, tx > 0 and 100.0 * rx / tx or 0.0, want, verdict)
  else
    C.printf("%-8s %s -> %s port %d (%s): sent %d, received %d (%.2f%%), expected %d: %s\n", name,
             sw.src_min .. "-" .. sw.src_max, sw.dst_min .. "-" .. sw.dst_max, sw.dport,
             sw.policy, tx, rx, tx > 0 and 100.0 * rx / tx or 0.0, want, verdict)
  end
end
C.printf("flow_sweep: %s\n", bad == 0 and "every sweep as expected" or (bad .. " sweep(s) not as expected"))
C.done()
