#!/usr/bin/env bash
# Sends a GitHub-style push webhook to a Capstan reconciler, signed as GitHub signs it:
# X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(secret, body)>, computed with openssl.
#
#   send-push.sh URL SECRET_FILE [REF [COMMIT]]
#
#   URL          the reconciler's webhook, e.g. http://127.0.0.1:5052/api/v1/webhook
#   SECRET_FILE  the file given to --webhook-secret-file (its trailing newline is not part of the secret)
#   REF          the pushed ref (default refs/heads/main)
#   COMMIT       the commit after the push (default: 40 zeros; the reconciler fetches its branch anyway)
#
# Prints the HTTP status and the answer: 202 {"event":"push","triggered":true} when the signature verifies,
# 401 when it does not. Set EVENT=ping to send GitHub's ping event instead (answered 200, no sync).
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 1; }
url=$1 secret_file=$2 ref=${3:-refs/heads/main} commit=${4:-0000000000000000000000000000000000000000}
secret=$(tr -d '\r\n' <"$secret_file")
body=$(printf '{"ref":"%s","after":"%s","repository":{"full_name":"local/test"},"pusher":{"name":"%s"}}' \
    "$ref" "$commit" "${USER:-tester}")
# `openssl dgst` prints "HMAC-SHA2-256(stdin)= <hex>" (or "(stdin)= <hex>" in older versions): keep the last field.
signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')

curl -sS -w '\nHTTP %{http_code}\n' -X POST "$url" \
    -H 'Content-Type: application/json' \
    -H "X-GitHub-Event: ${EVENT:-push}" \
    -H "X-GitHub-Delivery: local-$(date +%s)-$$" \
    -H "X-Hub-Signature-256: sha256=$signature" \
    --data-binary "$body"
