# smarthost — top-level build.  No autotools: GNU make, pkg-config, cc.
#
#   make                 build the four programs into $(B)/
#   make check           install missing dependencies (as root), build, run
#                        every test; SANITIZE=1 builds with ASan + UBSan
#   make fuzz            run each libFuzzer target for FUZZ_SECONDS (longer)
#   make install         PREFIX, DESTDIR, SYSCONFDIR as usual
#   make fresh-check     the README's commands and the package on a freshly
#                        bootstrapped Debian 12 (tests/fresh/; slow)
#   make deb             the Debian package, in build/deb/
#
# Sources are picked up by wildcard: lib/*.c form libsmarthost.a, milter/*.c
# relay/*.c ctl/*.c return/*.c one program each, tests/unit/test_*.c one
# cmocka binary each, tests/fuzz/fuzz_*.c one libFuzzer binary each.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR    ?=

CC      ?= cc
FUZZCC  ?= clang
PKGS     = milter opendkim openssl libpsl inih libidn2 libcurl jansson zlib sqlite3 hiredis
OPT     ?= -O2 -g

ifeq ($(SANITIZE),1)
B        = build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B        = build
SANFLAGS =
endif

WARN     = -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif

# Evaluated when make starts: the targets that install the dependencies
# first (demo, check, bench) build in a sub-make, which reads them anew.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += -D_GNU_SOURCE -Ilib -DSYSCONFDIR='"$(SYSCONFDIR)"'
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(PKG_CFLAGS)
# --as-needed: a program loads only the libraries it uses (the milter
# never loads libcurl, which only the OAuth2 refresh needs).
LDFLAGS  += $(SANFLAGS) -Wl,--as-needed
LDLIBS   += $(PKG_LIBS) -lspf2 -lopendmarc -lpthread

