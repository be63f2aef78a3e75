# mpi_run.sh: sourced by the MPI tests. run_mpi P ARGS... runs ARGS under
# mpirun with P ranks on this machine: --oversubscribe (more ranks than
# cores), --bind-to none (each rank runs its own threads), and the two
# variables Open MPI wants before it runs as root (containers, CI).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# no "no network interface" chatter on a machine without one
export OMPI_MCA_btl=self,vader
run_mpi() {
    p=$1; shift
    timeout 120 "$MPIEXEC" --oversubscribe --bind-to none -np "$p" "$@"
}

# close A.csv B.csv TOL [VAL_TOL]: every column but seconds agrees within
# TOL, relative (absolute below 1e-3), the val_ columns within VAL_TOL
# (default TOL); prints the largest differences found, training and val_
close() {
    awk -F, -v tol="$3" -v vtol="${4:-$3}" '
        NR == FNR { a[FNR] = $0; next }
        FNR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
        {
            n = split(a[FNR], x, ",")
            if (n != NF) { print "different columns at line " FNR; bad = 1; exit }
            for (i = 1; i < NF; i++) {                  # the last column is seconds
                d = $i - x[i]; if (d < 0) d = -d
                m = x[i] < 0 ? -x[i] : x[i]; if (m < 1e-3) m = 1e-3
                v = name[i] ~ /^val_/
                if (v && d / m > wv) wv = d / m
                if (!v && d / m > wt) wt = d / m
                if (d / m > (v ? vtol : tol)) { print "epoch " $1 " " name[i] ": " x[i] " vs " $i; bad = 1 }
            }
        }
        END { printf "largest relative difference: training columns %.3g, val_ columns %.3g\n", wt, wv; exit bad }' "$1" "$2"
}
