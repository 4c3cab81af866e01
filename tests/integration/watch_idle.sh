# vigil watch scores lines in blocks while they keep coming, and a block must
# go out as soon as input goes idle: with stdin held open (a FIFO whose
# writer stays), one attack line must produce its alert on stdout and in the
# store without more input and without the end of input. Also: a backlog
# through stdin gives the same alerts as scoring each line alone, with one or
# two threads. Bounded waits only (no timing is checked).
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz

expect_ok "train a tree on NSL-KDD 20%" "$VIGIL" train --data "$TRAIN" --format kdd --model tree -o "$WORK/tree.vgm"
ATTACK="0,tcp,private,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,229,10,0.00,0.00,1.00,1.00,0.04,0.06,0.00,255,10,0.04,0.06,0.00,0.00,0.00,0.00,1.00,1.00,neptune,21"

for threads in 1 2; do
  mkfifo "$WORK/in$threads"
  "$VIGIL" watch --model "$WORK/tree.vgm" --threads "$threads" --alerts "$WORK/a$threads.db" - \
    <"$WORK/in$threads" >"$WORK/out$threads" 2>"$WORK/err$threads" &
  WPID=$!
  exec 7>"$WORK/in$threads"      # the writer stays: no end of input
  echo "$ATTACK" >&7
  got=0
  for _ in $(seq 1 100); do      # up to 10 s
    if grep -q '"line":1,' "$WORK/out$threads" 2>/dev/null; then got=1; break; fi
    sleep 0.1
  done
  if ((got)); then pass "threads $threads: the alert of a lone line is out while input stays open"; else
    fail "threads $threads: no alert within 10 s of a lone line: $(cat "$WORK/err$threads")"; fi
  stored=$("$VIGIL" alerts --db "$WORK/a$threads.db" --json 2>/dev/null | grep -c '"line":1,')
  if [[ $stored == 1 ]]; then pass "threads $threads: and it is committed to the store"; else
    fail "threads $threads: store holds $stored alerts for line 1"; fi
  exec 7>&-
  wait "$WPID" || fail "threads $threads: watch exit $?"
done

zcat "$TEST" | head -n 5000 >"$WORK/backlog"
"$VIGIL" watch --model "$WORK/tree.vgm" --explain --batch 1 - <"$WORK/backlog" | sed 's/"time":[0-9.]*,//' >"$WORK/one"
for args in "--batch 1000" "--batch 7 --threads 2" "--threads 2"; do
  # shellcheck disable=SC2086
  "$VIGIL" watch --model "$WORK/tree.vgm" --explain $args - <"$WORK/backlog" | sed 's/"time":[0-9.]*,//' >"$WORK/blocks"
  n=$(wc -l <"$WORK/one")
  if ((n > 100)) && cmp -s "$WORK/one" "$WORK/blocks"; then pass "$args: the same $n alerts as line by line"; else
    fail "$args: alerts differ from line by line ($n vs $(wc -l <"$WORK/blocks"))"; fi
done
finish
