#!/usr/bin/env bash
# `helm lint --strict` of every chart, with its defaults and with each of its
# ci/*.yaml values files (the `charts:lint` Nx target; the e2e chart tests
# run the same and much more). Builds helm on first use. helm lint reports a
# template's `fail` as [INFO] only: tcp-tunnel-gateway's defaults lint clean
# although they cannot be installed without a host key; the chart tests check
# that refusal and its message.
set -euo pipefail
cd "$(dirname "$0")"
helm=$(bash ../e2e/scripts/build-helm.sh | tail -n1)
failed=0
for chart in */Chart.yaml; do
  chart=${chart%/Chart.yaml}
  for values in "" "$chart"/ci/*.yaml; do
    if ! out=$("$helm" lint --strict "$chart" ${values:+--values "$values"} 2>&1); then
      printf '%s\n' "$out" >&2
      failed=1
    fi
    echo "helm lint --strict $chart ${values:-(defaults)}: $(tail -n1 <<<"$out")"
  done
done
exit "$failed"
