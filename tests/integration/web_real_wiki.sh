#!/usr/bin/env bash
# The second real-tools scenario (issue 16), kept apart from everything that
# was tuned: a news site with a wiki of our own making (other paths, other
# parameters, a JSON search API, a file download, a contact form and an
# editors' login whose bodies nginx logs), other tools from Debian and other
# people. As web_real_tools.sh: Debian's nginx on 127.0.0.1:8080 inside
# `unshare --net` with only the loopback up, each client from its own
# loopback address, every tool bounded by `timeout` and by its word list:
#   127.0.0.2 wfuzz with its own injection lists (SQL, XSS, traversal and
#   the mixed list) in three parameters, 127.0.0.3 gobuster (directory
#   mode, wfuzz's common word list), 127.0.0.4 nmap's HTTP scripts (enum,
#   sql-injection, unsafe-output-escaping, shellshock, passwd, methods),
#   127.0.0.5 wfuzz guessing the editors' password by POST;
#   127.0.2.x readers (articles, wiki pages with parentheses and quotes in
#   their titles, searches in several scripts, assets fetched in parallel,
#   a contact message now and then), a mobile app's API client, a feed
#   reader and a load balancer's health check.
# The gbdt trained on `vigil synth --format weblog` and rule-score score it
# (web_real/common.sh); bench/web_real.sh reports both scenarios.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_real/common.sh"
web_real_require nginx wfuzz gobuster nmap
TOOLS="127.0.0.2=wfuzz 127.0.0.3=gobuster 127.0.0.4=nmap 127.0.0.5=wfuzz-login"
TOOL_SECONDS=${VG_WEB_REAL_SECONDS:-60}
W=$WORK
LISTS=/usr/share/wfuzz/wordlist

nav="<a href='/news/article?slug=city-budget&amp;lang=en'>news</a> <a href='/wiki/index.php?title=Main_Page&amp;action=view'>wiki</a> <a href='/user/profile?uid=7'>me</a> <a href='/download?file=report-2025.pdf'>report</a> <form action='/api/v2/search' method='get'><input name='term'><input name='limit' value='10'></form> <form action='/contact' method='post'><input name='name'><textarea name='message'></textarea></form> <form action='/session/new' method='post'><input name='login'><input name='password' type='password'></form>"
web_real_nginx_conf "    location = / { return 200 \"<html><body><h1>Nordlicht</h1>$nav</body></html>\"; }
    location ~ ^/(contact|session/new)\$ { proxy_pass http://127.0.0.1:8081; }
    location ~ ^/(news/article|wiki/index\\.php|user/profile|download)\$ { return 200 \"<html><body>Text. $nav</body></html>\"; }
    location = /api/v2/search { default_type application/json; return 200 '{\"results\":[],\"total\":0}'; }
    location ~ ^/assets/ { return 200 \"/* asset */\"; }
    location ~ ^/(robots\\.txt|feed\\.xml|health|favicon\\.ico)\$ { return 200 \"ok\"; }" \
  "<html><body>Thank you. $nav</body></html>"

# Readers: a page, then its assets fetched at once (browsers open several
# connections), a pause to read; searches and wiki titles with non-ASCII
# letters, parentheses, quotes and ampersands; a contact message with
# ordinary punctuation now and then.
cat >"$W/read.sh" <<'READ'
#!/usr/bin/env bash
addr=$1 n=$2 ua=$3
base="http://$addr:8080"
slugs=(city-budget heat-wave-2025 local-elections k%C3%B6ln-marathon caf%C3%A9-culture rail-strike-ends)
titles=(Main_Page C%2B%2B_%28programming_language%29 O%27Reilly_Media Fran%C3%A7ais Rock_%26_Roll Z%C3%BCrich
        %D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0 Caf%C3%A9 Ni%C3%B1o_%28climate%29 100%25_Club)
terms=(weather caf%C3%A9+prices %22city+council%22 M%C3%BCnchen tax+%26+budget what%27s+on
       %E6%9D%B1%E4%BA%AC train+times 50%25+discount elections%3F)
get() { curl -s -o /dev/null --max-time 3 -A "$ua" ${2:+-e "$2"} "$1"; }
prev="$base/"
for ((i = 0; i < n; i++)); do
  case $((RANDOM % 6)) in
    0) page="/" ;;
    1|2) page="/news/article?slug=${slugs[RANDOM % ${#slugs[@]}]}&lang=$([[ $((RANDOM % 3)) == 0 ]] && echo de || echo en)" ;;
    3) page="/wiki/index.php?title=${titles[RANDOM % ${#titles[@]}]}&action=$([[ $((RANDOM % 5)) == 0 ]] && echo history || echo view)" ;;
    4) page="/api/v2/search?term=${terms[RANDOM % ${#terms[@]}]}&limit=10" ;;
    5) page="/user/profile?uid=$((RANDOM % 40 + 1))" ;;
  esac
  get "$base$page" "$prev"
  if ((RANDOM % 2 == 0)); then
    for a in /assets/css/site.css /assets/js/main.js /assets/img/header.jpg /assets/img/icon-$((RANDOM % 8)).svg; do
      get "$base$a" "$base$page" &
    done
    wait
  fi
  if ((RANDOM % 20 == 0)); then
    curl -s -o /dev/null --max-time 3 -A "$ua" -e "$base/" \
      --data "name=Ana+Garc%C3%ADa&message=Hi%21+I+can%27t+open+the+report+%28PDF%29%3B+could+you+re-send+it%3F+Thanks+%26+regards" "$base/contact"
  fi
  if ((RANDOM % 25 == 0)); then
    curl -s -o /dev/null --max-time 3 -A "$ua" -e "$base/" --data "login=editor$((RANDOM % 5))&password=Winter2025%21" "$base/session/new"
  fi
  prev="$base$page"
  sleep "0.$((RANDOM % 9 + 1))"
