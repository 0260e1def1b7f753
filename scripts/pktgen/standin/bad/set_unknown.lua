-- expect: set does not support speed
-- pktgen.set knows count, size, rate, burst, ... but no speed.
pktgen.set("0", "speed", 10)
