# Sourced by the scripts that run the real fapolicyd beside fanfilter
# (bench/run.sh, bench/allowlist.sh, Tests/Differential/fapolicyd.sh), each in
# a private mount namespace of its own: fapolicyd's configuration is written
# to a folder of the script's and bind-mounted over /etc/fapolicyd, and /run
# and /var/lib/fapolicyd get fresh tmpfs mounts, so the machine's own
# fapolicyd configuration and state are never touched.

# fapolicyd_sandbox FOLDER INTEGRITY: writes FOLDER/fapolicyd.conf
# (permissive, watch_fs = tmpfs, trust = file, the given integrity, and the
# nice_val fapolicyd ships, 14, or FAPOLICYD_NICE_VAL) and puts FOLDER in
# place of /etc/fapolicyd. FOLDER/compiled.rules and
# FOLDER/fapolicyd.trust are the caller's to write, before or after.
fapolicyd_sandbox() {
    mkdir -p "$1/rules.d" "$1/trust.d"
    cat > "$1/fapolicyd.conf" <<C
permissive = 1
nice_val = ${FAPOLICYD_NICE_VAL:-14}
q_size = 640
uid = root
gid = root
do_stat_report = 0
detailed_report = 0
db_max_size = 50
subj_cache_size = 1549
obj_cache_size = 8191
watch_fs = tmpfs
trust = file
integrity = $2
syslog_format = rule,dec,perm,auid,pid,exe,:,path,ftype,trust
rpm_sha256_only = 0
allow_filesystem_mark = 0
C
    [ -e "$1/fapolicyd.trust" ] || : > "$1/fapolicyd.trust"
    mount --bind "$1" /etc/fapolicyd
    mount -t tmpfs tmpfs /run && mkdir -p /run/fapolicyd
    mount -t tmpfs tmpfs /var/lib/fapolicyd
}

# fapolicyd_sample_rules DEST RULE...: copies Debian's sample rule files
# (names without .rules) into DEST, for fanfilter's rules_dir, and prints them
# compiled into one file (comments and blank lines dropped), as fagenrules
# would, for fapolicyd.
fapolicyd_sample_rules() {
    local dest=$1 r
    shift
    for r in "$@"; do
        cp "/usr/share/fapolicyd/sample-rules/$r.rules" "$dest/"
        grep -v '^#' "/usr/share/fapolicyd/sample-rules/$r.rules" | grep -v '^[[:space:]]*$'
    done
}
