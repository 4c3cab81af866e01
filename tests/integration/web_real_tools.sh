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
# Then web_real/common.sh scores the log (a gbdt trained on `vigil synth
# --format weblog` only, and rule-score on the real log without labels).
# Skipped (exit 77) only when a tool is missing or namespaces are not allowed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_real/common.sh"
web_real_require nginx sqlmap wapiti dirb hydra
TOOLS="127.0.0.2=sqlmap 127.0.0.3=wapiti 127.0.0.4=dirb 127.0.0.5=hydra"
TOOL_SECONDS=${VG_WEB_REAL_SECONDS:-75}
W=$WORK
mkdir -p "$W/site"

links="<a href='/item.php?id=1'>item</a> <a href='/products.php?cat=1&amp;page=1'>list</a> <a href='/cart.php?id=3&amp;qty=1'>cart</a> <a href='/api/items?id=2'>api</a> <a href='/search?q=shoes'>search</a> <form action='/search' method='get'><input name='q' value='x'></form> <form action='/login.php' method='post'><input name='user' value='u'><input name='pass' type='password' value='p'></form>"
web_real_nginx_conf "    location = / { return 200 \"<html><body><h1>Shop</h1>$links</body></html>\"; }
    location = /login.php { proxy_pass http://127.0.0.1:8081; }
    location ~ ^/(item\\.php|cart\\.php|products\\.php|search|api/items|account\\.php)\$ { return 200 \"<html><body>Page. $links</body></html>\"; }
    location ~ ^/(static|img)/ { return 200 \"/* asset */\"; }
    location ~ ^/(robots\\.txt|sitemap\\.xml|health|favicon\\.ico)\$ { return 200 \"ok\"; }" \
  "<html><body>Login invalid. $links</body></html>"

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

# Inside the namespace, in the work folder (hydra leaves its hydra.restore
# in the current one).
{ web_real_netns_start 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 $(seq -f '127.0.1.%g' 1 14); cat <<TRAFFIC
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
TRAFFIC
} >"$W/traffic.sh"
web_real_run "$TOOL_SECONDS"
web_real_score
finish
