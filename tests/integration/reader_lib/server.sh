# Sourced by tests/integration/reader_*.sh (not a test itself): an archive with synthetic CT, accounts,
# a running `recistry serve` on a free port, and curl helpers that check status codes.
#   reader_setup NAME   → $T (work dir), $A (archive), $U (base URL), $SERVER_PID; stops the server on exit
set -euo pipefail
: "${RECISTRY:?RECISTRY must point at the built program}" "${RCY_SOURCE_DIR:?}" "${RCY_TEST_TMP:?}"
R=$RECISTRY
LIB=$RCY_SOURCE_DIR/tests/integration/reader_lib

fail() {
  echo "FAIL: $*" >&2
  [ -f "$T/serve.err" ] && { echo "--- server log (tail)" >&2; tail -20 "$T/serve.err" >&2; }
  exit 1
}

reader_setup() {
  T=$RCY_TEST_TMP/$1.$$
  rm -rf "$T"
  mkdir -p "$T"
  A=$T/archive
  "$R" init --archive "$A" >/dev/null
}

reader_start() { # [extra INI lines]
  printf '[archive]\npath = %s\n[http]\nbind = 127.0.0.1\nport = 0\n%s\n[ingest]\nae_title = IGNORED_BY_SERVE\n' \
    "$A" "${1-}" >"$T/serve.ini"
  "$R" serve --config "$T/serve.ini" >"$T/serve.out" 2>"$T/serve.err" &
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    grep -q '^listening on' "$T/serve.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$T/serve.err")"
    sleep 0.05
  done
  U=$(sed -n 's/^listening on \(http:[^ ]*\)\/$/\1/p' "$T/serve.out")
  [ -n "$U" ] || fail "server did not report its URL"
}

add_user() { # NAME ROLE [SITE]
  printf 'pw-%s-123\n' "$1" >"$T/$1.pw"
  "$R" user add --archive "$A" --name "$1" --role "$2" ${3:+--site "$3"} --password-file "$T/$1.pw" >/dev/null
}

login() { # NAME → cookie jar $T/NAME.jar, CSRF token in $T/NAME.csrf
  local code
  code=$(curl -s -o "$T/out" -w '%{http_code}' -c "$T/$1.jar" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$1\",\"password\":\"$(cat "$T/$1.pw")\"}" "$U/api/login")
  [ "$code" = 200 ] || fail "login $1 → $code $(cat "$T/out")"
  jq -r .csrf_token "$T/out" >"$T/$1.csrf"
}

# call WHO METHOD PATH [BODY]: response body in $T/out, status in $code. WHO "-" = no session.
call() {
  local who=$1 m=$2 p=$3 body=${4-}
  local args=(-s -o "$T/out" -w '%{http_code}' -X "$m" --path-as-is)
  if [ "$who" != - ]; then
    args+=(-b "$T/$who.jar")
    [ "$m" = GET ] || args+=(-H "X-CSRF-Token: $(cat "$T/$who.csrf")")
  fi
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  code=$(curl "${args[@]}" "$U$p")
}

# expect STATUS WHO METHOD PATH [BODY]; 4xx replies must carry {"error": "<message>"}.
expect() {
  local want=$1
  shift
  call "$@"
  [ "$code" = "$want" ] || fail "$2 $3 as $1 → $code (want $want): $(head -c 400 "$T/out")"
  if [ "${code:0:1}" = 4 ]; then
    jq -e '.error | type == "string" and length > 0' "$T/out" >/dev/null ||
      fail "$2 $3 → $code without an error message: $(head -c 200 "$T/out")"
  fi
}

# Synthetic CT: subject CIREL-014-0001 (site S014) BL 30 mm lesion, FU1 20 mm; CIREL-015-0001 (S015) BL.
make_fixtures() { # N_SLICES
  local n=${1:-12}
  "$LIB/make_ct.sh" "$T/dcm/bl" S014 CIREL-014-0001 BL 20250106 "$n" 30
  "$LIB/make_ct.sh" "$T/dcm/fu" S014 CIREL-014-0001 FU1 20250303 "$n" 20
  "$LIB/make_ct.sh" "$T/dcm/o" S015 CIREL-015-0001 BL 20250110 4 24 7.5
  "$R" reads index --archive "$A" "$T"/dcm/*/*.dcm >/dev/null
}
