# Shell helpers shared by run.sh and nginx.sh (sourced).

# now_ms: milliseconds of the wall clock.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	[ -r "/proc/$1/stat" ] || return 1
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
