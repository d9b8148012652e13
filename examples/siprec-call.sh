#!/usr/bin/env bash
# Records one SIPREC call against a running `make run` and downloads the WAV.
#
#   examples/siprec-call.sh [DATA_DIR]        (default ./data)
#
# sipp plays the SRC (INVITE with SDP + rs-metadata, re-INVITE a=inactive to
# pause, re-INVITE a=sendonly to resume, BYE); our RTP sender streams 440 Hz
# (caller) and 880 Hz (agent) to the ports the recorder answered with. The
# result is ./recording.wav: 2 channels, 8 kHz, with 1 s of silence where the
# SRC paused.
set -euo pipefail
OUT="$PWD/recording.wav"
DATA=$(realpath "${1:-./data}")
cd "$(dirname "$0")/.."
SIP=$(node -p "require('$DATA/listen.json').sip")
HTTP=$(node -p "require('$DATA/listen.json').http")
PORTS=$(mktemp)
trap 'rm -f "$PORTS"' EXIT

sipp -sf tests/e2e/sipp/siprec_uac.xml -m 1 -t u1 -i 127.0.0.1 -p 0 -nostdin "$SIP" \
     -set portsfile "$PORTS" -set media_ms 3000 -set paused_ms 1000 -set resumed_ms 2000 \
     -timeout 30 >/dev/null 2>&1 &
SIPP=$!
for _ in $(seq 1 100); do [[ -s "$PORTS" ]] && break; sleep 0.1; done   # waits for the 200 OK
read -r P1 P2 CALL_ID < "$PORTS"
echo "recording call $CALL_ID: RTP to ports $P1 and $P2"
node tests/e2e/lib/rtp_sender.mjs --ports "$P1,$P2" --freqs 440,880 --packets 300 >/dev/null
wait "$SIPP"

ADMIN=$(node -p "const d=require('$DATA/dev-credentials.json').admin; d.clientId+':'+d.clientSecret")
TOKEN=$(curl -s -u "$ADMIN" -d grant_type=client_credentials -d scope=recording:read\ conversation:read \
          "http://$HTTP/oauth/token" | node -p 'JSON.parse(require("fs").readFileSync(0)).access_token')
CONV=$(curl -s -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v2/conversations?pageSize=100" |
       node -p "JSON.parse(require('fs').readFileSync(0)).entities.find(c => c.externalId === '$CALL_ID').id")
for _ in $(seq 1 50); do   # the file is complete once the recorder has closed it
  STATUS=$(curl -s -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v2/recordings/conversations/$CONV" |
           node -p "(JSON.parse(require('fs').readFileSync(0)).media[0]||{}).status")
  [[ "$STATUS" == complete ]] && break; sleep 0.1
done
curl -s -o "$OUT" -H "Authorization: Bearer $TOKEN" \
     "http://$HTTP/api/v2/recordings/conversations/$CONV/media?segment=1"
echo "conversation $CONV → $OUT ($(stat -c %s "$OUT") bytes)"
