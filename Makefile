# lifeline - one plain Makefile. `make V=1` shows the commands.
# Targets: all test demo bench fuzz install uninstall clean deps

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
B       := build

PKGS    := libnetfilter_queue libmnl libpcap libcrypto libhs libpcre2-8
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
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) $(WERR) $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lpthread -lm
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
B       := build-san
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

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(B)/lifelined $(B)/lifelinectl $(DESTDIR)$(PREFIX)/sbin/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/lifelined $(DESTDIR)$(PREFIX)/sbin/lifelinectl

clean:
	rm -rf build build-san

.PHONY: all deps build-tests test bench demo fuzz install uninstall clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
