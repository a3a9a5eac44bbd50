-- trust.lua — outbound is decided by the recipients, whatever the
-- client: a client neither SASL-authenticated nor in internal-networks
-- is refused each recipient outside local-domains at RCPT, and keeps
-- sending to local ones untouched.  milter.t checks the reply texts in
-- the log by queue ID.
dofile(dir .. "/lib.lua")

run("outside client, no SASL, outside recipient: refused at RCPT", function()
	local conn, stage, r = send{ ip = "192.0.2.7", qid = "UNTRUSTED",
	    from = "<stranger@elsewhere.test>",
	    rcpts = { "<friend@example.net>" } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("outside client, no SASL, a route that exists: still refused", function()
	local conn, stage, r = send{ ip = "192.0.2.7", qid = "UNTRUSTED2",
	    from = "<boss@163.com>", rcpts = { "<friend@example.net>" } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("outside client: outside recipient refused, local one untouched",
    function()
	local conn = mt.connect(sock, 40, 0.05)
	expect(conn ~= nil, "cannot connect")
	expect(mt.conninfo(conn, "client.test", "192.0.2.7") == nil, "conninfo")
	mt.macro(conn, SMFIC_MAIL, "i", "UNTRUSTED3")
	expect(mt.mailfrom(conn, "<stranger@elsewhere.test>") == nil, "mailfrom")
	expect(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL not continued")
	expect(mt.rcptto(conn, "<friend@example.net>") == nil, "rcptto")
	local r = mt.getreply(conn)
	expect(r == SMFIR_REPLYCODE, "outside recipient: " .. replyname(r))
	expect(mt.rcptto(conn, "<boss@office.test>") == nil, "rcptto")
	r = mt.getreply(conn)
	expect(r == SMFIR_CONTINUE, "local recipient: " .. replyname(r))
	expect(mt.header(conn, "From", "stranger@elsewhere.test") == nil,
	    "header")
	expect(mt.eoh(conn) == nil, "eoh")
	expect(mt.bodystring(conn, "Hello.\r\n") == nil, "body")
	r = mt.getreply(conn)
	expect(r == SMFIR_ACCEPT, "body: " .. replyname(r))
	mt.disconnect(conn)
end)

run("outside client with SASL: judged and routed", function()
	local conn, stage, r = send{ ip = "192.0.2.7", auth = "boss",
	    qid = "SASLOUT", from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@163.com>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v and v:find("account=boss@163.com;", 1, true),
	    "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

finish()
