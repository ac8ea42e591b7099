#!/usr/bin/env bash
# Regenerates the pictures in docs/ from the blog example (needs Graphviz: apt-get install graphviz).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --example blog > /dev/null
cp target/blog/bob.svg docs/blog-bob.svg
cp target/blog/schema.svg docs/blog-schema.svg
echo "wrote docs/blog-bob.svg docs/blog-schema.svg"
