# lifeline - one plain Makefile. `make V=1` shows the commands.
# Targets: all test demo bench fuzz install uninstall clean deps

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
# install locations; SYSCONFDIR stays /etc whatever PREFIX is, because the
# programs read /etc/lifeline/lifeline.conf by default
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/lifeline
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MAN8        := lifelined.8 lifelinectl.8
MAN5        := lifeline.conf.5 lifeline-policy.5
B       := build

PKGS    := libnetfilter_queue libmnl libpcap libcrypto libhs libpcre2-8 zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith -Wvla -Wno-sign-compare
ifeq ($(CI),true)
WERR    := -Werror
endif
ifeq ($(WERROR),1)
WERR    := -Werror
endif
OPT     ?= -O2
# Link-time optimisation with GCC lets the packet path inline across files
# (flow.c, pipeline.c, lifeline.c): ~10% more packets/s through the empty
# policy in `make bench`. LTO= builds without it; sanitizer builds go without.
ifeq ($(origin LTO),undefined)
LTO     := $(if $(shell $(CC) -v 2>&1 | grep '^gcc version'),-flto=auto)
endif
CFLAGS  ?= $(OPT) -g
CFLAGS  += $(LTO) -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) $(WERR) $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(LTO)
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
B       := build-san
LTO     :=
endif

ifneq ($(V),1)
Q  := @
QCC = @printf '  CC      %s\n' $<;
QLD = @printf '  LD      %s\n' $@;
QAR = @printf '  AR      %s\n' $@;
endif

RULES_SRC  := $(wildcard rules/*.c)
FILTER_SRC := $(filter-out filter/main.c,$(wildcard filter/*.c))
CTL_SRC    := $(wildcard ctl/*.c)
TEST_SRC   := $(wildcard tests/unit/test_*.c)
TEST_HELP  := $(wildcard tests/unit/helper_*.c)
BENCH_SRC  := $(wildcard bench/*.c)

RULES_OBJ  := $(RULES_SRC:%.c=$(B)/%.o)
FILTER_OBJ := $(FILTER_SRC:%.c=$(B)/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(B)/%.o)
HELP_OBJ   := $(TEST_HELP:%.c=$(B)/%.o)
TEST_BIN   := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

LIBRULES   := $(B)/librules.a
LIBFILTER  := $(B)/libfilter.a

all: $(B)/lifelined $(B)/lifelinectl

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QCC)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBRULES): $(RULES_OBJ)
	$(QAR)rm -f $@ && ar rcs $@ $^
$(LIBFILTER): $(FILTER_OBJ)
	$(QAR)rm -f $@ && ar rcs $@ $^

$(B)/lifelined: $(B)/filter/main.o $(LIBFILTER) $(LIBRULES)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/lifelinectl: $(CTL_OBJ) $(LIBFILTER) $(LIBRULES)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(HELP_OBJ) $(LIBFILTER) $(LIBRULES)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(B)/bench/%: $(B)/bench/%.o $(LIBFILTER) $(LIBRULES)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	$(Q)scripts/deps.sh

build-tests: all $(TEST_BIN)

# Installs what is missing, builds, runs every test (unit, goldens, replay, live).
test: deps
	$(Q)$(MAKE) --no-print-directory build-tests
	$(Q)B=$(B) tests/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)B=$(B) bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)B=$(B) scripts/demo.sh

fuzz: deps
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# Static analysis (not part of `make test`): cppcheck's warnings, with the
# false positives it keeps finding listed and explained in tests/lint/.
lint:
	$(Q)command -v cppcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq cppcheck; }
	$(Q)cppcheck -q -j2 --error-exitcode=1 --enable=warning,portability --inline-suppr \
		-Iinclude -Irules -Ifilter -Ictl --suppress=missingIncludeSystem \
		--suppressions-list=tests/lint/cppcheck.supp rules filter ctl

# Files only: no user, group, daemon-reload or service start (the message
# says what to run). An existing lifeline.conf is never overwritten.
install: all
	@printf '  INSTALL %s\n' "$(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/lifeline $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	$(Q)install -m 0755 $(B)/lifelined $(B)/lifelinectl $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 $(addprefix man/,$(MAN8)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -m 0644 $(addprefix man/,$(MAN5)) $(DESTDIR)$(MANDIR)/man5/
	$(Q)install -m 0644 dist/lifeline.conf dist/example.pol $(DESTDIR)$(DOCDIR)/examples/
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/lifeline/lifeline.conf ] || \
		install -m 0644 dist/lifeline.conf $(DESTDIR)$(SYSCONFDIR)/lifeline/lifeline.conf
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lifeline ] || \
		install -m 0644 dist/lifeline.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lifeline
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/lifelined.service.in >$(DESTDIR)$(UNITDIR)/lifelined.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/lifelined.service
	$(Q)install -m 0644 dist/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/lifeline.conf
	@echo "installed; as root: systemd-sysusers && systemctl daemon-reload &&" \
		"systemctl enable --now lifelined"

# Leaves lifeline.conf when it differs from the shipped one, and the state,
# runtime and log directories (the engine's data, not installed files).
uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/lifelined $(DESTDIR)$(SBINDIR)/lifelinectl
	$(Q)rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8)) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(MAN5))
	$(Q)rm -f $(DESTDIR)$(DOCDIR)/examples/lifeline.conf $(DESTDIR)$(DOCDIR)/examples/example.pol
	$(Q)rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)rm -f $(DESTDIR)$(UNITDIR)/lifelined.service $(DESTDIR)$(SYSUSERSDIR)/lifeline.conf
	$(Q)! cmp -s dist/lifeline.conf $(DESTDIR)$(SYSCONFDIR)/lifeline/lifeline.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/lifeline/lifeline.conf
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/lifeline 2>/dev/null || true
	$(Q)! cmp -s dist/lifeline.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lifeline || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/logrotate.d/lifeline
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/logrotate.d 2>/dev/null || true

clean:
	rm -rf build build-san

.PHONY: all deps build-tests test bench demo fuzz lint install uninstall clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
