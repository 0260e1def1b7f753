-- expect: set, wrong number of arguments
-- pktgen.set takes a port list, what and a value.
pktgen.set("0", "rate")