done
READ

seq 1 300 | sed 's/^/guess/' >"$W/pw.txt"
{ web_real_netns_start 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 $(seq -f '127.0.2.%g' 1 13); cat <<TRAFFIC
uas=("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
     "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
     "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
     "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
for u in \$(seq 1 10); do timeout $TOOL_SECONDS bash "$W/read.sh" 127.0.2.\$u 120 "\${uas[u % 5]}" & done
( for i in \$(seq 60); do curl -s -o /dev/null -A "Nordlicht/3.2 (Android 13; okhttp/4.12.0)" "http://127.0.2.11:8080/api/v2/search?term=headlines&limit=20&page=\$((i % 4 + 1))"; sleep 0.\$((RANDOM % 9 + 1)); done ) &
( for i in \$(seq 20); do curl -s -o /dev/null -A "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 3 subscribers)" http://127.0.2.12:8080/feed.xml; sleep 2; done ) &
( for i in \$(seq 60); do curl -s -o /dev/null -A "ELB-HealthChecker/2.0" http://127.0.2.13:8080/health; sleep 1; done ) &
for l in SQL XSS Traversal; do
  case \$l in SQL) u="http://127.0.0.2:8080/news/article?slug=FUZZ&lang=en" ;; XSS) u="http://127.0.0.2:8080/api/v2/search?term=FUZZ&limit=10" ;;
              Traversal) u="http://127.0.0.2:8080/download?file=FUZZ" ;; esac
  timeout $TOOL_SECONDS wfuzz -t 2 -z file,$LISTS/Injections/\$l.txt "\$u" >"$W/wfuzz-\$l.out" 2>&1 &
done
timeout $TOOL_SECONDS gobuster dir -u http://127.0.0.3:8080/ -w $LISTS/general/common.txt -t 4 -q --no-error >"$W/gobuster.out" 2>&1 &
timeout $TOOL_SECONDS nmap -n -Pn -sT -p 8080 --script http-enum,http-sql-injection,http-unsafe-output-escaping,http-shellshock,http-passwd,http-methods \\
  127.0.0.4 >"$W/nmap.out" 2>&1 &
timeout $TOOL_SECONDS wfuzz -t 4 -z file,"$W/pw.txt" -d "login=editor&password=FUZZ" http://127.0.0.5:8080/session/new >"$W/wfuzz-login.out" 2>&1 &
TRAFFIC
} >"$W/traffic.sh"
web_real_run "$TOOL_SECONDS"
web_real_score
finish
