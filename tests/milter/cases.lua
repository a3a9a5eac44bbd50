-- cases.lua — one outbound message per step and action of the milter.
-- milter.t checks the log line (and the exact reply text of RCPT-time
-- refusals, which miltertest cannot see) by queue ID.
dofile(dir .. "/lib.lua")

local trace163 = sp .. "account=boss@163.com; host=smtp.163.com; spf=pass; " ..
    "dkim=pass (d=163.com); dmarc=pass (p=none)"

run("routed: own 163 account, aligned, trace header added", function()
	local conn, stage, r = send{ auth = "boss", qid = "ROUTED",
	    from = "<boss@163.com>", rcpts = { "<colleague@office.test>",
	    "<friend@example.net>" },
	    headers = { { "From", "Boss <boss@163.com>" },
	    { "Subject", "hi" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v == trace163, "trace header is " .. tostring(v))
	expect(not mt.eom_check(conn, MT_HDRCHANGE, "From"), "From changed")
	expect(not mt.eom_check(conn, MT_HDRADD, "Reply-To"), "Reply-To added")
	mt.disconnect(conn)
end)

run("routed: internal IPv6 client, no SASL", function()
	local conn, stage, r = send{ ip = "2001:db8:1::25", qid = "ROUTED6",
	    from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@163.com>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(added(conn, "X-Smarthost") == trace163, "trace header")
	mt.disconnect(conn)
end)

run("no route: refused at RCPT", function()
	local conn, stage, r = send{ qid = "NOROUTE",
	    from = "<stranger@elsewhere.test>" }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("unauthorized SASL user: refused at RCPT", function()
	local conn, stage, r = send{ auth = "carol", qid = "UNAUTH",
	    from = "<sales@company.test>" }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("authorized SASL user through an enterprise account", function()
	local conn, stage, r = send{ auth = "alice", qid = "AUTHOK",
	    from = "<sales@company.test>",
	    headers = { { "From", "Sales <sales@company.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	local v = added(conn, "X-Smarthost")
	expect(v == sp .. "account=ent-sales; host=smtp.exmail.qq.com; " ..
	    "spf=pass; dkim=none; dmarc=pass (p=reject)",
	    "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

-- The envelope is left to the relay (milter.t checks the log line);
-- office.test is in local-domains, so no Reply-To under reply-to = auto.
run("rewrite: From, no Reply-To for a local-domains sender", function()
	local conn, stage, r = send{ qid = "REWRITE",
	    from = "<scanner@office.test>",
	    headers = { { "From", "Office Scanner <scanner@office.test>" },
	    { "Subject", "scan" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(mt.eom_check(conn, MT_HDRCHANGE, "From",
	    sp .. "Office Scanner <alerts@163.com>"), "From not rewritten")
	expect(not mt.eom_check(conn, MT_HDRADD, "Reply-To"),
	    "Reply-To added for a local-domains sender: " ..
	    tostring(added(conn, "Reply-To")))
	local v = added(conn, "X-Smarthost")
	expect(v == sp .. "account=alerts@163.com; host=smtp.163.com; " ..
	    "rewritten; spf=pass; dkim=pass (d=163.com); dmarc=pass (p=none)",
	    "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

run("rewrite keeps an existing Reply-To", function()
	local conn, stage, r = send{ qid = "REWRITE2",
	    from = "<scanner@office.test>",
	    headers = { { "From", "\"Scanner, 3rd floor\" <scanner@office.test>" },
	    { "Reply-To", "helpdesk@office.test" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(mt.eom_check(conn, MT_HDRCHANGE, "From",
	    sp .. "\"Scanner, 3rd floor\" <alerts@163.com>"), "From not rewritten")
	expect(not mt.eom_check(conn, MT_HDRADD, "Reply-To"),
	    "a second Reply-To was added")
	mt.disconnect(conn)
end)

run("sender mismatch without rewrite: refused at RCPT", function()
	local conn, stage, r = send{ qid = "MISMATCH",
	    from = "<mismatch@office.test>" }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

local function bad_from(qid, headers, text)
	local conn, stage, r = send{ auth = "boss", qid = qid,
	    from = "<boss@163.com>", headers = headers }
	expect_stage(stage, r, "eom", SMFIR_REPLYCODE)
	expect(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.6.0", text),
	    "reply is not 550 5.6.0 " .. text)
	mt.disconnect(conn)
end

run("multiple From headers", function()
	bad_from("TWOFROM", { { "From", "boss@163.com" },
	    { "From", "other@163.com" } }, "message from boss@163.com has 2 " ..
	    "From: headers; RFC 5322 allows exactly one")
end)

run("missing From header", function()
	bad_from("NOFROM", { { "Subject", "no from" } }, "message from " ..
	    "boss@163.com has no From: header; add one (From: Name " ..
	    "<boss@163.com>)")
end)

run("From header with two addresses", function()
	bad_from("TWOADDR", { { "From", "boss@163.com, other@163.com" } },
	    "From: header of boss@163.com names 2 addresses; a provider " ..
	    "accepts exactly one")
end)

run("forged trace headers removed, ours added", function()
	local conn, stage, r = send{ auth = "boss", qid = "FORGED",
	    from = "<boss@163.com>",
	    headers = { { "X-Smarthost", "account=evil; dmarc=pass" },
	    { "From", "boss@163.com" },
	    { "x-smarthost", "second forgery" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(mt.eom_check(conn, MT_HDRDELETE, "X-Smarthost"),
	    "forged header not deleted")
	local v = added(conn, "X-Smarthost")
	expect(v == trace163, "trace header is " .. tostring(v))
	mt.disconnect(conn)
end)

run("DMARC: strict From domain through a consumer account", function()
	local conn, stage, r = send{ auth = "boss", qid = "DMARC",
	    from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@strictfrom.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_REPLYCODE)
	expect(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
	    "From domain strictfrom.test publishes DMARC p=reject (strict) " ..
	    "but neither SPF (pass for 163.com, not aligned) nor DKIM " ..
	    "(d=163.com, not aligned) aligns with it: recipients would " ..
	    "reject this message from strictfrom.test sent through " ..
	    "boss@163.com; send as boss@163.com or through an account of " ..
	    "strictfrom.test"), "DMARC reply")
	mt.disconnect(conn)
end)

run("DNS failure while checking DMARC: 451 4.4.3", function()
	local conn, stage, r = send{ auth = "boss", qid = "DNSFAIL",
	    from = "<boss@163.com>",
	    headers = { { "From", "Boss <boss@broken.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_REPLYCODE)
	expect(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.4.3",
	    "DNS lookup failed while checking DMARC for broken.test " ..
	    "(spf=pass, dkim=pass); try again later"), "DNS failure reply")
	mt.disconnect(conn)
end)

run("two messages on one connection: context reset at MAIL", function()
	local conn, stage, r = send{ qid = "FIRST", auth = "boss",
	    from = "<boss@163.com>", headers = { { "From", "boss@163.com" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	mt.macro(conn, SMFIC_MAIL, "i", "SECOND", "{auth_authen}", "boss")
	expect(mt.mailfrom(conn, "<boss@163.com>") == nil, "mailfrom")
	expect(mt.rcptto(conn, "<friend@example.net>") == nil, "rcptto")
	expect(mt.header(conn, "Subject", "no From this time") == nil, "hdr")
	expect(mt.eoh(conn) == nil, "eoh")
	expect(mt.eom(conn) == nil, "eom")
	expect(mt.getreply(conn) == SMFIR_REPLYCODE,
	    "second message without From was " .. replyname(mt.getreply(conn)))
	mt.disconnect(conn)
end)

finish()
