-- inbound.lua — mail that is not outbound passes untouched (milter.t
-- checks that no DNS query was made meanwhile).
dofile(dir .. "/lib.lua")

-- A message with no outbound recipient is let go at the body (headers
-- and end of headers need no reply).
local untouched_at = "body"

run("inbound: unauthenticated outside client, untouched", function()
	local conn, stage, r = send{ ip = "192.0.2.9", qid = "IN1",
	    from = "<someone@example.net>", rcpts = { "<boss@office.test>" },
	    headers = { { "From", "someone@example.net" } } }
	expect_stage(stage, r, untouched_at, SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run("inbound: IPv6 client outside internal-networks, untouched",
    function()
	local conn, stage, r = send{ ip = "2001:db8:2::1", qid = "IN4",
	    from = "<someone@example.net>", rcpts = { "<boss@office.test>" } }
	expect_stage(stage, r, untouched_at, SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run("inbound: SMTPUTF8 and a UTF-8 address to a local recipient, untouched",
    function()
	local conn, stage, r = send{ ip = "192.0.2.9", qid = "IN5",
	    from = "<张三@example.net>", mailargs = { "SMTPUTF8" },
	    rcpts = { "<李四@office.test>" } }
	expect_stage(stage, r, untouched_at, SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run("local: internal sender to local recipients only, untouched", function()
	local conn, stage, r = send{ auth = "boss", qid = "IN2",
	    from = "<boss@163.com>", rcpts = { "<colleague@office.test>",
	    "<ops@sub.office.test>" }, headers = {
	    { "From", "Boss <boss@163.com>" },
	    { "X-Smarthost", "forged but inbound" } } }
	expect_stage(stage, r, untouched_at, SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run("local: unknown sender to a local recipient is not judged", function()
	local conn, stage, r = send{ qid = "IN3",
	    from = "<stranger@elsewhere.test>",
	    rcpts = { "<colleague@office.test>" },
	    headers = { { "Subject", "x" } } }
	expect_stage(stage, r, untouched_at, SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

finish()
