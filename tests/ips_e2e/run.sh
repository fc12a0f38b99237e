#!/bin/bash
# run.sh - suite ips_e2e: the IPS end-to-end cases on recorded traffic (tests/ips/e2e/).
exec "$(dirname "$0")/../ips/e2e/run.sh" "$@"
