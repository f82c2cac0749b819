# Convenience targets; every one runs a command the README documents.
GO ?= go
FUZZTIME ?= 2000x
# package:target pairs of the fuzz targets (their seed corpora also run in `make test`).
FUZZ_TARGETS = ./jobs:FuzzLinesReader ./jobs:FuzzCSVReader ./jobs:FuzzJSONLReader ./jobs:FuzzParamsReader ./jobs:FuzzDecode ./jobs/campaign:FuzzParse ./scenes:FuzzCanonical \
	./scenes:FuzzImportLine ./storage:FuzzEncodeSegment ./code:FuzzValidateScenePage ./wechat:FuzzCodeBody ./wechat:FuzzSniff \
	./wechat:FuzzDecodeOpenAPI

.PHONY: test demo fuzz chaos vulncheck

test:
	$(GO) test -race -timeout 45m ./...

demo:
	$(GO) run ./cmd/wxacode demo

# Each fuzz target for FUZZTIME beyond its seed corpus.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# The fault suite (see RELIABILITY.md): private redis-server, fake WeChat,
# versitygw (S3) behind a proxy, worker processes; loopback only.
VERSITYGW_MODULE = github.com/versity/versitygw/cmd/versitygw@v1.8.0
chaos:
	command -v versitygw >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/versitygw" || $(GO) install $(VERSITYGW_MODULE)
	$(GO) build -o bin/wxacode ./cmd/wxacode
	./bin/wxacode bench chaos --scenario all

# Known vulnerabilities in the code paths we use. Needs network access to
# vuln.go.dev (CI has none, so CI runs `go mod verify` instead).
vulncheck:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 ./...
