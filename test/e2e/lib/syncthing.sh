# Real Syncthing instances for the tests (Debian's `syncthing` package), on
# loopback only: discovery, relays, NAT traversal, usage reporting and
# upgrades are off, so nothing leaves the machine. Each instance runs as the
# cluster owner (it must write the inbox the librarians move files out of).
#   st_init NAME GUI_PORT SYNC_PORT   -> home $ST_ROOT/NAME, prints its device ID
#   st_config NAME ...                -> writes config.xml (see below)
#   st_start NAME / st_stop NAME / st_stop_all
#   st_api NAME PATH                  -> GET on its REST API
: "${ST_ROOT:?set ST_ROOT to a folder for the instances}"

st_home() { echo "$ST_ROOT/$1"; }

st_init() {  # st_init NAME -> device ID on stdout
  local home; home=$(st_home "$1")
  mkdir -p "$home"; pf_own "$home"
  pf_as_owner env HOME="$home" syncthing generate --home="$home" --no-default-folder >"$home/generate.log" 2>&1 ||
    { cat "$home/generate.log" >&2; return 1; }
  pf_as_owner env HOME="$home" syncthing serve --home="$home" --device-id
}

# st_config NAME GUI_PORT SYNC_PORT API_KEY FOLDER_PATH FOLDER_TYPE MY_ID PEER_NAME PEER_ID PEER_SYNC_PORT [EXTRA_OPTIONS_XML]
st_config() {
  local name=$1 gui=$2 sync=$3 key=$4 path=$5 type=$6 me=$7 peer_name=$8 peer=$9 peer_port=${10} extra=${11:-}
  local home; home=$(st_home "$name")
  cat >"$home/config.xml" <<XML
<configuration version="36">
    <folder id="photos" label="Photos" path="$path" type="$type" rescanIntervalS="60" fsWatcherEnabled="true" fsWatcherDelayS="1" ignorePerms="false">
        <device id="$me"></device>
        <device id="$peer"></device>
    </folder>
    <device id="$me" name="$name" compression="metadata"><address>dynamic</address></device>
    <device id="$peer" name="$peer_name" compression="metadata"><address>tcp://127.0.0.1:$peer_port</address></device>
    <gui enabled="true" tls="false"><address>127.0.0.1:$gui</address><apikey>$key</apikey></gui>
    <options>
        <listenAddress>tcp://127.0.0.1:$sync</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <crashReportingEnabled>false</crashReportingEnabled>
        <reconnectionIntervalS>1</reconnectionIntervalS>
        <limitBandwidthInLan>true</limitBandwidthInLan>
        <minHomeDiskFree unit="%">0</minHomeDiskFree>
        $extra
    </options>
</configuration>
XML
  pf_own "$home/config.xml"
}

st_start() {  # st_start NAME GUI_PORT
  local home; home=$(st_home "$1")
  (cd / && runuser -u "$PF_CLUSTER_USER" -- env HOME="$home" STNORESTART=1 STNOUPGRADE=1 \
     syncthing serve --home="$home" --no-browser --no-restart --no-upgrade \
     --logfile="$home/syncthing.log" >/dev/null 2>&1 & echo $! >"$home/pid")
  local key; key=$(sed -n 's:.*<apikey>\(.*\)</apikey>.*:\1:p' "$home/config.xml")
  local t=0
  until curl -fsS -H "X-API-Key: $key" "http://127.0.0.1:$2/rest/system/ping" >/dev/null 2>&1; do
    t=$((t + 1)); [ "$t" -gt 150 ] && { echo "syncthing $1 did not start" >&2; tail -20 "$home/syncthing.log" >&2; return 1; }
    sleep 0.2
  done
}

st_stop() {  # st_stop NAME: the instance and every process of its home
  local home; home=$(st_home "$1")
  [ -f "$home/pid" ] || return 0
  pkill -TERM -f -- "--home=$home" 2>/dev/null || true
  local t=0
  while pgrep -f -- "--home=$home" >/dev/null 2>&1; do
    t=$((t + 1)); [ "$t" -gt 50 ] && { pkill -KILL -f -- "--home=$home" 2>/dev/null || true; break; }
    sleep 0.2
  done
  rm -f "$home/pid"
}

st_stop_all() {
  local h
  for h in "$ST_ROOT"/*/; do [ -d "$h" ] && st_stop "$(basename "$h")"; done
}

st_api() {  # st_api GUI_PORT KEY PATH
  curl -fsS -m 5 -H "X-API-Key: $2" "http://127.0.0.1:$1$3"
}
