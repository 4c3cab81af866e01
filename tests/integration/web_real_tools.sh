#!/usr/bin/env bash
# Real scanners against a real web server, scored by a model that never saw
# them (issue 16). Debian's nginx serves a small shop of our own making on
# port 8080 (dynamic URLs answered 200 by `return` locations, as real
# applications answer; unknown paths 404; the login form proxied to a second
# server block so nginx reads its body and logs it: the combined format plus
# "$request_body"), and, all at once:
#   127.0.0.2 sqlmap (level 3: also the User-Agent and Referer), 127.0.0.3
#   wapiti (sql, xss, exec, file, crlf), 127.0.0.4 dirb (small word list),
#   127.0.0.5 hydra (a form login, 400 passwords), 127.0.1.x people browsing
#   (pages, assets, searches with accents in UTF-8 and Latin-1, referers),
#   a crawler and a monitor.
# Everything runs inside `unshare --net` with only the loopback up, so no tool
# can reach any other address whatever it tries; each client talks to its own
# loopback address, made its source address by a local route with that `src`,
# so nginx logs it as the client and the truth is written by address. Every
# tool runs under `timeout` and its own count bounds (word lists, levels).
# Then: gbdt trained on `vigil synth --format weblog` only, and rule-score
# trained on the real log without labels, score the real log; the figures go
# to $VG_WEB_REAL_OUT (bench/web_real.sh makes the table) and the checks
# below hold the floor. Skipped (exit 77) only when a tool is missing or
# namespaces are not allowed.
source "$(dirname "$0")/lib.sh"
check() { local m=$1; shift; if "$@"; then pass "$m"; else fail "$m"; fi; }
for t in nginx sqlmap wapiti dirb hydra unshare ip curl timeout; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/setup.sh --test installs it)"; exit 77; }
done
unshare --net true 2>/dev/null || { echo "SKIP: unshare --net not permitted here"; exit 77; }
TOOL_SECONDS=${VG_WEB_REAL_SECONDS:-75}
W=$WORK
mkdir -p "$W/site"

links="<a href='/item.php?id=1'>item</a> <a href='/products.php?cat=1&amp;page=1'>list</a> <a href='/cart.php?id=3&amp;qty=1'>cart</a> <a href='/api/items?id=2'>api</a> <a href='/search?q=shoes'>search</a> <form action='/search' method='get'><input name='q' value='x'></form> <form action='/login.php' method='post'><input name='user' value='u'><input name='pass' type='password' value='p'></form>"
cat >"$W/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 256; }
http {
  # The combined format plus the request body (nginx fills \$request_body
  # only where it reads the body for an upstream: /login.php is proxied).
  log_format withbody '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent '
                      '"\$http_referer" "\$http_user_agent" "\$request_body"';
  access_log $W/access.log withbody;
  default_type text/html;
  client_body_temp_path $W/body; proxy_temp_path $W/proxy; fastcgi_temp_path $W/fcgi;
  uwsgi_temp_path $W/uwsgi; scgi_temp_path $W/scgi;
  server {
    listen 8080;
    location = / { return 200 "<html><body><h1>Shop</h1>$links</body></html>"; }
    location = /login.php { proxy_pass http://127.0.0.1:8081; }
    location ~ ^/(item\.php|cart\.php|products\.php|search|api/items|account\.php)$ { return 200 "<html><body>Page. $links</body></html>"; }
    location ~ ^/(static|img)/ { return 200 "/* asset */"; }
    location ~ ^/(robots\.txt|sitemap\.xml|health|favicon\.ico)$ { return 200 "ok"; }
    location / { return 404; }
  }
  server {
    listen 127.0.0.1:8081;
    access_log off;
    location / { return 200 "<html><body>Login invalid. $links</body></html>"; }
  }
}
CONF

# People browsing: one address each, a browser agent, pages with their assets,
# the referer of the page before, searches with accents and quotes.
cat >"$W/browse.sh" <<'BROWSE'
#!/usr/bin/env bash
addr=$1 n=$2 ua=$3
base="http://$addr:8080"
words=(shoes caf%C3%A9 espa%F1a cr%C3%A8me+br%C3%BBl%C3%A9e rock+%26+roll O%27Brien t-shirt 50%25+off
       %E4%B8%AD%E6%96%87 red+dress ni%C3%B1os jacket 1%2B1 M%FCller size+42 gift+card)
get() { curl -s -o /dev/null --max-time 3 -A "$ua" ${2:+-e "$2"} "$1"; }
prev=""
for ((i = 0; i < n; i++)); do
  case $((RANDOM % 7)) in
    0) page="/" ;;
    1) page="/item.php?id=$((RANDOM % 200 + 1))" ;;
    2) page="/products.php?cat=$((RANDOM % 12 + 1))&page=$((RANDOM % 5 + 1))" ;;
    3) page="/search?q=${words[RANDOM % ${#words[@]}]}" ;;
    4) page="/cart.php?id=$((RANDOM % 200 + 1))&qty=$((RANDOM % 3 + 1))" ;;
    5) page="/api/items?id=$((RANDOM % 200 + 1))&fields=name,price" ;;
    6) page="/account.php" ;;
  esac
  get "$base$page" "$prev"
  if ((RANDOM % 3 == 0)); then
    for a in /static/site.css /static/app.js /img/logo.png /favicon.ico; do get "$base$a" "$base$page"; done
  fi
  if ((RANDOM % 15 == 0)); then
    curl -s -o /dev/null --max-time 3 -A "$ua" -e "$base/" --data "user=ana&pass=secret$RANDOM" "$base/login.php"
  fi
  prev="$base$page"
  sleep "0.$((RANDOM % 3))"
