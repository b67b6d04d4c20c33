# `make run` and `make test` each do their own set-up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
VENDORED := static/vendor/.installed
# The widget as sent to sites: one bundle, hashed names, .br/.gz copies (static/build-widget.mjs).
WIDGET_BUILD := static/dist/manifest.json

.PHONY: run test test-fast soak bench chromium nginx sipp baresip espeak opus bytecode clean

run: $(INSTALLED) $(VENDORED) $(WIDGET_BUILD) opus
	$(VENV)/bin/otodesk demo

# Four workers on two cores: most of a test's time is waiting on servers, browsers and timers.
# A module stays on one worker (--dist loadfile): its shared server and state stay whole.
test: $(INSTALLED) $(VENDORED) $(WIDGET_BUILD) chromium nginx sipp baresip espeak opus bytecode
	$(PY) -m pytest -q -p no:cacheprovider -n 4 --dist loadfile --durations=15 -m "not soak"

# The runs under load left out of `make test` (tests marked soak): the rolling restart behind nginx.
soak: $(INSTALLED) $(VENDORED) $(WIDGET_BUILD) chromium nginx sipp baresip espeak opus
	$(PY) -m pytest -q -p no:cacheprovider -m soak

test-fast: $(INSTALLED) $(VENDORED) $(WIDGET_BUILD) sipp baresip espeak opus bytecode
	$(PY) -m pytest -q -p no:cacheprovider -n 4 --dist loadfile -m "not browser and not soak"

# Every bench, with its defaults (bench/README.md: what each needs and the figures measured).
# Redis and PostgreSQL for some, Chromium for the browser ones; voice and phone run as root (a network
# namespace), phone with sipp.
BENCHES := router_core bus_roundtrip timeline offer_latency offer_rules wall cobrowse_relay cobrowse_control cobrowse_browser voice phone analytics reports rules kb_search idle_sockets scale gc_stall

bench: $(INSTALLED) $(VENDORED) $(WIDGET_BUILD) chromium sipp opus
	@set -e; for b in $(BENCHES); do echo "== bench.$$b"; $(PY) -m bench.$$b; done

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "otodesk needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(VENDORED): package.json package-lock.json static/copy-vendor.mjs static/compress.mjs
	npm ci --no-audit --no-fund --loglevel=error
	node static/copy-vendor.mjs
	touch $@

$(WIDGET_BUILD): $(VENDORED) static/build-widget.mjs static/compress.mjs $(wildcard static/widget/*.js static/common/*.js)
	node static/build-widget.mjs

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@# Chinese glyphs, so the widget's zh-CN/zh-TW screenshots and layouts show real text, not boxes.
	@fc-list 2>/dev/null | grep -qi wqy || apt-get install -y -qq fonts-wqy-microhei >/dev/null || true

# The suite starts a few hundred otodesk processes. Where PYTHONDONTWRITEBYTECODE is set none of
# them writes its bytecode, so each compiled every module from source again (~1 s of a 3-4 s
# start); compiled once here, they all read it (only changed files are compiled again).
bytecode: $(INSTALLED)
	@$(PY) -m compileall -q -j 0 desktop signaling tests bench >/dev/null

# Debian's nginx, for the proxy test (tests/integration/test_nginx.py runs deploy/nginx.conf).
nginx:
	@test -x /usr/sbin/nginx || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }

# Debian's sipp plays the SIP trunk's far end in tests/integration/test_sip_sipp.py.
sipp:
	@command -v sipp >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq sip-tester >/dev/null; }

# Debian's baresip answers phone callbacks as the far end in tests/integration/test_sip_baresip.py.
baresip:
	@command -v baresip >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq baresip >/dev/null; }

# Debian's espeak-ng speaks the "press 1 to be called back" prompts inbound callers hear
# (signaling/media/speech.py: rendered once, cached under var/prompts); without it, tone cues.
espeak:
	@command -v espeak-ng >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null; }

# Debian's libopus0: phone legs encode and decode Opus at 8 kHz mono through it (signaling/media/opus.py).
opus:
	@test -n "$$(ldconfig -p | grep libopus.so)" || { apt-get update -qq && apt-get install -y -qq libopus0 >/dev/null; }

clean:
	rm -rf $(VENV) node_modules static/vendor static/dist var
