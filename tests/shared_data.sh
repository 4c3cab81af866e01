# The public data sets the tests read (ctest fixture "shared_data"): say once
# whether they are there and, if not, where they are expected.
dir=$1
missing=()
for f in nsl-kdd/KDDTrain+.txt.gz nsl-kdd/KDDTest+.txt.gz kdd-cup-1999/kddcup.data_10_percent.gz \
         cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz rba-login/rba-dataset-head19.csv.gz \
         threatlens-iplog/network_log.csv.gz; do
  [[ -r $dir/$f ]] || missing+=("$f")
done
if ((${#missing[@]})); then
  echo "FAIL: the public data sets are missing from $dir (${missing[*]}); the tests that read them are not run." \
       "Put ../shared/data beside the project, or set VG_SHARED_DATA to its folder and run cmake again."
  exit 1
fi
echo "ok: public data sets found in $dir"