LIB_SRC    := $(wildcard lib/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
MILTER_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard milter/*.c))
RELAY_OBJ  := $(patsubst %.c,$(B)/%.o,$(wildcard relay/*.c))
CTL_OBJ    := $(patsubst %.c,$(B)/%.o,$(wildcard ctl/*.c))
RETURN_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard return/*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
PROGS      := $(if $(MILTER_OBJ),$(B)/smarthost-milter) \
              $(if $(RELAY_OBJ),$(B)/smarthost-relay) \
              $(if $(CTL_OBJ),$(B)/smarthostctl) \
              $(if $(RETURN_OBJ),$(B)/smarthost-return)
MANPAGES   := $(wildcard man/*.[58])

FUZZ_SECONDS ?= 600
CHECK_FUZZ_SECONDS ?= 20

.PHONY: print-ldlibs all all-tests check deps fuzz fuzz-build install clean demo bench \
        pkg-check fresh-check deb fresh-package
.DELETE_ON_ERROR:

all: $(PROGS)

# Before the first compilation: stop naming the Debian package of a library
# pkg-config does not know, instead of failing later at compile or link.
pkg-check:
	@command -v pkg-config >/dev/null || \
	    { echo "pkg-config not found: install pkg-config (contrib/install-deps does)" >&2; exit 1; }
	@contrib/install-deps --pkg-config-check $(PKGS)

$(B)/%.o: %.c $(wildcard lib/*.h milter/*.h relay/*.h ctl/*.h return/*.h) | pkg-check
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libsmarthost.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/smarthost-milter: $(MILTER_OBJ) $(B)/libsmarthost.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/smarthost-relay: $(RELAY_OBJ) $(B)/libsmarthost.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/smarthostctl: $(CTL_OBJ) $(B)/libsmarthost.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/smarthost-return: $(RETURN_OBJ) $(B)/libsmarthost.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libsmarthost.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libsmarthost.a \
	    $(shell pkg-config --cflags --libs cmocka) $(LDLIBS)

# The relay's pool (its session code is in the lib), linked without its
# server side: unit tests tests/unit/test_relay_*.c and the driver of
# tests/relay/upstream-*.t.
UPSTREAM_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard relay/pool*.c))
$(B)/tests/test_relay_%: tests/unit/test_relay_%.c $(UPSTREAM_OBJ) $(B)/libsmarthost.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Irelay $(CFLAGS) $(LDFLAGS) -o $@ $< $(UPSTREAM_OBJ) \
	    $(B)/libsmarthost.a $(shell pkg-config --cflags --libs cmocka) $(LDLIBS)
$(B)/tests/upstream-drive: tests/relay/upstream-drive.c $(UPSTREAM_OBJ) $(B)/libsmarthost.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Irelay $(CFLAGS) $(LDFLAGS) -o $@ $< $(UPSTREAM_OBJ) \
	    $(B)/libsmarthost.a $(LDLIBS)

# The no-op milter of `make bench` (the floor under smarthost-milter's cost).
$(B)/tests/noop-milter: tests/bench/noop-milter.c | pkg-check
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# libFuzzer targets: clang, ASan + UBSan, always their own build tree.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
             -DSYSCONFDIR='"$(SYSCONFDIR)"' $(PKG_CFLAGS)
# The SMTP client session (lib/upstream*.c) is left out: fuzz_server
# stands in for it.
FUZZ_LIB_SRC = $(filter-out lib/upstream%.c,$(LIB_SRC))
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h relay/*.c relay/*.h) | pkg-check
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(PKG_LIBS) -lspf2 -lopendmarc -lpthread

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	tests/harness/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

deps:
	contrib/install-deps

# The whole suite.  Every test is one command run by tests/harness/run-tests,
# which prints one line per test and a closing "N passed, N failed" line.
check: deps
	$(MAKE) all-tests
	B=$(B) tests/harness/run-tests $(B) $(CHECK_FUZZ_SECONDS)

all-tests: $(PROGS) $(UNIT_BIN) $(B)/tests/upstream-drive $(if $(SANITIZE),,$(FUZZ_BIN))

demo: deps
	$(MAKE) all
	B=$(B) contrib/demo

# The link flags every program uses, for scripts that build a helper
# against libsmarthost.a (tests/bench).
print-ldlibs:
	@echo $(LDLIBS)

bench: deps
	$(MAKE) all $(B)/tests/noop-milter
	B=$(B) tests/bench/run

# The README's commands, then the package (tests/fresh/package.sh), each on
# a freshly bootstrapped Debian 12 (mmdebstrap, chroot, private mount
# namespace): slow, needs the network for apt.  One bootstrap, as a tar
# both extract, made anew each time.
FRESH_TAR = build/fresh/bookworm-minbase.tar
fresh-check:
	contrib/install-deb-deps
	rm -f $(FRESH_TAR)
	FRESH_TARBALL=$(CURDIR)/$(FRESH_TAR) tests/fresh/readme-bare.sh; a=$$?; \
	FRESH_TARBALL=$(CURDIR)/$(FRESH_TAR) tests/fresh/package.sh; p=$$?; \
	rm -f $(FRESH_TAR); \
	echo "fresh-check: readme-bare.sh exit $$a, package.sh exit $$p"; \
	[ $$a = 0 ] && [ $$p = 0 ]

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	for m in $(MANPAGES); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d -m 755 $(DESTDIR)$(SYSCONFDIR)/smarthost
	for f in smarthost.conf relay.map; do \
	    [ -e $(DESTDIR)$(SYSCONFDIR)/smarthost/$$f ] || \
	    install -m 644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/smarthost/$$f; done
	[ -e $(DESTDIR)$(SYSCONFDIR)/smarthost/secrets ] || \
	    install -m 600 conf/secrets $(DESTDIR)$(SYSCONFDIR)/smarthost/secrets

# The Debian package (debian/), built from a copy of the tree in
# $(DEB_DIR)/src, so that dpkg-buildpackage leaves the tree alone and
# writes $(DEB_DIR)/smarthost_VERSION_ARCH.deb; lintian must report no
# error.  Installs its own build dependencies first (contrib/install-deb-deps),
# which make check does not need.  Then: apt-get install ./$(DEB_DIR)/smarthost_*.deb
DEB_DIR = build/deb
deb:
	contrib/install-deb-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude-vcs --exclude='./build*' --exclude=./debian/build . | \
	    tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/smarthost_*.changes
	@ls $(DEB_DIR)/smarthost_*.deb

# Only the package part of fresh-check: install, check, a chrooted Postfix
# through the milter, upgrade, purge (slow; network).
fresh-package:
	contrib/install-deb-deps
	tests/fresh/package.sh

clean:
	rm -rf build build-san build-fuzz
