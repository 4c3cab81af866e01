#!/usr/bin/env bash
# The layering check (DESIGN.md, "Layers"): every folder under src/ is a
# layer, and a layer may include only its own headers and those of the layers
# above it in this order:
#   core, data, io, features, models, eval, stream, serve | report, cli
# (serve and report are siblings: neither includes the other). Checked are the
# #include "..." lines of src/ and of the public headers include/vigil/, whose
# layer is the folder of the source that implements them: given in the table
# below, else found by name (vigil/table.h -> src/data/table.c), else where
# one of the functions they declare is defined. Reports each upward include as
#   src/a/b.c: includes vigil/x.h (layer L2) from layer L1
# and exits 1 if there is one, or if an allow-list entry is no longer needed.
# Text only (grep, sed and bash), no compiler: it runs in well under a second.
#
# Usage: tools/check_layers.sh [SOURCE_ROOT]
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

# Rank of each layer: an include must go to a rank below the includer's, or
# to the includer's own folder.
declare -A rank=([core]=0 [data]=1 [io]=2 [features]=3 [models]=4 [eval]=5 [stream]=6 [serve]=7 [report]=7 [cli]=8)

# Public headers whose layer their name does not give.
declare -A header_layer=(
  [core.h]=core            # status, errors, logging, allocator: src/core/*.c
  [field.h]=data           # vg_field records, types only
  [estimator.h]=models     # the vtable and its registry (src/models/registry.c)
  [logformat.h]=io         # the vg_logfmt type and its reader: src/io/logformats.c, logread.c, format_row.c
)

# Upward includes not fixed yet: "includer include  # why". Keep it short; an
# entry that is no longer needed fails the check, so the list only shrinks.
allow=()

fail=0
declare -A used

layer_of_header() {  # vigil/X.h -> layer, or "" when it cannot be found
  local name=${1#vigil/} f
  if [[ -n ${header_layer[$name]:-} ]]; then echo "${header_layer[$name]}"; return; fi
  for f in src/*/"${name%.h}.c"; do
    [[ -e $f ]] && { f=${f#src/}; echo "${f%%/*}"; return; }
  done
  # Where one of its VG_API functions is defined (a line starting with the
  # return type, the name, "(" and no ";").
  local fn
  for fn in $(sed -nE 's/.*VG_API[^(;]*[^a-zA-Z0-9_](vg_[a-z0-9_]+) *\(.*/\1/p' "include/$1"); do
    f=$(grep -lE "^[a-z].*[^a-zA-Z0-9_]$fn\([^;]*$" src/*/*.c 2>/dev/null | head -n 1)
    [[ -n $f ]] && { f=${f#src/}; echo "${f%%/*}"; return; }
  done
}

declare -A hl  # header -> layer, computed once
for h in include/vigil/*.h; do
  key=vigil/${h##*/}
  hl[$key]=$(layer_of_header "$key")
  if [[ -z ${hl[$key]} ]]; then
    echo "$h: no layer found (no src/*/$(basename "${key%.h}").c, no definition of its functions): add it to header_layer in $0"
    fail=1
  fi
done

# Every #include "..." of src/ and include/vigil/, read in one pass.
while IFS=: read -r file inc; do
  [[ $inc =~ \"([^\"]+)\" ]] && inc=${BASH_REMATCH[1]}
  if [[ $file == include/* ]]; then
    from=${hl[vigil/${file##*/}]}
    [[ -z $from ]] && continue  # reported above
  else
    from=${file#src/}; from=${from%%/*}
    if [[ -z ${rank[$from]:-} ]]; then
      echo "$file: src/$from/ is not a layer: add it to rank in $0 and to DESIGN.md's table"
      fail=1
      continue
    fi
  fi
  case $inc in
    vigil/*) to=${hl[$inc]:-} ;;
    */*) to=${inc%%/*} ;;
    *) [[ $file == include/* ]] && to=${hl[vigil/$inc]:-} || to=$from ;;  # beside the includer
  esac
  if [[ -z $to || -z ${rank[$to]:-} ]]; then
    [[ -e ${file%/*}/$inc || -e src/$inc || -e include/$inc ]] && continue  # not a layer's header
    echo "$file: includes $inc, which is in no layer"
    fail=1
    continue
  fi
  [[ $to == "$from" ]] && continue
  ((rank[$to] < rank[$from])) && continue
  for entry in "${allow[@]}"; do
    if [[ ${entry%%  #*} == "$file $inc" ]]; then used[$entry]=1; continue 2; fi
  done
  echo "$file: includes $inc (layer $to) from layer $from"
  fail=1
done < <(grep -HE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' src/*/*.[ch] include/vigil/*.h)

for entry in "${allow[@]}"; do
  [[ -n ${used[$entry]:-} ]] && continue
  echo "allow-list entry no longer needed, remove it from $0: ${entry%%  #*}"
  fail=1
done

if ((fail)); then
  echo "layers: FAILED (order: core, data, io, features, models, eval, stream, serve|report, cli; see DESIGN.md)"
  exit 1
fi
echo "layers: every include points down (${#allow[@]} allowed exceptions)"
