# Sourced by tests/integration/reader_*.sh (not a test itself): an archive with synthetic CT, accounts,
# a running `recistry serve` on a free port, and HTTP helpers that check status codes.
#   reader_setup NAME   → $T (work dir), $A (archive), $U (base URL), $SERVER_PID; stops the server on exit
# The requests (login, call, expect) and the jq checks of their answers (jqe, jqr, jqc, jqj) all go through
# one process per test, reader_lib/http_client.py, on one keep-alive connection: a curl and a jq per request
# were most of these tests' CPU. It sends what the curl command lines did (see its header).
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
  http_open
}

reader_start() { # [extra INI lines]
  printf '[archive]\npath = %s\n[http]\nbind = 127.0.0.1\nport = 0\n%s\n[ingest]\nae_title = IGNORED_BY_SERVE\n' \
    "$A" "${1-}" >"$T/serve.ini"
  # (the server must not hold the client's FIFOs open: the client ends when the test closes them)
  "$R" serve --config "$T/serve.ini" >"$T/serve.out" 2>"$T/serve.err" {HTTP_W}>&- {HTTP_R}<&- &
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" ${HTTP_PID-} 2>/dev/null || true; wait "$SERVER_PID" ${HTTP_PID-} 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    grep -q '^listening on' "$T/serve.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$T/serve.err")"
    sleep 0.05
  done
  U=$(sed -n 's/^listening on \(http:[^ ]*\)\/$/\1/p' "$T/serve.out")
  [ -n "$U" ] || fail "server did not report its URL"
  http url "$U"
}

# The client: started by reader_setup (servers are started without its FIFOs, so that the client ends when
# the test closes them), told the URL at every reader_start. A test that sets its own
# EXIT trap kills ${HTTP_PID-} there too: a plain `wait` would wait for the client forever.
http_open() {
  rm -f "$T/http.req" "$T/http.rsp"
  mkfifo "$T/http.req" "$T/http.rsp"
  /usr/bin/python3 "$LIB/http_client.py" "$T" <"$T/http.req" >"$T/http.rsp" 2>>"$T/http.err" &
  HTTP_PID=$!
  exec {HTTP_W}>"$T/http.req" {HTTP_R}<"$T/http.rsp"
}

# http VERB ARGS...: one request to the client (http_client.py has the verbs) → $http_status, $http_text.
# Fields go out NUL-terminated; the answer is one line, "<status> <text>", the text's backslashes and
# newlines escaped (undone here by printf %b).
http() {
  printf '%s\0' "$@" >&"$HTTP_W"
  local line
  IFS= read -r line <&"$HTTP_R" || fail "the HTTP client died: $(tail -5 "$T/http.err")"
  http_status=${line%% *}
  printf -v http_text '%b' "${line#* }"
  [ "$http_status" != 999 ] || fail "HTTP client: $http_text"
}

add_user() { # NAME ROLE [SITE]
  printf 'pw-%s-123\n' "$1" >"$T/$1.pw"
  "$R" user add --archive "$A" --name "$1" --role "$2" ${3:+--site "$3"} --password-file "$T/$1.pw" >/dev/null
}

login() { # NAME → session cookie in $T/NAME.jar (curl's cookie file, for any curl -b), CSRF token in $T/NAME.csrf
  http login "$1"
  [ "$http_status" = 200 ] || fail "login $1 → $http_status $(cat "$T/out")"
}

# call WHO METHOD PATH [BODY [CONTENT-TYPE [HEADERS-FILE]]]: response body in $T/out, status in $code.
# WHO "-" = no session; a body goes as application/json unless CONTENT-TYPE says otherwise; HEADERS-FILE
# gets the status line and the response headers (as curl -D).
call() {
  http call "$1" "$2" "$3" "${4-}" "${5-}" "${6-}"
  code=$http_status
}

# expect STATUS WHO METHOD PATH [BODY]; 4xx replies must carry {"error": "<message>"}.
expect() {
  local want=$1
  shift
  http expect "$want" "$1" "$2" "$3" "${4-}"
  code=$http_status
  case $http_text in
    ok) ;;
    code) fail "$2 $3 as $1 → $code (want $want): $(head -c 400 "$T/out")" ;;
    *) fail "$2 $3 → $code without an error message: $(head -c 200 "$T/out")" ;;
  esac
}

# jq on a response, by libjq in the client: jqe [--arg|--argjson|--slurpfile NAME VALUE]... PROGRAM [FILE] is
# `jq -e ... PROGRAM FILE >/dev/null`; jqr, jqc and jqj print what jq -r, jq -c and jq would. FILE defaults
# to $T/out; "-" is standard input. The exit status is zero when and only when jq's would be.
_jq() {
  local mode=$1 opts=() n=0
  shift
  while [ "${1:0:2}" = -- ]; do opts+=("${1#--}" "$2" "$3"); n=$((n + 1)); shift 3; done
  local file=${2:-$T/out}
  if [ "$file" = - ]; then
    local data=
    IFS= read -r -d '' data || true
    file=$T/jq.stdin.$BASHPID
    printf '%s' "$data" >"$file"
  fi
  http jq "$mode" "$1" "$file" "$n" "${opts[@]}"
}
jqe() { _jq e "$@"; return "$http_status"; }
jqr() { _jq r "$@"; printf '%s' "$http_text"; return "$http_status"; }
jqc() { _jq c "$@"; printf '%s' "$http_text"; return "$http_status"; }
jqj() { _jq j "$@"; printf '%s' "$http_text"; return "$http_status"; }

# Synthetic CT: subject CIREL-014-0001 (site S014) BL 30 mm lesion, FU1 20 mm; CIREL-015-0001 (S015) BL.
make_fixtures() { # N_SLICES
  local n=${1:-12}
  "$LIB/make_ct.sh" "$T/dcm/bl" S014 CIREL-014-0001 BL 20250106 "$n" 30
  "$LIB/make_ct.sh" "$T/dcm/fu" S014 CIREL-014-0001 FU1 20250303 "$n" 20
  "$LIB/make_ct.sh" "$T/dcm/o" S015 CIREL-015-0001 BL 20250110 4 24 7.5
  "$R" reads index --archive "$A" "$T"/dcm/*/*.dcm >/dev/null
}
