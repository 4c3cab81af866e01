# Detection per attack kind: a ground-truth file against `vigil predict`'s
# output. Used by tests/integration/{login,weblog}.sh and bench/synth_detect.sh.
#
#   awk -F, -v positive=LABEL [-v offset=N] -f tools/per_kind.awk TRUTH PRED
#
# TRUTH is `vigil synth --truth`: "line,kind" for each attack line, every other
# line is normal. PRED is `vigil predict -o`: a header, then "line,score,
# prediction" for a log (line: the event's line in the file, header counted)
# or "row,score,prediction" for a table, whose row's file line is row + offset
# (1 for a file with a header line, 0 without). An event is detected when its
# prediction is LABEL.
#
# Prints space-separated lines: one per attack kind, sorted by name,
#   kind lines detected recall precision
# where a kind's precision counts its hits against them plus every false
# alarm (so it reads "of the alerts this kind would get, how many are real");
# then "all" over every attack line the same way; then
#   normal lines false_alarms false_alarm_rate
FNR == NR { kind[$1] = $2; next }
FNR == 1 { by_line = $1 == "line"; next }
{
    at = by_line ? $1 : $1 + offset
    k = (at in kind) ? kind[at] : "normal"
    lines[k]++
    if ($3 == positive) hits[k]++
}
END {
    fp = hits["normal"] + 0
    n = 0
    for (k in lines) if (k != "normal") names[++n] = k
    for (i = 2; i <= n; i++)   # insertion sort: a handful of kinds
        for (j = i; j > 1 && names[j] < names[j - 1]; j--) { t = names[j]; names[j] = names[j - 1]; names[j - 1] = t }
    all_lines = 0; all_hits = 0
    for (i = 1; i <= n; i++) {
        k = names[i]; h = hits[k] + 0
        all_lines += lines[k]; all_hits += h
        printf "%s %d %d %.4f %.4f\n", k, lines[k], h, h / lines[k], (h + fp) ? h / (h + fp) : 0
    }
    printf "all %d %d %.4f %.4f\n", all_lines, all_hits, all_lines ? all_hits / all_lines : 0,
           (all_hits + fp) ? all_hits / (all_hits + fp) : 0
    printf "normal %d %d %.6f\n", lines["normal"], fp, lines["normal"] ? fp / lines["normal"] : 0
}
