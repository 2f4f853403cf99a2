# SPDX-License-Identifier: GPL-2.0-only
# bash completion for cgfw(8). Installed as "cgfw" in bash-completion's
# completionsdir, which loads it the first time `cgfw` is completed.
#
# Commands, verbs and each command's options mirror cli/cmd.c and cli/opt.c;
# tests/packaging/test_completion.sh checks them against `cgfw help`, so a
# command or option added there without a line here fails the tests.
#
# Cgroup paths are completed under the cgroup2 mount of /proc/self/mountinfo
# (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts), interfaces from
# /sys/class/net, policy files as *.yaml and *.yml. The tests point
# _CGFW_MOUNTINFO and _CGFW_SYSNET at fakes.

_cgfw_commands="attach detach block unblock allow unallow default list seen status explain exec
tc tproxy inbound redirect monitor metrics policy restore save oci-hook reset help version"

# The verbs of an object; nothing for a plain command.
_cgfw_verbs()
{
	case $1 in
	tc) echo "attach detach list sync" ;;
	tproxy | inbound | redirect) echo "add del list flush" ;;
	policy) echo "check apply diff show" ;;
	esac
}

# The options of a command ("block") or verb ("tproxy add"), without the
# global ones. The hidden aliases (del: delete, list: show) take the same.
_cgfw_command_opts()
{
	case $1 in
	block | unblock | allow | unallow) echo "--cgroup --ingress --egress --proto --port --from-file" ;;
	default) echo "--cgroup --ingress --egress --audit --enforce" ;;
	list) echo "--cgroup --stats" ;;
	seen | exec) echo "--cgroup" ;;
	explain) echo "--cgroup --iface --ingress --egress --from" ;;
	monitor) echo "--count" ;;
	metrics) echo "--listen" ;;
	reset) echo "--yes" ;;
	"tc attach") echo "--stateful --icmp --no-ssh --mode" ;;
	"tc sync") echo "--watch" ;;
	"tproxy add" | "inbound add" | "redirect add")
		echo "--dst --src --proto --ports --to --iface --from-file" ;;
	"tproxy del" | "inbound del" | "redirect del" | \
		"tproxy delete" | "inbound delete" | "redirect delete")
		echo "--dst --src --proto --ports --iface --from-file" ;;
	esac
}

# Options that take a value (as the next word or after '=').
_cgfw_takes_value()
{
	case $1 in
	--cgroup | --proto | --port | --from-file | --mode | --dst | --src | --ports | --to | \
		--iface | --count | --listen | --from | --local) return 0 ;;
	esac
	return 1
}

# The mount point of the cgroup2 filesystem, unescaped ("\040" is a space).
_cgfw_cgroup2_mount()
{
	local line i
	local -a f
	while IFS=' ' read -r -a f; do
		for ((i = 6; i < ${#f[@]}; i++)); do
			[[ ${f[i]} == - ]] && break
		done
		if [[ ${f[i + 1]-} == cgroup2 ]]; then
			line=${f[4]//%/%%}
			# shellcheck disable=SC2059 # the octal escapes of mountinfo
			printf "$line"
			return 0
		fi
	done <"${_CGFW_MOUNTINFO:-/proc/self/mountinfo}"
	return 1
}

# Directories of the cgroup2 filesystem: relative to its mount (app.slice/),
# or absolute. A trailing slash lets the next TAB descend; cgfw accepts it.
_cgfw_compgen_cgroups()
{
	local cur=$1 mnt base d
	local -a dirs
	mnt=$(_cgfw_cgroup2_mount) || return 0
	if [[ $cur == /* ]]; then
		base=
	else
		base=${mnt%/}/
	fi
	mapfile -t dirs < <(compgen -d -- "$base$cur")
	for d in "${dirs[@]}"; do
		COMPREPLY+=("${d#"$base"}/")
	done
	((${#COMPREPLY[@]})) && compopt -o nospace 2>/dev/null
	return 0
}

# Network interfaces; "nolo" leaves out loopback (tc attach refuses it).
_cgfw_compgen_ifaces()
{
	local cur=$1 nolo=${2-} d n
	for d in "${_CGFW_SYSNET:-/sys/class/net}"/*; do
		[[ -e $d ]] || continue
		n=${d##*/}
		[[ -n $nolo && $n == lo ]] && continue
		[[ $n == "$cur"* ]] && COMPREPLY+=("$n")
	done
	return 0
}

_cgfw()
{
	local cur prev words cword split
	_init_completion -s || return

	local i w cmd='' cmdi=0 path='' opts
	# The command is the first word that is not a global option.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		[[ $w == -* ]] && continue
		cmd=$w
		cmdi=$i
		break
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--json --pretty --help --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$_cgfw_commands" -- "$cur")
		fi
		return
	fi

	local verbs first=$((cmdi + 1))
	verbs=$(_cgfw_verbs "$cmd")
	path=$cmd
	if [[ -n $verbs ]]; then
		# An object: its verb comes right after it.
		if ((cword == cmdi + 1)); then
			if [[ $cur == -* ]]; then
				mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
			fi
			return
		fi
		path="$cmd ${words[cmdi + 1]}"
		first=$((cmdi + 2))
	fi

	# From `exec --`, or exec's first argument, on: a command line.
	if [[ $cmd == exec ]]; then
		for ((i = first; i <= cword; i++)); do
			w=${words[i]}
			if [[ $w == -- ]] && ((i < cword)); then
				_command_offset $((i + 1))
				return
			fi
			if [[ $w != -* ]] && ! _cgfw_takes_value "${words[i - 1]}"; then
				_command_offset "$i"
				return
			fi
		done
	fi

	# The value of an option.
	case $prev in
	--cgroup)
		_cgfw_compgen_cgroups "$cur"
		return
		;;
	--proto)
		case $path in
		tproxy* | inbound* | redirect*) mapfile -t COMPREPLY < <(compgen -W "tcp udp" -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -W "tcp udp icmp" -- "$cur") ;;
		esac
		return
		;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W "auto tcx clsact" -- "$cur")
		return
		;;
	--iface)
		_cgfw_compgen_ifaces "$cur"
		return
		;;
	--from-file)
		_filedir
		return
		;;
	--port | --ports | --dst | --src | --to | --count | --listen | --from | --local)
		return
		;;
	esac
	[[ $split == true ]] && return

	if [[ $cur == -* ]]; then
		opts="$(_cgfw_command_opts "$path") --json --pretty --help"
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi

	# The how-manyth positional argument this word is (option values skipped).
	local npos=0
	for ((i = first; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			continue
		fi
		_cgfw_takes_value "${words[i - 1]}" && [[ ${words[i - 1]} != *=* ]] && continue
		((npos++))
	done

	case $path in
	attach | detach)
		((npos == 0)) && _cgfw_compgen_cgroups "$cur"
		;;
	default)
		((npos == 0)) && mapfile -t COMPREPLY < <(compgen -W "allow deny" -- "$cur")
		;;
	"tc attach" | "tc detach")
		((npos == 0)) && _cgfw_compgen_ifaces "$cur" nolo
		;;
	"policy check" | "policy apply" | "policy diff")
		_filedir '@(yaml|yml)'
		;;
	oci-hook)
		((npos == 0)) && mapfile -t COMPREPLY < <(compgen -W "createRuntime poststop" -- "$cur")
		;;
	help)
		if ((npos == 0)); then
			mapfile -t COMPREPLY < <(compgen -W "$_cgfw_commands" -- "$cur")
		elif ((npos == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_cgfw_verbs "${words[first]}")" -- "$cur")
		fi
		;;
	esac
} &&
	complete -F _cgfw cgfw
