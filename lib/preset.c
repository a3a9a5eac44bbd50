/*
 * preset — the built-in provider presets (see preset.h).
 *
 * Every row is drawn from the provider table (providers.md) and names its
 * row in `source`.  Facts the table marks ⚠ (sources disagree) or ?
 * (no source) are left out or flagged in a port note, and said in
 * `uncertain`.  Limits are set only where the provider publishes them.
 *
 * IMAP (imap_host, imap_port: implicit TLS) is the table's IMAP / POP
 * column, for smarthost-return(8); imap_id marks the providers whose
 * IMAP server refuses SELECT until the client has sent ID (NetEase).
 *
 * max_connections is not a provider fact: it is smarthost's own
 * conservative bound on the pool of authenticated sessions per account
 * (2 for consumer mailboxes, 3 for enterprise services), chosen to stay
 * well below any provider's connection throttling.  An [account] block
 * may raise it.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "preset.h"

#define P25	"plain connect + STARTTLS; port 25 is often blocked by ISPs"
#define P994	"from NetEase's old port table, not re-checked"
#define NETEASE_553	"553 Mail from must equal authorized user"
#define TENCENT_501	"501 mail from address must be same as authorization user"
#define NETEASE_CODE	"授权码 required: web 设置→POP3/SMTP/IMAP → enable " \
	"IMAP/SMTP → SMS check → new client authorization code (客户端授权码)"
#define NETEASE_HINT(host)	host " wants the client authorization code " \
	"(授权码), not the web password; 535 means the code is wrong or was " \
	"revoked.  \"550 User has no permission\" means SMTP is not enabled " \
	"for the account or the web password was used"
#define NETEASE_RATE	"numeric sending quotas are not published (rate " \
	"refusals: 451 MI:SFQ, 451 RP:QRC, 550 RP:RCL, 554 MI:STC, 421 HL:ICC)"
#define QQ_CODE		"授权码 required: 设置→账户→POP3/IMAP/SMTP/Exchange/" \
	"CardDAV/CalDAV服务 → 开启 → 生成授权码 (SMS/密保); all codes die " \
	"when the QQ password changes"
#define QQ_HINT		"smtp.qq.com wants the 授权码, not the QQ password; " \
	"535 means the code is wrong, or it died because the QQ password " \
	"changed: generate a new one"
#define GOOGLE_AUTH	"LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH"
#define MS_SENDAS	"554 5.2.252 SendAsDenied; X not allowed to send as Y"
#define UNKNOWN_REST	"AUTH mechanisms, sender rule, SPF include and limits " \
	"are not recorded"

#define SSL(p)		{ (p), TLS_IMPLICIT, NULL }
#define STLS(p)		{ (p), TLS_STARTTLS, NULL }
#define NOTE(p, t, n)	{ (p), (t), (n) }

static const struct preset presets[] = {
{
	.name = "163.com", .title = "NetEase 163 Mail",
	.domains = { "163.com" }, .host = "smtp.163.com",
	.ports = { SSL(465), NOTE(994, TLS_IMPLICIT, P994),
	    NOTE(25, TLS_STARTTLS, P25) }, .nports = 3,
	.auth = "LOGIN PLAIN XOAUTH2", .default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = NETEASE_553,
	.dkim_domain = "163.com", .spf_include = "spf.163.com",
	.max_size = 73400320, .max_connections = 2,
	.code_howto = NETEASE_CODE,
	.auth_failure_hint = NETEASE_HINT("smtp.163.com"),
	.uncertain = "port 994 is from NetEase's old port table and not "
	    "re-checked; port 587 unconfirmed; " NETEASE_RATE "; the 553 "
	    "also answers MAIL FROM:<>; max_size is the SIZE the MX advertises",
	.imap_host = "imap.163.com", .imap_port = 993, .imap_id = 1,
	.source = "providers.md row '163.com' (Thunderbird autoconfig, "
	    "NetEase help and port table, user reports)",
},
{
	.name = "126.com", .title = "NetEase 126 Mail",
	.domains = { "126.com" }, .host = "smtp.126.com",
	.ports = { SSL(465), NOTE(994, TLS_IMPLICIT, P994),
	    NOTE(25, TLS_STARTTLS, P25) }, .nports = 3,
	.auth = "LOGIN PLAIN XOAUTH2", .default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = NETEASE_553,
	.dkim_domain = "126.com", .spf_include = "spf.163.com",
	.max_connections = 2,
	.code_howto = NETEASE_CODE,
	.auth_failure_hint = NETEASE_HINT("smtp.126.com"),
	.uncertain = "ports taken 'same as 163': 994 from NetEase's old "
	    "port table, not re-checked; " NETEASE_RATE "; size limit "
	    "not recorded",
	.imap_host = "imap.126.com", .imap_port = 993, .imap_id = 1,
	.source = "providers.md row '126.com' (same as 163.com: "
	    "Thunderbird autoconfig, NetEase help)",
},
{
	.name = "yeah.net", .title = "NetEase yeah.net Mail",
	.domains = { "yeah.net" }, .host = "smtp.yeah.net",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = NETEASE_553,
	.max_connections = 2,
	.code_howto = NETEASE_CODE,
	.auth_failure_hint = NETEASE_HINT("smtp.yeah.net"),
	.uncertain = "AUTH mechanisms not recorded (Coremail, probably like "
	    "163); SPF include, DKIM domain and DMARC not recorded",
	.imap_host = "imap.yeah.net", .imap_port = 993, .imap_id = 1,
	.source = "providers.md row 'yeah.net' (Thunderbird autoconfig; "
	    "credential and sender rule as 163.com)",
},
{
	.name = "vip.163.com", .title = "NetEase VIP Mail",
	.domains = { "vip.163.com" }, .host = "smtp.vip.163.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.max_connections = 2,
	.code_howto = "not confirmed: assumed a NetEase client authorization "
	    "code (授权码) made in the web settings as for 163.com",
	.auth_failure_hint = "535 at smtp.vip.163.com: probably the web "
	    "password was used instead of a client authorization code (授权码)",
	.uncertain = "credential assumed to be a NetEase 授权码; "
	    UNKNOWN_REST "; DKIM domain not recorded",
	.imap_host = "imap.vip.163.com", .imap_port = 993,
	.source = "providers.md row 'vip.163.com' (Thunderbird autoconfig)",
},
{
	.name = "qiye.163.com", .title = "NetEase Enterprise Mail (网易企业邮箱)",
	.host = "smtp.qiye.163.com",
	.ports = { SSL(465), NOTE(994, TLS_IMPLICIT,
	    "conflicting sources, not re-checked"),
	    NOTE(25, TLS_STARTTLS, P25) }, .nports = 3,
	.default_auth = "PLAIN",
	.sender_must_match = TRI_YES,
	.dkim_domain = "*", .spf_include = "spf.qiye.163.com",
	.max_connections = 3,
	.code_howto = "客户端授权密码: 设置→客户端设置 (a phone must be bound "
	    "to the account)",
	.auth_failure_hint = "535 or 460 ERR.LOGIN.PASSERR: the 客户端授权密码 "
	    "is wrong or missing; ERR.LOGIN.IPDENY: the admin's IP whitelist "
	    "does not include this office's address",
	.uncertain = "the sender must equal the login account, but the exact "
	    "refusal text is not recorded; AUTH mechanisms not recorded; port "
	    "994 conflicting; alternative hosts hwsmtp.qiye.163.com, "
	    "hwhzsmtp.qiye.163.com, smtphz.qiye.163.com; " NETEASE_RATE,
	.imap_host = "imap.qiye.163.com", .imap_port = 993,
	.source = "providers.md row 'qiye.163.com (NetEase enterprise)' "
	    "(NetEase enterprise help, Thunderbird autoconfig)",
},
{
	.name = "qq.com", .title = "QQ Mail",
	.domains = { "qq.com" }, .host = "smtp.qq.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = "LOGIN PLAIN XOAUTH XOAUTH2", .default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = TENCENT_501,
	.dkim_domain = "qq.com", .spf_include = "spf.mail.qq.com",
	.max_size = 73400320, .max_connections = 2,
	.code_howto = QQ_CODE, .auth_failure_hint = QQ_HINT,
	.uncertain = "daily cap unpublished (\"500/day\" only in third-party "
	    "pages); the 501 also answers a MAIL FROM carrying \"Name <addr>\"; "
	    "DMARC p=quarantine in 2024-25 receiver headers vs p=none in an "
	    "older lookup",
	.imap_host = "imap.qq.com", .imap_port = 993,
	.source = "providers.md row 'qq.com' (Thunderbird autoconfig, QQ Mail "
	    "help, user reports)",
},
{
	.name = "foxmail.com", .title = "Foxmail (QQ Mail)",
	.domains = { "foxmail.com" }, .host = "smtp.qq.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = "LOGIN PLAIN XOAUTH XOAUTH2", .default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = TENCENT_501,
	.dkim_domain = "foxmail.com",
	.max_size = 73400320, .max_connections = 2,
	.code_howto = "QQ 授权码: " QQ_CODE, .auth_failure_hint = QQ_HINT,
	.uncertain = "host smtp.foxmail.com also seen (conflicting); "
	    "sender rule, limits and size taken 'as qq.com'; SPF include "
	    "not recorded",
	.imap_host = "imap.qq.com", .imap_port = 993,
	.source = "providers.md row 'foxmail.com' (QQ Mail backend; "
	    "Thunderbird autoconfig)",
},
{
	.name = "exmail.qq.com", .title = "Tencent Exmail (腾讯企业邮箱)",
	.host = "smtp.exmail.qq.com",
	.ports = { SSL(465), NOTE(587, TLS_STARTTLS,
	    "third-party sources only; 465 is the only confirmed port") },
	.nports = 2,
	.default_auth = "PLAIN",
	.sender_must_match = TRI_YES, .sender_refusal = TENCENT_501,
	.dkim_domain = "*", .spf_include = "spf.mail.qq.com",
	.max_connections = 3,
	.code_howto = "the admin enables the IMAP/SMTP scope (WeCom console); "
	    "the user enables IMAP/SMTP and 安全登录, then makes a 客户端专用密码",
	.auth_failure_hint = "535 at smtp.exmail.qq.com: the 客户端专用密码 is "
	    "wrong or revoked, or IMAP/SMTP is not enabled by the admin or the "
	    "user; there is no non-SSL login",
	.uncertain = "AUTH mechanisms not recorded; port 587 only in "
	    "third-party pages; external-recipient quota is shared by the "
	    "whole domain and dynamic; overseas host hwsmtp.exmail.qq.com",
	.imap_host = "imap.exmail.qq.com", .imap_port = 993,
	.source = "providers.md row 'exmail.qq.com (Tencent Exmail)' "
	    "(Tencent Exmail help, Thunderbird autoconfig)",
},
{
	.name = "aliyun.com", .title = "Aliyun Mail (personal)",
	.domains = { "aliyun.com" }, .host = "smtp.aliyun.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "aliyun.com", .max_connections = 2,
	.code_howto = "the account password, or the optional 第三方客户端安全密码 "
	    "if one is set",
	.auth_failure_hint = "535 at smtp.aliyun.com: wrong password, or a "
	    "第三方客户端安全密码 is set and must be used instead",
	.uncertain = UNKNOWN_REST "; DMARC p=reject in newer headers vs "
	    "p=quarantine pct=5 in an older record",
	.imap_host = "imap.aliyun.com", .imap_port = 993,
	.source = "providers.md row 'aliyun.com (personal)' (Thunderbird "
	    "autoconfig, Aliyun help)",
},
{
	.name = "qiye.aliyun.com", .title = "Alibaba Mail (阿里企业邮箱)",
	.host = "smtp.qiye.aliyun.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.spf_include = "spf.qiye.aliyun.com", .max_connections = 3,
	.code_howto = "new tenants have third-party clients off: the admin "
	    "enables POP3/IMAP/SMTP per account; a security password may be "
	    "optional or enforced",
	.auth_failure_hint = "535 at smtp.qiye.aliyun.com: SMTP not enabled "
	    "for the account by the admin, or the security password is "
	    "required instead of the login password",
	.uncertain = "AUTH mechanisms, sender rule, DKIM domain and limits "
	    "not recorded; 587 reported not open (conflicting); host may be "
	    "smtp.<your-domain> (CNAME) or legacy smtp.mxhichina.com; older "
	    "SPF include spf.mxhichina.com",
	.imap_host = "imap.qiye.aliyun.com", .imap_port = 993,
	.source = "providers.md row 'qiye.aliyun.com (Alibaba Mail)' "
	    "(Alibaba Mail help, Thunderbird autoconfig)",
},
{
	.name = "sina.com", .title = "Sina Mail",
	.domains = { "sina.com" }, .host = "smtp.sina.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "sina.com", .max_connections = 2,
	.code_howto = "授权码: 设置→客户端POP/IMAP/SMTP (third-party sources "
	    "only)",
	.auth_failure_hint = "535 at smtp.sina.com: probably the web password "
	    "was used instead of a 授权码, or client access is not enabled",
	.uncertain = "credential steps from third-party pages only; "
	    UNKNOWN_REST "; mail is not always DKIM-signed d=sina.com; VIP "
	    "accounts use smtp.vip.sina.com",
	.imap_host = "imap.sina.com", .imap_port = 993,
	.source = "providers.md row 'sina.com / sina.cn' (Thunderbird "
	    "autoconfig, third-party guides)",
},
{
	.name = "sina.cn", .title = "Sina Mail (sina.cn)",
	.domains = { "sina.cn" }, .host = "smtp.sina.cn",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.max_connections = 2,
	.code_howto = "授权码: 设置→客户端POP/IMAP/SMTP (third-party sources "
	    "only)",
	.auth_failure_hint = "535 at smtp.sina.cn: probably the web password "
	    "was used instead of a 授权码, or client access is not enabled",
	.uncertain = "credential steps from third-party pages only; "
	    UNKNOWN_REST "; DKIM seen only as d=sina.com, not recorded for "
	    "sina.cn",
	.source = "providers.md row 'sina.com / sina.cn' (Thunderbird "
	    "autoconfig, third-party guides)",
},
{
	.name = "sohu.com", .title = "Sohu Mail",
	.domains = { "sohu.com" }, .host = "smtp.sohu.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.max_connections = 2,
	.code_howto = "not confirmed: a 授权码 or 独立密码 from the web settings",
	.auth_failure_hint = "535 at smtp.sohu.com: probably the web password "
	    "was used instead of a 授权码/独立密码",
	.uncertain = "credential not confirmed; " UNKNOWN_REST "; DKIM "
	    "domain and DMARC not recorded",
	.imap_host = "imap.sohu.com", .imap_port = 993,
	.source = "providers.md row 'sohu.com' (Thunderbird autoconfig)",
},
{
	.name = "139.com", .title = "China Mobile 139 Mail",
	.domains = { "139.com" }, .host = "smtp.139.com",
	.ports = { SSL(465), NOTE(25, TLS_STARTTLS, P25) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "139.com", .max_connections = 2,
	.code_howto = "not confirmed: a 授权码 from the web settings",
	.auth_failure_hint = "535 at smtp.139.com: probably the web password "
	    "was used instead of a 授权码",
	.uncertain = "credential not confirmed; " UNKNOWN_REST,
	.imap_host = "imap.139.com", .imap_port = 993,
	.source = "providers.md row '139.com' (Thunderbird autoconfig)",
},
{
	.name = "189.cn", .title = "China Telecom 189 Mail",
	.domains = { "189.cn" }, .host = "smtp.189.cn",
	.ports = { SSL(465), NOTE(587, TLS_STARTTLS, "from a preset citing "
	    "help.189.cn; TLS mode not confirmed") }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.max_connections = 2,
	.code_howto = "客户端专用密码 from the 189 Mail web settings",
	.auth_failure_hint = "535 at smtp.189.cn: the 客户端专用密码 is wrong "
	    "or the web password was used",
	.uncertain = UNKNOWN_REST "; no DKIM signature seen; port 587 and "
	    "its TLS mode only from a preset citing help.189.cn",
	.imap_host = "imap.189.cn", .imap_port = 993,
	.source = "providers.md row '189.cn' (Thunderbird autoconfig, a "
	    "preset citing help.189.cn)",
},
{
	.name = "gmail.com", .title = "Gmail",
	.domains = { "gmail.com", "googlemail.com" }, .host = "smtp.gmail.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = GOOGLE_AUTH, .default_auth = "PLAIN",
	.sender_must_match = TRI_NO, .rewrites_from = 1,
	.dkim_domain = "gmail.com", .spf_include = "_spf.google.com",
	.max_rcpt_per_msg = 100, .daily_rcpts = 500,
	.max_size = 35882577, .max_connections = 2,
	.code_howto = "app password (16 characters; needs 2-Step "
	    "Verification) or OAuth2; plain account passwords are refused",
	.auth_failure_hint = "535 at smtp.gmail.com: the account password was "
	    "used (refused) or the app password was revoked; make a 16-character "
	    "app password (needs 2-Step Verification) or use OAuth2",
	.oauth = "google",
	.uncertain = "~500 recipients/day is approximate; Gmail rewrites From "
	    "to the login unless it is a verified \"Send mail as\" alias; "
	    "\"550 5.4.5 Daily sending quota exceeded\" when the cap is hit; "
	    "googlemail.com is not in the table row (same accounts)",
	.imap_host = "imap.gmail.com", .imap_port = 993,
	.source = "providers.md row 'gmail.com' (Thunderbird autoconfig, "
	    "nodemailer services, Google help)",
},
{
	.name = "google-workspace", .title = "Google Workspace",
	.host = "smtp.gmail.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = GOOGLE_AUTH, .default_auth = "PLAIN",
	.sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "*", .spf_include = "_spf.google.com",
	.max_rcpt_per_msg = 100, .daily_msgs = 2000, .daily_rcpts = 10000,
	.max_connections = 3,
	.code_howto = "OAuth2, or an app password if the admin allows 2-Step "
	    "Verification and app passwords; basic \"less secure apps\" "
	    "sign-in is off since autumn 2024",
	.auth_failure_hint = "535 at smtp.gmail.com (Workspace): the admin does "
	    "not allow app passwords, the app password was revoked, or a plain "
	    "password was used; use OAuth2",
	.oauth = "google",
	.uncertain = "sender rule not recorded (probably rewrites From like "
	    "Gmail); the relay smtp-relay.gmail.com needs admin configuration "
	    "and is not this preset",
	.imap_host = "imap.gmail.com", .imap_port = 993,
	.source = "providers.md row 'Google Workspace' (Google Workspace "
	    "help: sending limits)",
},
{
	.name = "outlook.com", .title = "Outlook.com / Hotmail / Live",
	.domains = { "outlook.com", "hotmail.com", "live.com" },
	.host = "smtp-mail.outlook.com",
	.ports = { STLS(587) }, .nports = 1,
	.auth = "LOGIN XOAUTH2", .default_auth = "XOAUTH2",
	.sender_must_match = TRI_YES, .sender_refusal = MS_SENDAS,
	.dkim_domain = "outlook.com", .max_connections = 2,
	.code_howto = "OAuth2 only: basic auth and app passwords are gone "
	    "since 16 Sep 2024; authorize the account with a Microsoft OAuth2 "
	    "token",
	.auth_failure_hint = "535 at smtp-mail.outlook.com: outlook.com no "
	    "longer accepts passwords or app passwords (since Sep 2024); use "
	    "XOAUTH2, and refresh the token if it was revoked",
	.oauth = "microsoft",
	.uncertain = "basic auth gone since Sep 2024 (OAuth2 only); 300 "
	    "recipients/day and 100/msg for free accounts are third-party "
	    "figures, conflicting; 25 MB attachment limit (no SIZE recorded); "
	    "hotmail.com mail is signed d=hotmail.com; SPF include not "
	    "recorded; outlook.com DMARC p=none vs quarantine",
	.imap_host = "outlook.office365.com", .imap_port = 993,
	.source = "providers.md row 'outlook.com / hotmail.com / live.com' "
	    "(Microsoft support, Thunderbird autoconfig, third-party figures)",
},
{
	.name = "office365", .title = "Microsoft 365 / Exchange Online",
	.host = "smtp.office365.com",
	.ports = { STLS(587) }, .nports = 1,
	.auth = "LOGIN XOAUTH2", .default_auth = "XOAUTH2",
	.sender_must_match = TRI_YES,
	.sender_refusal = "5.2.0/5.2.252 SendAsDenied",
	.dkim_domain = "*",
	.max_rcpt_per_msg = 500, .daily_rcpts = 10000,
	.max_size = 157286400, .max_connections = 3,
	.code_howto = "OAuth2 (XOAUTH2) with a Microsoft Entra app; SMTP AUTH "
	    "must be enabled per mailbox by the admin",
	.auth_failure_hint = "535 at smtp.office365.com: SMTP AUTH is not "
	    "enabled for the mailbox, or the token or password is wrong; basic "
	    "auth ends end-Dec 2026",
	.oauth = "microsoft",
	.uncertain = "basic auth on SMTP AUTH still works until end-Dec 2026, "
	    "then OAuth2 only; 30 msgs/min rate not modelled; also "
	    "smtp-legacy.office365.com; SPF include not recorded",
	.imap_host = "outlook.office365.com", .imap_port = 993,
	.source = "providers.md row 'Microsoft 365 / Exchange Online' "
	    "(Microsoft Learn: Exchange Online limits, SMTP AUTH notes)",
},
{
	.name = "yahoo.com", .title = "Yahoo Mail",
	.domains = { "yahoo.com" }, .host = "smtp.mail.yahoo.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = "PLAIN LOGIN XOAUTH2 OAUTHBEARER", .default_auth = "PLAIN",
	.sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "yahoo.com",
	.max_rcpt_per_msg = 100, .daily_msgs = 500,
	.max_size = 41697280, .max_connections = 2,
	.code_howto = "app password: Account Security → Generate app password "
	    "(or OAuth2)",
	.auth_failure_hint = "535 at smtp.mail.yahoo.com: the account password "
	    "was used or the app password was revoked; generate a new app "
	    "password",
	.uncertain = "500/day and 100 recipients/msg are from the Yahoo "
	    "Business Mail page, consumer limits unpublished; sender rule and "
	    "SPF include not recorded",
	.imap_host = "imap.mail.yahoo.com", .imap_port = 993,
	.source = "providers.md row 'yahoo.com' (Yahoo help, Yahoo Business "
	    "Mail page, Thunderbird autoconfig)",
},
{
	.name = "icloud.com", .title = "iCloud Mail",
	.domains = { "icloud.com", "me.com", "mac.com" },
	.host = "smtp.mail.me.com",
	.ports = { STLS(587), NOTE(465, TLS_IMPLICIT,
	    "third-party sources only") }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "icloud.com",
	.max_rcpt_per_msg = 500, .daily_msgs = 1000, .daily_rcpts = 1000,
	.max_connections = 2,
	.code_howto = "app-specific password (needs two-factor "
	    "authentication; appleid.apple.com)",
	.auth_failure_hint = "535 at smtp.mail.me.com: the Apple ID password "
	    "was used or the app-specific password was revoked; make one at "
	    "appleid.apple.com",
	.uncertain = "an older Apple page says 200 msgs/day, 1,000 "
	    "recipients/day, 100 recipients/msg; 20 MB message limit (no SIZE "
	    "recorded); port 465 third-party only; AUTH mechanisms, sender "
	    "rule and SPF include not recorded",
	.imap_host = "imap.mail.me.com", .imap_port = 993,
	.source = "providers.md row 'icloud.com / me.com / mac.com' (Apple "
	    "support: iCloud Mail limits and server settings)",
},
{
	.name = "zoho.com", .title = "Zoho Mail",
	.domains = { "zoho.com" }, .host = "smtp.zoho.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.default_auth = "LOGIN",
	.sender_must_match = TRI_YES,
	.dkim_domain = "zoho.com", .max_connections = 2,
	.code_howto = "the account password, or an app-specific password if "
	    "two-factor authentication is on",
	.auth_failure_hint = "535 at smtp.zoho.com: wrong password, or 2FA is "
	    "on and an app-specific password is needed",
	.uncertain = "AUTH LOGIN only from the nodemailer preset (default_auth "
	    "LOGIN for that reason); From must be the account address or one "
	    "of its aliases, exact refusal text not recorded; paid orgs use "
	    "smtppro.zoho.com, regional hosts .eu .in .com.au .jp",
	.imap_host = "imap.zoho.com", .imap_port = 993,
	.source = "providers.md row 'zoho.com' (Zoho help, nodemailer "
	    "services)",
},
{
	.name = "yandex.ru", .title = "Yandex Mail (yandex.ru)",
	.domains = { "yandex.ru" }, .host = "smtp.yandex.ru",
	.ports = { SSL(465), NOTE(587, TLS_STARTTLS, "not confirmed") },
	.nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "yandex.ru", .max_connections = 2,
	.code_howto = "app password (mandatory with 2FA): Account → Passwords "
	    "and authorization; or OAuth with scope mail:smtp",
	.auth_failure_hint = "535 at smtp.yandex.ru: the account password was "
	    "used where an app password is required",
	.uncertain = "587 STARTTLS not confirmed; " UNKNOWN_REST,
	.imap_host = "imap.yandex.com", .imap_port = 993,
	.source = "providers.md row 'yandex.ru / yandex.com' (Yandex help, "
	    "Thunderbird autoconfig)",
},
{
	.name = "yandex.com", .title = "Yandex Mail (yandex.com)",
	.domains = { "yandex.com" }, .host = "smtp.yandex.com",
	.ports = { SSL(465), NOTE(587, TLS_STARTTLS, "not confirmed") },
	.nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "yandex.ru", .max_connections = 2,
	.code_howto = "app password (mandatory with 2FA): Account → Passwords "
	    "and authorization; or OAuth with scope mail:smtp",
	.auth_failure_hint = "535 at smtp.yandex.com: the account password was "
	    "used where an app password is required",
	.uncertain = "587 STARTTLS not confirmed; " UNKNOWN_REST "; the "
	    "table records DKIM d=yandex.ru for both domains",
	.imap_host = "imap.yandex.com", .imap_port = 993,
	.source = "providers.md row 'yandex.ru / yandex.com' (Yandex help, "
	    "Thunderbird autoconfig)",
},
{
	.name = "fastmail.com", .title = "Fastmail",
	.domains = { "fastmail.com" }, .host = "smtp.fastmail.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.auth = "PLAIN", .default_auth = "PLAIN",
	.sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "fastmail.com", .max_connections = 2,
	.code_howto = "app password, mandatory: Settings → Privacy & Security",
	.auth_failure_hint = "535 at smtp.fastmail.com: the account password "
	    "was used; Fastmail requires an app password",
	.uncertain = "OAuth2 also offered per ISPDB; sender rule, limits and "
	    "SPF include not recorded",
	.imap_host = "imap.fastmail.com", .imap_port = 993,
	.source = "providers.md row 'fastmail.com' (Fastmail help, "
	    "Thunderbird ISPDB)",
},
{
	.name = "gmx.net", .title = "GMX (gmx.net/.de/.at/.ch)",
	.domains = { "gmx.net", "gmx.de", "gmx.at", "gmx.ch" },
	.host = "mail.gmx.net",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.dkim_domain = "gmx.de", .max_connections = 2,
	.code_howto = "enable \"POP3 & IMAP access\" once in the web "
	    "settings; an app-specific password if 2FA is on",
	.auth_failure_hint = "535 at mail.gmx.net: POP3 & IMAP access is not "
	    "enabled in the web settings, or 2FA is on and an app-specific "
	    "password is needed",
	.uncertain = UNKNOWN_REST,
	.imap_host = "imap.gmx.net", .imap_port = 993,
	.source = "providers.md row 'gmx.net/.de/.at/.ch' (GMX help, "
	    "Thunderbird autoconfig)",
},
{
	.name = "gmx.com", .title = "GMX (international)",
	.domains = { "gmx.com" }, .host = "mail.gmx.com",
	.ports = { SSL(465), STLS(587) }, .nports = 2,
	.default_auth = "PLAIN", .sender_must_match = TRI_UNKNOWN,
	.max_connections = 2,
	.code_howto = "as gmx.net: enable \"POP3 & IMAP access\" once in the "
	    "web settings; an app-specific password if 2FA is on",
	.auth_failure_hint = "535 at mail.gmx.com: POP3 & IMAP access is not "
	    "enabled in the web settings, or 2FA is on and an app-specific "
	    "password is needed",
	.uncertain = UNKNOWN_REST "; DKIM domain and DMARC not recorded",
	.imap_host = "imap.gmx.com", .imap_port = 993,
	.source = "providers.md row 'gmx.com (intl.)' (GMX help, "
	    "Thunderbird autoconfig)",
},
};

#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

const struct preset *
preset_all(size_t *n)
{
	*n = NPRESETS;
	return presets;
}

const struct preset *
preset_by_name(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NPRESETS; i++)
		if (strcasecmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const struct preset *
preset_by_domain(const char *domain)
{
	if (domain == NULL || *domain == '\0')
		return NULL;
	for (size_t i = 0; i < NPRESETS; i++)
		for (size_t j = 0; j < PRESET_MAX_DOMAINS &&
		    presets[i].domains[j]; j++)
			if (strcmp(presets[i].domains[j], domain) == 0)
				return &presets[i];
	return NULL;
}

const char *
tls_mode_name(enum tls_mode m)
{
	switch (m) {
	case TLS_IMPLICIT:
		return "implicit";
	case TLS_STARTTLS:
		return "starttls";
	}
	return "unknown";
}