done
BROWSE

cat >"$W/traffic.sh" <<TRAFFIC
#!/usr/bin/env bash
# Inside the namespace: only lo exists. In the work folder: hydra leaves
# its hydra.restore in the current one.
cd "$W"
ip link set lo up
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 \$(seq -f '127.0.1.%g' 1 14); do
  ip route replace local \$a dev lo table local proto kernel scope host src \$a
done
nginx -c "$W/nginx.conf" -p "$W" & nginx_pid=\$!
for i in \$(seq 50); do curl -s -o /dev/null http://127.0.0.1:8080/health && break; sleep 0.1; done
uas=("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
     "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1")
for u in \$(seq 1 12); do bash "$W/browse.sh" 127.0.1.\$u 400 "\${uas[u % 4]}" & done
( for i in \$(seq 40); do curl -s -o /dev/null -A "UptimeRobot/2.0; http://www.uptimerobot.com/" http://127.0.1.13:8080/health; sleep 1.5; done ) &
( for p in /robots.txt /sitemap.xml / /item.php?id=1 /item.php?id=2 /products.php?cat=1\&page=1 /products.php?cat=2\&page=1 /search?q=shoes /static/site.css; do
    curl -s -o /dev/null -A "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" "http://127.0.1.14:8080\$p"; sleep 2; done ) &
seq 1 400 | sed 's/^/pass/' >"$W/pw.txt"
timeout $TOOL_SECONDS sqlmap -u "http://127.0.0.2:8080/item.php?id=1&cat=2" --batch --level 3 --risk 2 --time-sec 1 \\
  --flush-session --output-dir "$W/sqlmap" --disable-coloring -v 0 >"$W/sqlmap.out" 2>&1 &
timeout $TOOL_SECONDS wapiti -u http://127.0.0.3:8080/ --scope folder -m sql,xss,exec,file,crlf \\
  --max-scan-time $((TOOL_SECONDS - 10)) --flush-session -f txt -o "$W/wapiti.txt" >"$W/wapiti.out" 2>&1 &
timeout $TOOL_SECONDS dirb http://127.0.0.4:8080/ /usr/share/dirb/wordlists/small.txt -S -r >"$W/dirb.out" 2>&1 &
timeout $TOOL_SECONDS hydra -l admin -P "$W/pw.txt" -t 4 -I -s 8080 127.0.0.5 \\
  http-post-form "/login.php:user=^USER^&pass=^PASS^:F=invalid" >"$W/hydra.out" 2>&1 &
wait \$(jobs -p | grep -v "^\$nginx_pid\\\$")
kill \$nginx_pid; wait \$nginx_pid 2>/dev/null
exit 0
TRAFFIC
timeout $((TOOL_SECONDS + 90)) unshare --net bash "$W/traffic.sh" >"$W/traffic.out" 2>&1
lines=$(wc -l <"$W/access.log" 2>/dev/null || echo 0)
check "nginx logged the traffic ($lines lines)" test "$lines" -gt 1000
bodies=$(awk -F'"' '$8 != "" && $8 != "-"' "$W/access.log" | wc -l)
check "nginx logged request bodies ($bodies lines)" test "$bodies" -gt 100

# The truth, by address. A tool's payload-carrying requests: its request
# target or body carries an encoded or code-like character or "..", or its
# agent or referer carries one that browsers' do not (a quote, < > { } ` |).
awk -F'"' '{ split($1, h, " "); a = h[1]; t = "normal"
       if (a == "127.0.0.2") t = "sqlmap"; else if (a == "127.0.0.3") t = "wapiti"
       else if (a == "127.0.0.4") t = "dirb"; else if (a == "127.0.0.5") t = "hydra"
       q = "\047"
       b = $8 == "-" ? "" : $8
       p = t != "normal" && ($2 ~ /[%<>();|`{}]/ || index($2, q) || index($2, "..") ||
                            b ~ /[%<>();|`{}\\]/ || index(b, q) || index(b, "..") ||
                            $4 ~ /[<>{}`|]/ || index($4, q) || $6 ~ /[<>{}`|]/ || index($6, q)) ? 1 : 0
       print NR "," t "," p }' "$W/access.log" >"$W/truth.csv"
