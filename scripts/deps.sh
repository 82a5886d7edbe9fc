#!/usr/bin/env bash
# Install what lmc needs to build, test and run its quickstart, from Debian/Ubuntu packages.
# Idempotent: does nothing when everything is already installed. Needs root (or sudo).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  libdnnl-dev                                  # oneDNN: the GEMMs (fp32 + bf16, AMX/AVX512-BF16 at run time)
  libopenblas-openmp-dev libblis-openmp-dev   # BLAS (OpenMP builds): attention GEMMs; -DLMC_BLAS=openblas|blis for all GEMMs
  liblapacke-dev                               # LAPACK's C interface: eigh / QR of the SOAP and GaLore optimizers
  libpcre2-dev                                 # regex pre-tokenization (PCRE2 JIT)
  libzstd-dev zlib1g-dev zstd                  # compressed corpora
  libjansson-dev libyaml-dev                   # JSON (tokenizer.json, safetensors headers, metrics), YAML configs
  libxxhash-dev                                # hashing for dedup
  libdivsufsort-dev                            # suffix arrays for exact-substring dedup
  liblbfgs-dev libgsl-dev                      # L-BFGS for scaling-law fits, GSL numerics
  libopenmpi-dev openmpi-bin                   # multi-process dedup / data parallel
  fortunes                                     # the quickstart's built-in corpus
  clang libclang-rt-dev libomp-dev llvm        # fuzz build (scripts/fuzz.sh): clang, its libFuzzer/ASan
                                               # runtimes and OpenMP (libclang-rt-dev is only recommended
                                               # by clang), llvm-symbolizer for readable crash reports
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
