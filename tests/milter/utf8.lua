-- utf8.lua — the provider accounts offer no SMTPUTF8: outbound mail with
-- a UTF-8 envelope address or the SMTPUTF8 parameter is refused at RCPT
-- (553 5.6.7, texts checked by milter.t in the log); RFC 2047 encoded
-- display names are plain ASCII and pass.
dofile(dir .. "/lib.lua")

run("UTF-8 sender with SMTPUTF8: refused at RCPT", function()
	local conn, stage, r = send{ qid = "U8SENDER", from = "<张三@lab.test>",
	    mailargs = { "SMTPUTF8" } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("ASCII sender, SMTPUTF8 parameter: refused at RCPT", function()
	local conn, stage, r = send{ qid = "U8PARAM", from = "<boss@163.com>",
	    mailargs = { "BODY=8BITMIME", "SMTPUTF8" } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("UTF-8 outside recipient: refused at RCPT", function()
	local conn, stage, r = send{ auth = "boss", qid = "U8RCPT",
	    from = "<boss@163.com>", rcpts = { "<李四@example.net>" } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)

run("RFC 2047 display name in From: accepted, kept", function()
	local conn, stage, r = send{ auth = "boss", qid = "U8DISPLAY",
	    from = "<boss@163.com>", mailargs = { "BODY=8BITMIME" },
	    headers = { { "From", "=?UTF-8?B?5byg5LiJ?= <boss@163.com>" },
	    { "Subject", "=?UTF-8?Q?=E4=BD=A0=E5=A5=BD?=" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(not mt.eom_check(conn, MT_HDRCHANGE, "From"), "From changed")
	expect(added(conn, "X-Smarthost") ~= nil, "no trace header")
	mt.disconnect(conn)
end)

run("RFC 2047 display name kept through the rewrite", function()
	local conn, stage, r = send{ qid = "U8REWRITE",
	    from = "<scanner@office.test>",
	    headers = { { "From", "=?UTF-8?B?5omr5o+P5Luq?= <scanner@office.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(mt.eom_check(conn, MT_HDRCHANGE, "From",
	    sp .. "=?UTF-8?B?5omr5o+P5Luq?= <alerts@163.com>"),
	    "From not rewritten with the encoded name")
	mt.disconnect(conn)
end)

finish()
