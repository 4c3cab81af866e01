# Shared by the real-tools scenarios (tests/integration/web_real_*.sh;
# sourced after lib.sh, not run): the checks that the tools exist, the truth
# written by source address, the two models that score the real log and the
# figures per tool. A scenario sets W (its work folder) and TOOLS ("ADDRESS=NAME
# ..."), writes $W/access.log in nginx's combined format plus
# "$request_body", then calls web_real_score.

check() { local m=$1; shift; if "$@"; then pass "$m"; else fail "$m"; fi; }

# web_real_nginx_conf SITE BODY_PAGE: $W/nginx.conf, nginx in the foreground
# on port 8080 with the locations SITE (nginx text), logging the combined
# format plus "$request_body"; a second server on 127.0.0.1:8081 answers
# BODY_PAGE to what SITE proxies to it (nginx fills $request_body only where
# it reads the body for an upstream).
web_real_nginx_conf() {
  cat >"$W/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 256; }
http {
  log_format withbody '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent '
                      '"\$http_referer" "\$http_user_agent" "\$request_body"';
  access_log $W/access.log withbody;
  default_type text/html;
  client_body_temp_path $W/body; proxy_temp_path $W/proxy; fastcgi_temp_path $W/fcgi;
  uwsgi_temp_path $W/uwsgi; scgi_temp_path $W/scgi;
  server {
    listen 8080;
$1
    location / { return 404; }
  }
  server {
    listen 127.0.0.1:8081;
    access_log off;
    location / { return 200 "$2"; }
  }
}
CONF
}

# web_real_netns_start ADDRESS...: the opening lines of a traffic script run
# under `unshare --net`: only lo up, each ADDRESS a local source address (a
# route with that `src`, so nginx logs the client by it), nginx started
# (its pid in nginx_pid) and waited for.
web_real_netns_start() {
  cat <<START
#!/usr/bin/env bash
cd "$W"
ip link set lo up
for a in $*; do
  ip route replace local \$a dev lo table local proto kernel scope host src \$a
done
nginx -c "$W/nginx.conf" -p "$W" & nginx_pid=\$!
for i in \$(seq 50); do curl -s -o /dev/null http://127.0.0.1:8080/health && break; sleep 0.1; done
START
}

# web_real_run SECONDS: close $W/traffic.sh (wait for every client, stop
# nginx) and run it in a new network namespace, bounded by SECONDS + 90 s.
web_real_run() {
  cat >>"$W/traffic.sh" <<'END'
wait $(jobs -p | grep -v "^$nginx_pid\$")
kill $nginx_pid; wait $nginx_pid 2>/dev/null
exit 0
END
  timeout $(($1 + 90)) unshare --net bash "$W/traffic.sh" >"$W/traffic.out" 2>&1
}

# web_real_require COMMAND...: skip (77) when a tool is missing or network
# namespaces are not allowed here.
web_real_require() {
  local t
  for t in "$@" unshare ip curl timeout; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/setup.sh --test installs it)"; exit 77; }
  done
  unshare --net true 2>/dev/null || { echo "SKIP: unshare --net not permitted here"; exit 77; }
}

# The truth, by address. A tool's payload-carrying requests: its request
# target or body carries an encoded or code-like character or "..", or its
# agent or referer carries one that browsers' do not (a quote, < > { } ` |).
web_real_truth() {
  awk -F'"' -v tools="$TOOLS" 'BEGIN { n = split(tools, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], pair, "="); tool[pair[1]] = pair[2] } }
       { split($1, h, " "); t = (h[1] in tool) ? tool[h[1]] : "normal"
       q = "\047"
       b = $8 == "-" ? "" : $8
       p = t != "normal" && ($2 ~ /[%<>();|`{}]/ || index($2, q) || index($2, "..") ||
                            b ~ /[%<>();|`{}\\]/ || index(b, q) || index(b, "..") ||
                            $4 ~ /[<>{}`|]/ || index($4, q) || $6 ~ /[<>{}`|]/ || index($6, q)) ? 1 : 0
       print NR "," t "," p }' "$W/access.log" >"$W/truth.csv"
  awk -F, '$2 != "normal" { print $1 }' "$W/truth.csv" >"$W/labels.txt"
}

