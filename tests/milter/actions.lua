-- actions.lua — the same findings under other actions (milter.t reloads
-- with no-route = tempfail, dmarc = tag, from-header = accept).
dofile(dir .. "/lib.lua")

run("no-route = tempfail: 451 at RCPT", function()
	local conn, stage, r = send{ qid = "ACT-NOROUTE",
	    from = "<nobody@nowhere.test>" }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("dmarc = tag: accepted, the verdict in the trace header", function()
	local conn, stage, r = send{ auth = "boss", qid = "ACT-DMARC",
	    from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@strictfrom.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v == " account=boss@163.com; host=smtp.163.com; spf=pass; " ..
	    "dkim=pass (d=163.com); dmarc=fail (p=reject)",
	    "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

run("from-header = accept: no From, accepted unchecked", function()
	local conn, stage, r = send{ auth = "boss", qid = "ACT-NOFROM",
	    from = "<boss@163.com>", headers = { { "Subject", "x" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v == " account=boss@163.com; host=smtp.163.com; " ..
	    "alignment=not checked", "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

run("dmarc = tag: a DNS failure is tagged, not refused", function()
	local conn, stage, r = send{ auth = "boss", qid = "ACT-DNSFAIL",
	    from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@broken.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v == " account=boss@163.com; host=smtp.163.com; spf=pass; " ..
	    "dkim=pass (d=163.com); dmarc=temperror",
	    "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

finish()
