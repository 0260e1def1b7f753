-- expect: port 2 does not exist
-- The wiring has two ports, 0 and 1.
pktgen.stop("2")
