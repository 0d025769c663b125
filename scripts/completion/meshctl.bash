# shellcheck shell=bash
# bash completion for meshctl(1), installed as <datadir>/bash-completion/completions/meshctl
# (bash-completion loads it on first use; without bash-completion, source this file).
# Completes options, commands, node names (the sockets in /run/meshd), stats groups and,
# for commands that take a key, the keys the node holds under what is typed so far (one
# `meshctl keys PREFIX 100` call, 1 s timeout, through the -s/-n typed on the line).
# Needs nothing from the bash-completion package; keys with ':' complete as one word.

_meshctl_nodes() {
  local s
  for s in /run/meshd/*.sock; do
    [ -S "$s" ] && s=${s##*/} && echo "${s%.sock}"
  done
}

_meshctl() {
  local line=${COMP_LINE:0:COMP_POINT} cur prev cmd='' argn=0 i
  local -a words conn=() reply=()
  read -ra words <<<"$line"
  [[ $line == *[[:space:]] ]] && words+=('')
  cur=${words[-1]}
  prev=${words[-2]:-}
  COMPREPLY=()
  case $prev in
    -s|--socket) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
    -n|--node) mapfile -t COMPREPLY < <(compgen -W "$(_meshctl_nodes)" -- "$cur"); return 0 ;;
    -t|--timeout|-e|--epoch-prefix) return 0 ;;
  esac
  # the command, the connection options before it, and which argument is being typed
  for ((i = 1; i < ${#words[@]} - 1; i++)); do
    if [ -n "$cmd" ]; then
      argn=$((argn + 1))
      continue
    fi
    case ${words[i]} in
      -s|--socket|-n|--node) conn+=("${words[i]}" "${words[i + 1]}"); i=$((i + 1)) ;;
      -t|--timeout|-e|--epoch-prefix) i=$((i + 1)) ;;
      -*) ;;
      *) cmd=${words[i]} ;;
    esac
  done
  if [ -z "$cmd" ] && [[ $cur == -* ]]; then
    mapfile -t reply < <(compgen -W "--socket --node --json --hex --base64 --timeout
      --epoch-prefix --version --help" -- "$cur")
  elif [ -z "$cmd" ]; then
    mapfile -t reply < <(compgen -W "put get del rl-set keys watch publish members stats
      health metrics" -- "$cur")
  elif [ "$argn" -eq 0 ]; then
    case $cmd in
      put|get|del|rl-set|keys|watch|publish)
        mapfile -t reply < <(meshctl "${conn[@]}" --timeout 1000 keys "$cur" 100 2>/dev/null) ;;
      stats) mapfile -t reply < <(compgen -W "net ctl merge crdt swim stream" -- "$cur") ;;
    esac
  elif [ "$cmd" = publish ] && [ "$argn" -eq 2 ]; then
    mapfile -t reply < <(compgen -W "$(_meshctl_nodes)" -- "$cur")
  fi
  # bash splits words at ':' (COMP_WORDBREAKS): replace only what follows the last one
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    reply=("${reply[@]#"${cur%"${cur##*:}"}"}")
  fi
  COMPREPLY=("${reply[@]}")
}
complete -F _meshctl meshctl