awk -F, '$2 != "normal" { print $1 }' "$W/truth.csv" >"$W/labels.txt"

# The model that never saw the real log, and rule-score without labels.
"$VIGIL" synth --format weblog --events 100000 --seed 1 --truth "$W/synth_truth.csv" -o "$W/synth.log"
cut -d, -f1 "$W/synth_truth.csv" | grep -E '^[0-9]+$' >"$W/synth_labels.txt"
# Its own operating point (probability 0.5), as the README makes it: a
# threshold at 0.5% false alarms on out-of-fold synthetic rows was tried and
# sits far lower (the synthetic classes barely overlap), 21% false alarms on
# the real people's lines sped up 6x.
"$VIGIL" train --data "$W/synth.log" --format weblog --labels "$W/synth_labels.txt" --model gbdt --seed 1 \
  -o "$W/synth.vgm" >"$W/train_synth.out" 2>&1
"$VIGIL" predict --model "$W/synth.vgm" --data "$W/access.log" -o "$W/synth_scores.csv"
"$VIGIL" train --data "$W/access.log" --format weblog --task rule-score --model gbdt --seed 1 \
  -o "$W/rule.vgm" >"$W/train_rule.out" 2>&1
"$VIGIL" predict --model "$W/rule.vgm" --data "$W/access.log" -o "$W/rule_scores.csv"

# metrics SCORES: recall per tool and false alarms at the model's own
# decision and at the threshold of 1% false alarms, and ROC-AUC (plain awk
# and sort: no gawk needed).
metrics() {
  paste -d, <(tail -n +2 "$1" | cut -d, -f2,3) <(cut -d, -f2,3 "$W/truth.csv") >"$W/joined.csv"  # score,decision,tool,payload
  local n thr
  n=$(awk -F, '$3 == "normal"' "$W/joined.csv" | wc -l)
  # The smallest threshold that leaves at most 1% of the normal lines above it.
  thr=$(awk -F, '$3 == "normal" { print $1 }' "$W/joined.csv" | sort -g -r | sed -n "$((n / 100 + 1))p")
  sort -t, -k1,1g "$W/joined.csv" | awk -F, -v thr="$thr" '
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
      split("sqlmap wapiti dirb hydra", tools, " ")
      for (q = 1; q <= 4; q++) { k = tools[q]
        printf "%s lines=%d own=%.4f at1=%.4f payload_lines=%d payload_own=%s payload_at1=%s\n", k, N[k],
          N[k] ? own[k] / N[k] : 0, N[k] ? at1[k] / N[k] : 0, PN[k] + 0,
          PN[k] ? sprintf("%.4f", pown[k] / PN[k]) : "n/a", PN[k] ? sprintf("%.4f", pat1[k] / PN[k]) : "n/a" } }'
}
metrics "$W/synth_scores.csv" >"$W/synth_metrics.txt"
metrics "$W/rule_scores.csv" >"$W/rule_metrics.txt"
echo "synthetic-trained gbdt:"; cat "$W/synth_metrics.txt"
echo "rule-score:"; cat "$W/rule_metrics.txt"
for t in sqlmap wapiti dirb hydra; do
  n=$(awk -F, -v t=$t '$2 == t' "$W/truth.csv" | wc -l)
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
finish
