#!/usr/bin/env bash
# What make bench needs besides `make tools`: twiggy, to name the wasm's biggest items.
# Installed only when missing or at another version.
set -euo pipefail
TWIGGY_VERSION=0.8.0
have=$(twiggy --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$TWIGGY_VERSION" ]; then
  echo "bench/setup.sh: installing twiggy $TWIGGY_VERSION (found: ${have:-none})"
  cargo install twiggy --version "$TWIGGY_VERSION" --locked --force
fi
