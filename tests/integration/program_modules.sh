#!/usr/bin/env bash
# The program's modules (include/recistry/module.h, docs/contributing.md "start-up cost"): the `recistry` program
# links only the core; ITK (recistry-imaging.so), libpq (recistry-postgresql.so) and cairo with libpng and
# fontconfig (recistry-render.so) are opened when a command first needs them. Checks that the program does not link them, that a plain command maps none of them, that a
# command of each family works through its module (the stub forwards, the module's own calls stay inside it),
# and that a module that is missing, broken or from another build fails the command with a message naming it,
# never a crash.
set -euo pipefail
: "${RECISTRY:?}"
mkdir -p "${RCY_TEST_TMP:-/tmp}"
T=$(mktemp -d "${RCY_TEST_TMP:-/tmp}/modules.XXXXXX"); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# The libraries of the families that are modules; the program must not need any of them.
heavy='libITK|libitk|libpq\.so|libcairo|libpng|libfontconfig'

needed=$(readelf -d "$RECISTRY" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf found no NEEDED entry in $RECISTRY"
if echo "$needed" | grep -E "$heavy"; then fail "the program links a module's library (above)"; fi
ok "the program needs $(echo "$needed" | wc -l) shared libraries, none of ITK, libpq, cairo, libpng, fontconfig"

# What each module takes from the program (rcy_* only, cmake/program.dynlist) is exported by it: otherwise the
# module would fail to load (RTLD_NOW) in the one command that needs it.
dir=$(dirname "$RECISTRY")
exported=$(nm -D --defined-only "$RECISTRY" | awk '{print $3}' | sort -u)
for m in imaging postgresql render; do
  [ -f "$dir/recistry-$m.so" ] || fail "no $dir/recistry-$m.so beside the program"
  # ldd -r: the symbols that the module's own libraries do not define, i.e. what it takes from the program.
  missing=$(ldd -r "$dir/recistry-$m.so" 2>&1 | sed -n 's/^undefined symbol: \([^ \t]*\).*/\1/p' | sort -u |
    comm -23 - <(echo "$exported") || true)
  [ -z "$missing" ] || fail "recistry-$m.so needs what the program does not export: $missing"
  nm -D --defined-only "$dir/recistry-$m.so" | awk '{print $3}' | grep -qx "rcy_${m}_module" ||
    fail "recistry-$m.so does not export rcy_${m}_module"
  [ "$(nm -D --defined-only "$dir/recistry-$m.so" | grep -c ' rcy_')" = 1 ] ||
    fail "recistry-$m.so exports more than its table (its own calls could bind to the program's stubs)"
done
ok "each module exports only its table, and finds in the program every rcy_* symbol it needs"

# A plain command maps no module and none of their libraries.
LD_DEBUG=files "$RECISTRY" --version >/dev/null 2>"$T/ld.log"
grep -q 'calling init' "$T/ld.log" || fail "LD_DEBUG gave no trace (cannot check what --version loads)"
# (libpng is still mapped: DCMTK's libdcmimage needs it.)
if grep -E "file=.*(${heavy/|libpng/}|recistry-)" "$T/ld.log" | head -3 | grep .; then fail "--version loaded the above"; fi
ok "--version loads $(grep -c 'calling init' "$T/ld.log") objects, no module"

# imaging: the TARE phantom's label maps are written by ITK's NRRD writer in the module.
LD_DEBUG=files "$RECISTRY" sample --out "$T/tare" --tare --phantom accuracy >"$T/out" 2>"$T/ld.log" ||
  { grep -v '^ *[0-9]*:' "$T/ld.log" >&2; fail "sample --tare through recistry-imaging.so"; }
grep -q 'file=.*recistry-imaging\.so' "$T/ld.log" || fail "sample --tare did not load recistry-imaging.so"
n=$(find "$T/tare" -name '*.nrrd' | wc -l)
[ "$n" -gt 0 ] || fail "sample --tare wrote no label map"
head -c 4 "$(find "$T/tare" -name '*.nrrd' | head -1)" | grep -q NRRD || fail "label map is not NRRD"
ok "imaging through its module: $n NRRD label maps written by ITK"

# render: the cohort plots are drawn by cairo in the module, byte for byte what the static library draws is
# checked by dose_response; here that they are PNGs and a PDF.
"$RECISTRY" sample --out "$T/cohort" --tare-cohort 20 >/dev/null || fail "sample --tare-cohort"
"$RECISTRY" dose-response --cohort "$T/cohort" --bootstrap 0 --plots "$T/plots" >/dev/null 2>"$T/err" ||
  fail "dose-response --plots through recistry-render.so: $(cat "$T/err")"
head -c 5 "$T/plots/dose_response.pdf" | grep -q '%PDF-' || fail "dose_response.pdf is not a PDF"
n=$(for f in "$T"/plots/*.png; do head -c 4 "$f" | tail -c 3; echo; done | grep -c '^PNG$')
[ "$n" -gt 0 ] || fail "no PNG plot written"
ok "render through its module: dose_response.pdf and $n PNG plots"

# postgresql: a connection refused is reported by libpq inside the module.
got=0
"$RECISTRY" init --archive "$T/pg" --database "postgresql://nobody@127.0.0.1:1/none" >"$T/out" 2>"$T/err" || got=$?
[ "$got" = 1 ] || fail "init on an unreachable PostgreSQL exited $got: $(cat "$T/err")"
grep -q 'cannot connect' "$T/err" || fail "no libpq message from the module: $(cat "$T/err")"
ok "postgresql through its module: $(head -1 "$T/err")"

# The program alone, without its modules: each family's command fails cleanly, naming what it looked for.
mkdir "$T/alone"
cp "$RECISTRY" "$T/alone/recistry"
expect_module_error() { # FAMILY PATTERN -- ARGS...
  local family=$1 pattern=$2; shift 3
  local got=0
  "$T/alone/recistry" "$@" >"$T/out" 2>"$T/err" || got=$?
  [ "$got" = 1 ] || fail "recistry $* without recistry-$family.so exited $got (1 expected): $(tail -3 "$T/err")"
  grep -q "recistry-$family\.so" "$T/err" || fail "recistry $*: the message does not name recistry-$family.so: $(cat "$T/err")"
  grep -q -- "$pattern" "$T/err" || fail "recistry $*: no '$pattern' in: $(cat "$T/err")"
}
"$T/alone/recistry" --version >/dev/null || fail "the program alone cannot even print its version"
expect_module_error imaging "$T/alone/recistry-imaging.so: no such file" -- sample --out "$T/s1" --tare --phantom accuracy
expect_module_error postgresql "$T/alone/recistry-postgresql.so: no such file" -- \
  init --archive "$T/pg2" --database "postgresql://nobody@127.0.0.1:1/none"
expect_module_error render "$T/alone/recistry-render.so: no such file" -- \
  dose-response --cohort "$T/cohort" --bootstrap 0 --plots "$T/plots2"
ok "without its modules: $(head -1 "$T/err")"

# A file that is not a shared object: dlopen's own reason is passed on.
echo "not a module" >"$T/alone/recistry-imaging.so"
expect_module_error imaging "$T/alone/recistry-imaging.so: .*\(invalid ELF header\|too short\)" -- \
  sample --out "$T/s2" --tare --phantom accuracy
ok "a broken module: $(head -1 "$T/err")"

# A module of another build (its table's build identity differs) is refused.
cat >"$T/other.c" <<'C'
#include <stdint.h>
struct header { uint32_t abi, size; const char *family, *build; };
const struct header rcy_imaging_module = {1, sizeof(struct header), "imaging", "0.0.0-another-build"};
C
cc -shared -fPIC -o "$T/alone/recistry-imaging.so" "$T/other.c" || fail "cannot compile the stand-in module"
expect_module_error imaging "another build" -- sample --out "$T/s3" --tare --phantom accuracy
ok "a module from another build: $(head -1 "$T/err")"
