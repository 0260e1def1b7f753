-- expect: attempt to call a nil value \(field 'portstats'\)
-- pktgen's function is portStats.
local s = pktgen.portstats("0", "port")