# web_real_metrics SCORES: recall per tool and false alarms at the model's
# own decision and at the threshold of 1% false alarms, and ROC-AUC (plain
# awk and sort: no gawk needed).
web_real_metrics() {
  paste -d, <(tail -n +2 "$1" | cut -d, -f2,3) <(cut -d, -f2,3 "$W/truth.csv") >"$W/joined.csv"  # score,decision,tool,payload
  local n thr names
  names=$(for kv in $TOOLS; do printf '%s ' "${kv#*=}"; done)
  n=$(awk -F, '$3 == "normal"' "$W/joined.csv" | wc -l)
  # The smallest threshold that leaves at most 1% of the normal lines above it.
  thr=$(awk -F, '$3 == "normal" { print $1 }' "$W/joined.csv" | sort -g -r | sed -n "$((n / 100 + 1))p")
  sort -t, -k1,1g "$W/joined.csv" | awk -F, -v thr="$thr" -v names="$names" '
    function flagged(d) { return d != "normal" && d != "0" }
    { k = $3; N[k]++; own[k] += flagged($2); at1[k] += $1 > thr
      if ($4 == 1) { PN[k]++; pown[k] += flagged($2); pat1[k] += $1 > thr }
      if (k != "normal") { A++; aown += flagged($2); aat1 += $1 > thr }
      # ranks for ROC-AUC, ties sharing their mean rank
      if (NR > 1 && $1 != last) { close_group() }
      g_n++; g_att += (k != "normal"); last = $1 }
    function close_group() { r = done + (g_n + 1) / 2; sumr += r * g_att; done += g_n; g_n = 0; g_att = 0 }
    END { close_group(); B = N["normal"]
      auc = (sumr - A * (A + 1) / 2) / (A * B)
      printf "normal=%d own_fa=%.4f at1_fa=%.4f attacks=%d own_all=%.4f at1_all=%.4f auc=%.4f\n",
        B, own["normal"] / B, at1["normal"] / B, A, aown / A, aat1 / A, auc
      nt = split(names, tools, " ")
      for (q = 1; q <= nt; q++) { k = tools[q]
        printf "%s lines=%d own=%.4f at1=%.4f payload_lines=%d payload_own=%s payload_at1=%s\n", k, N[k],
          N[k] ? own[k] / N[k] : 0, N[k] ? at1[k] / N[k] : 0, PN[k] + 0,
          PN[k] ? sprintf("%.4f", pown[k] / PN[k]) : "n/a", PN[k] ? sprintf("%.4f", pat1[k] / PN[k]) : "n/a" } }'
}

# web_real_score: the truth, then gbdt trained on `vigil synth --format
# weblog` only (it never sees the real log) and rule-score trained on the
# real log without labels score it; the floors below hold, the figures go to
# $VG_WEB_REAL_OUT (bench/web_real.sh makes the table).
web_real_score() {
  local lines bodies kv t n auc all
  lines=$(wc -l <"$W/access.log" 2>/dev/null || echo 0)
  check "nginx logged the traffic ($lines lines)" test "$lines" -gt 1000
  bodies=$(awk -F'"' '$8 != "" && $8 != "-"' "$W/access.log" | wc -l)
  check "nginx logged request bodies ($bodies lines)" test "$bodies" -gt 100
  web_real_truth
  "$VIGIL" synth --format weblog --events 100000 --seed 1 --truth "$W/synth_truth.csv" -o "$W/synth.log"
  cut -d, -f1 "$W/synth_truth.csv" | grep -E '^[0-9]+$' >"$W/synth_labels.txt"
  # Its own operating point (probability 0.5), as the README makes it.
  "$VIGIL" train --data "$W/synth.log" --format weblog --labels "$W/synth_labels.txt" --model gbdt --seed 1 \
    -o "$W/synth.vgm" >"$W/train_synth.out" 2>&1
  "$VIGIL" predict --model "$W/synth.vgm" --data "$W/access.log" -o "$W/synth_scores.csv"
  "$VIGIL" train --data "$W/access.log" --format weblog --task rule-score --model gbdt --seed 1 \
    -o "$W/rule.vgm" >"$W/train_rule.out" 2>&1
  "$VIGIL" predict --model "$W/rule.vgm" --data "$W/access.log" -o "$W/rule_scores.csv"
  web_real_metrics "$W/synth_scores.csv" >"$W/synth_metrics.txt"
  web_real_metrics "$W/rule_scores.csv" >"$W/rule_metrics.txt"
  echo "synthetic-trained gbdt:"; cat "$W/synth_metrics.txt"
  echo "rule-score:"; cat "$W/rule_metrics.txt"
  for kv in $TOOLS; do
    t=${kv#*=}
    n=$(awk -F, -v t="$t" '$2 == t' "$W/truth.csv" | wc -l)
    check "$t sent requests ($n)" test "$n" -gt 20
  done
  # Floors the detector must hold (the issue's targets are reported by bench/web_real.sh).
  auc=$(sed -n 's/.*auc=\([0-9.]*\).*/\1/p' "$W/synth_metrics.txt")
  all=$(sed -n 's/.*at1_all=\([0-9.]*\).*/\1/p' "$W/synth_metrics.txt")
  check "synthetic-trained model: ROC-AUC $auc >= 0.90" awk -v a="$auc" 'BEGIN { exit !(a >= 0.90) }'
  check "synthetic-trained model: attack recall at 1% false alarms $all >= 0.60" awk -v a="$all" 'BEGIN { exit !(a >= 0.60) }'
  if [[ -n ${VG_WEB_REAL_OUT:-} ]]; then
    mkdir -p "$VG_WEB_REAL_OUT"
    cp "$W"/{access.log,truth.csv,synth.vgm,synth_scores.csv,rule_scores.csv,synth_metrics.txt,rule_metrics.txt} \
      "$VG_WEB_REAL_OUT/"
  fi
}
